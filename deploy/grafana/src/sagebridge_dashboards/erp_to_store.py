"""ERP → store: stock, products, shipments and order status from the ERP back to the storefront.
Shows how far change capture is behind (CDC lag, scan times), how much the storefront writer
coalesces (superseded records never written), and the store write rate against its rate limit."""
from __future__ import annotations

from grafana_foundation_sdk.models import dashboard as gdm

from .panels import RATE, Ids, graph, new_dashboard, rate, row, sel

UID = "sagebridge-erp-to-store"
STORE_LIMITS = 'target=~"(xcart|shift4shop|threedcart):.*"'


def build() -> gdm.Dashboard:
    ids = Ids()
    d = new_dashboard(UID, "Sagebridge ERP → store",
                      "ERP change capture through transform to the storefront writer, per pair.")
    d = (d.with_row(row(ids, "Change capture"))
         .with_panel(graph(ids, "CDC lag", [
             (f"max by (pair, table) (sagebridge_cdc_lag_seconds{sel()})", "{{pair}} {{table}}")],
             unit="s", description="Now minus the stamp of the newest row read while a scan still has rows (0 at the end)"))
         .with_panel(graph(ids, "Snapshot scan duration / age", [
             (f"max by (pair, table) (sagebridge_cdc_scan_seconds{sel()})", "scan {{pair}} {{table}}"),
             (f"max by (pair, table) (time() - sagebridge_cdc_scan_started_timestamp_seconds{sel()})",
              "since start {{pair}} {{table}}")],
             unit="s", description="Tables without change stamps: a change is seen at most one scan after it"))
         .with_panel(graph(ids, "Changes captured / s", [
             (rate("sagebridge_cdc_changes_total", "pair, table, op"), "{{pair}} {{table}} {{op}}")], unit="ops"))
         .with_panel(graph(ids, "Capture queries and rows read / s", [
             (rate("sagebridge_cdc_queries_total", "pair, table, kind"), "queries {{pair}} {{table}} {{kind}}"),
             (rate("sagebridge_cdc_rows_read_total", "pair, table, kind"), "rows {{pair}} {{table}} {{kind}}")],
             unit="ops"))
         .with_panel(graph(ids, "Stale ERP rows dropped / s", [
             (rate("sagebridge_erp_stale_rows_dropped_total", "pair, table"), "{{pair}} {{table}}")], unit="ops",
             description="erp.raw rows not mapped: a newer position of the row was already mapped"))
         .with_panel(graph(ids, "Intacct capture polls deferred / rows unreadable", [
             (rate("sagebridge_intacct_capture_polls_deferred_total", "pair, stream"), "deferred {{pair}} {{stream}}"),
             (rate("sagebridge_intacct_capture_rows_unreadable_total", "pair, table"), "unreadable {{pair}} {{table}}")],
             unit="ops")))
    d = (d.with_row(row(ids, "Storefront writer"))
         .with_panel(graph(ids, "Coalescing ratio", [
             (f"sum by (pair, topic) (rate(sagebridge_coalesced_records_total{sel()}{RATE}))"
              f" / sum by (pair, topic) (rate(sagebridge_events_consumed_total{sel()}{RATE}))", "{{pair}} {{topic}}")],
             unit="percentunit", description="Share of records consumed that a newer record of the same key replaced"))
         .with_panel(graph(ids, "Store writes / s by entity and outcome", [
             (rate("sagebridge_storefront_writes_total", "pair, kind, entity, outcome"),
              "{{pair}} {{kind}} {{entity}} {{outcome}}")], unit="ops"))
         .with_panel(graph(ids, "Store write rate against its limit", [
             (rate("sagebridge_rate_limit_tokens_total", "pair, target", STORE_LIMITS), "used {{target}}"),
             (f"max by (pair, target) (sagebridge_rate_limit_tokens_per_second{sel(STORE_LIMITS)})", "limit {{target}}")],
             unit="reqps", description="Calls taken from the store's token bucket and the rate it refills at"))
         .with_panel(graph(ids, "Rate-limit waiting", [
             (rate("sagebridge_rate_limit_wait_seconds_total", "pair, target"), "s waited / s {{target}}"),
             (rate("sagebridge_rate_limit_waits_total", "pair, target"), "waits / s {{target}}")],
             unit="short", description="Above 0: the limit, not the store, sets the pace"))
         .with_panel(graph(ids, "Storefront calls / s by outcome", [
             (rate("sagebridge_connector_requests_total", "pair, connector, operation, outcome",
                   'connector=~"xcart|shift4shop|threedcart"'), "{{pair}} {{connector}} {{operation}} {{outcome}}")],
             unit="reqps"))
         .with_panel(graph(ids, "Storefront writer dead letters / s by reason", [
             (rate("sagebridge_dlq_records_total", "pair, topic, reason", 'service="storefront-writer"'),
              "{{pair}} {{topic}} {{reason}}")], unit="ops", stack=True)))
    return d.build()
