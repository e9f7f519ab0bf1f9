"""Overview: is each pair flowing? Orders in and out, end-to-end latency, dead letters by reason,
consumer lag, connector calls and errors, target health. Replaces the hand-written overview.json
(its flow, backpressure and connector panels are kept here or moved to the runtime dashboard)."""
from __future__ import annotations

from grafana_foundation_sdk.models import dashboard as gdm

from .panels import Ids, graph, new_dashboard, quantile, rate, row, sel, single

UID = "sagebridge-overview"


def build() -> gdm.Dashboard:
    ids = Ids()
    d = new_dashboard(UID, "Sagebridge overview",
                      "Per pair: orders in and out, latency, dead letters, lag and the calls to stores and ERPs.")
    d = (d.with_row(row(ids, "Health"))
         .with_panel(single(ids, "Targets up", "up" + sel(), "{{job}}", width=8,
                            description="1 per healthy scrape target (0: down, see the target-down alert)"))
         .with_panel(single(ids, "Dead letters (range)", f"sum(increase(sagebridge_dlq_records_total{sel()}[$__range]))",
                            "dead letters", width=8))
         .with_panel(single(ids, "Consumer lag (messages)", f"sum(sagebridge_consumer_lag_messages{sel()})", "lag",
                            width=8)))
    d = (d.with_row(row(ids, "Orders"))
         .with_panel(graph(ids, "Order events in / s (webhooks and polls)", [
             (rate("sagebridge_webhook_requests_total", "pair, storefront, status"), "{{pair}} webhook {{storefront}} {{status}}"),
             (rate("sagebridge_source_records_total", "pair, source, outcome"), "{{pair}} {{source}} {{outcome}}")],
             unit="reqps"))
         .with_panel(graph(ids, "Records consumed / produced / s", [
             (rate("sagebridge_events_consumed_total", "pair, service, topic"), "{{pair}} {{service}} in {{topic}}"),
             (rate("sagebridge_events_produced_total", "pair, service, topic"), "{{pair}} {{service}} out {{topic}}")],
             unit="ops"))
         .with_panel(graph(ids, "ERP writes / s by outcome", [
             (rate("sagebridge_connector_requests_total", "pair, connector, outcome",
                   'connector=~"sage300|intacct|sagepro"'), "{{pair}} {{connector}} {{outcome}}")], unit="reqps")))
    d = (d.with_row(row(ids, "Latency"))
         .with_panel(graph(ids, "End-to-end latency p50 / p99", [
             (quantile(0.5, "sagebridge_end_to_end_latency_seconds", "pair, service, topic"), "p50 {{pair}} {{service}} {{topic}}"),
             (quantile(0.99, "sagebridge_end_to_end_latency_seconds", "pair, service, topic"), "p99 {{pair}} {{service}} {{topic}}")],
             unit="s", description="Source event time to processed, per consuming service", width=12))
         .with_panel(graph(ids, "Processing duration p50 / p99", [
             (quantile(0.5, "sagebridge_processing_duration_seconds", "pair, service, topic"), "p50 {{pair}} {{service}} {{topic}}"),
             (quantile(0.99, "sagebridge_processing_duration_seconds", "pair, service, topic"), "p99 {{pair}} {{service}} {{topic}}")],
             unit="s", width=12)))
    d = (d.with_row(row(ids, "Errors and lag"))
         .with_panel(graph(ids, "Dead-lettered records / s by reason", [
             (rate("sagebridge_dlq_records_total", "pair, service, topic, reason"), "{{pair}} {{service}} {{reason}}")],
             unit="ops", stack=True))
         .with_panel(graph(ids, "Consumer lag", [
             (f"sum by (pair, service, topic) (sagebridge_consumer_lag_messages{sel()})", "{{pair}} {{service}} {{topic}}")],
             unit="short"))
         .with_panel(graph(ids, "ERP totals mismatched / needing attention", [
             (f"sum by (pair, connector) (increase(sagebridge_erp_total_mismatch_total{sel()}[$__rate_interval]))",
              "mismatch {{pair}} {{connector}}"),
             (f"sum by (pair, connector, change) (increase(sagebridge_erp_needs_attention_total{sel()}[$__rate_interval]))",
              "attention {{pair}} {{connector}} {{change}}")], unit="short")))
    d = (d.with_row(row(ids, "Connectors"))
         .with_panel(graph(ids, "Connector calls / s by outcome", [
             (rate("sagebridge_connector_requests_total", "pair, connector, operation, outcome"),
              "{{pair}} {{connector}} {{operation}} {{outcome}}")], unit="reqps"))
         .with_panel(graph(ids, "Connector errors / s", [
             (rate("sagebridge_connector_requests_total", "pair, connector, operation, outcome",
                   'outcome!~"2.."'), "{{pair}} {{connector}} {{operation}} {{outcome}}")], unit="reqps",
             description="Every answer other than 2xx (timeouts, 4xx, 5xx, faults)"))
         .with_panel(graph(ids, "Connector latency p50 / p99", [
             (quantile(0.5, "sagebridge_connector_request_duration_seconds", "pair, connector, operation"), "p50 {{connector}} {{operation}}"),
             (quantile(0.99, "sagebridge_connector_request_duration_seconds", "pair, connector, operation"), "p99 {{connector}} {{operation}}")],
             unit="s")))
    return d.build()
