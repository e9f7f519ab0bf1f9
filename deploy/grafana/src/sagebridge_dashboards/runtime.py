"""Runtime: how the consume-process-commit loop of every service behaves. Retries, backpressure
pauses, in-flight work, offset commits and consumer group rebalances, per service."""
from __future__ import annotations

from grafana_foundation_sdk.models import dashboard as gdm

from .panels import Ids, graph, new_dashboard, quantile, rate, row, sel

UID = "sagebridge-runtime"


def build() -> gdm.Dashboard:
    ids = Ids()
    d = new_dashboard(UID, "Sagebridge runtime", "Retries, pauses, commits and rebalances of each service.")
    d = (d.with_row(row(ids, "Processing"))
         .with_panel(graph(ids, "Retries / s by kind", [
             (rate("sagebridge_retries_total", "pair, service, topic, kind"), "{{pair}} {{service}} {{topic}} {{kind}}")],
             unit="ops"))
         .with_panel(graph(ids, "In-flight records", [
             (f"sum by (pair, service) (sagebridge_inflight_records{sel()})", "{{pair}} {{service}}")], unit="short",
             description="Received and not yet committable"))
         .with_panel(graph(ids, "Processing duration p99", [
             (quantile(0.99, "sagebridge_processing_duration_seconds", "pair, service"), "{{pair}} {{service}}")],
             unit="s", description="Handler time per record, retries included")))
    d = (d.with_row(row(ids, "Backpressure and offsets"))
         .with_panel(graph(ids, "Partitions paused", [
             (f"sum by (pair, service) (sagebridge_partitions_paused{sel()})", "{{pair}} {{service}}")], unit="short",
             description="Paused while too much work is held; resumed at half"))
         .with_panel(graph(ids, "Offset commits / s by outcome", [
             (rate("sagebridge_offset_commits_total", "pair, service, outcome"), "{{pair}} {{service}} {{outcome}}")],
             unit="ops"))
         .with_panel(graph(ids, "Consumer lag by partition", [
             (f"max by (pair, service, topic, partition) (sagebridge_consumer_lag_messages{sel()})",
              "{{pair}} {{service}} {{topic}}[{{partition}}]")], unit="short")))
    d = (d.with_row(row(ids, "Group membership"))
         .with_panel(graph(ids, "Rebalances / s", [
             (rate("sagebridge_rebalances_total", "pair, service, event"), "{{pair}} {{service}} {{event}}")],
             unit="ops", description="Partitions assigned or revoked (a member joined, left or timed out)"))
         .with_panel(graph(ids, "Records dropped after a revoke / s", [
             (rate("sagebridge_records_dropped_total", "pair, service, topic"), "{{pair}} {{service}} {{topic}}")],
             unit="ops", description="Fetched for a partition no longer owned here; its new owner reads them"))
         .with_panel(graph(ids, "Targets up", [("up" + sel(), "{{job}} {{instance}}")], unit="short")))
    return d.build()
