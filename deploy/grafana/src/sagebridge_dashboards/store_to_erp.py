"""Store → ERP: orders, customers and payments from the storefront into the ERP. Follows one
record's path: webhook or poll (ingest), mapping (transform), the ERP write (erp-writer), and where
records leave the path (dead letters, stale versions dropped, totals that do not match)."""
from __future__ import annotations

from grafana_foundation_sdk.models import dashboard as gdm

from .panels import Ids, graph, new_dashboard, quantile, rate, row

UID = "sagebridge-store-to-erp"
ERP = 'connector=~"sage300|intacct|sagepro"'


def build() -> gdm.Dashboard:
    ids = Ids()
    d = new_dashboard(UID, "Sagebridge store → ERP",
                      "Storefront events through ingest and transform into the ERP writer, per pair.")
    d = (d.with_row(row(ids, "Ingest"))
         .with_panel(graph(ids, "Webhook requests / s by status", [
             (rate("sagebridge_webhook_requests_total", "pair, storefront, status"), "{{pair}} {{storefront}} {{status}}")],
             unit="reqps", description="401/403: signature or token refused; 5xx: the broker did not take the event"))
         .with_panel(graph(ids, "Polled source records / s", [
             (rate("sagebridge_source_records_total", "pair, service, source, outcome"), "{{pair}} {{source}} {{outcome}}")],
             unit="ops"))
         .with_panel(graph(ids, "Source polls failed / s", [
             (rate("sagebridge_source_cycle_failures_total", "pair, service, source"), "{{pair}} {{service}} {{source}}")],
             unit="ops", description="A whole poll failed (source down); retried with backoff")))
    d = (d.with_row(row(ids, "Transform"))
         .with_panel(graph(ids, "Transform in / out / s", [
             (rate("sagebridge_events_consumed_total", "pair, topic", 'service="transform"'), "{{pair}} in {{topic}}"),
             (rate("sagebridge_events_produced_total", "pair, topic", 'service="transform"'), "{{pair}} out {{topic}}")],
             unit="ops"))
         .with_panel(graph(ids, "Stale store versions dropped / s", [
             (rate("sagebridge_stale_versions_dropped_total", "pair, storefront, entity, reason"),
              "{{pair}} {{storefront}} {{entity}} {{reason}}")],
             unit="ops", description="Repeats and out-of-order versions not mapped again"))
         .with_panel(graph(ids, "Transform dead letters / s by reason", [
             (rate("sagebridge_dlq_records_total", "pair, topic, reason", 'service="transform"'), "{{pair}} {{topic}} {{reason}}")],
             unit="ops", stack=True)))
    d = (d.with_row(row(ids, "ERP writer"))
         .with_panel(graph(ids, "ERP calls / s by outcome", [
             (rate("sagebridge_connector_requests_total", "pair, connector, operation, outcome", ERP),
              "{{pair}} {{connector}} {{operation}} {{outcome}}")], unit="reqps"))
         .with_panel(graph(ids, "ERP call latency p50 / p99", [
             (quantile(0.5, "sagebridge_connector_request_duration_seconds", "pair, connector, operation", ERP),
              "p50 {{connector}} {{operation}}"),
             (quantile(0.99, "sagebridge_connector_request_duration_seconds", "pair, connector, operation", ERP),
              "p99 {{connector}} {{operation}}")], unit="s"))
         .with_panel(graph(ids, "ERP writer dead letters / s by reason", [
             (rate("sagebridge_dlq_records_total", "pair, topic, reason", 'service="erp-writer"'), "{{pair}} {{topic}} {{reason}}")],
             unit="ops", stack=True))
         .with_panel(graph(ids, "Order to ERP latency p50 / p99", [
             (quantile(0.5, "sagebridge_end_to_end_latency_seconds", "pair, topic", 'service="erp-writer"'), "p50 {{pair}} {{topic}}"),
             (quantile(0.99, "sagebridge_end_to_end_latency_seconds", "pair, topic", 'service="erp-writer"'), "p99 {{pair}} {{topic}}")],
             unit="s", description="Storefront event time to the ERP document written"))
         .with_panel(graph(ids, "ERP documents: totals mismatch / store changed after", [
             (rate("sagebridge_erp_total_mismatch_total", "pair, connector"), "mismatch {{pair}} {{connector}}"),
             (rate("sagebridge_erp_needs_attention_total", "pair, connector, change"), "{{change}} {{pair}} {{connector}}")],
             unit="ops"))
         .with_panel(graph(ids, "Intacct API transactions / s", [
             (rate("sagebridge_intacct_api_transactions_total", "pair, function, purpose"), "{{pair}} {{function}} {{purpose}}"),
             (rate("sagebridge_intacct_relogins_total", "pair"), "relogin {{pair}}")],
             unit="ops", description="Intacct bills per transaction (intacct.md §5)")))
    return d.build()
