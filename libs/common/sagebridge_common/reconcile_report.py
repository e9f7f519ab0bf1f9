"""What `sagebridge reconcile` shows: a table for people, one JSON object for machines, and the last
run's counts as Prometheus gauges.

The gauges live in their own registry, not the process-wide one: a run is a batch job, and the
Prometheus docs' answer for batch jobs is the Pushgateway (`push_to_gateway`, grouped by job and
pair so two pairs' runs do not overwrite each other) or node-exporter's textfile collector
(`write_to_textfile`, which writes a temporary file and renames it, so the collector never reads
half a file). An alert on `sagebridge_reconcile_documents{result=~"missing_in_erp|duplicated|..."} > 0`
or on a stale `sagebridge_reconcile_last_run_timestamp_seconds` covers both "a gap" and "it stopped
running".
"""
from __future__ import annotations

import time
from datetime import datetime
from typing import Any, Mapping

from prometheus_client import CollectorRegistry, Gauge, push_to_gateway, write_to_textfile

from .reconcile import GAPS, Reconciliation

JOB = "sagebridge_reconcile"
TABLE_COLUMNS = ("result", "reference", "store order", "ERP documents")   # the JSON adds a sentence per gap
NO_WRAP = {"result", "reference"}


def as_json(rec: Reconciliation, *, pair: str, start: datetime, end: datetime,
            calls: Mapping[str, Mapping[str, int]]) -> dict[str, Any]:
    return {"pair": pair, "from": start.isoformat(), "to": end.isoformat(), "clean": rec.clean,
            "store_orders": rec.store_orders, "erp_orders": rec.erp_orders, "payments_checked": rec.payments_checked,
            "counts": rec.all_counts(), "gaps": [g.as_dict() for g in rec.gaps],
            "calls": {side: dict(c) for side, c in calls.items()}}


def render(console, rec: Reconciliation, *, pair: str, start: datetime, end: datetime,
           calls: Mapping[str, Mapping[str, int]]) -> None:
    """Counts first (the answer), then one row per gap (the work)."""
    from rich.table import Table

    window = f"{start.isoformat(timespec='seconds')} .. {end.isoformat(timespec='seconds')}"
    console.print(f"[bold]{pair}[/bold]: store orders created {window}")
    summary = Table("result", "count")
    for name, n in rec.all_counts().items():
        style = "red" if name in GAPS and n else None
        summary.add_row(name, str(n), style=style)
    console.print(summary)
    console.print(f"{rec.store_orders} store orders, {rec.erp_orders} ERP orders with the pair's prefix; API calls: "
                  + "; ".join(f"{side} {sum(c.values())} ({', '.join(f'{k} {v}' for k, v in sorted(c.items()))})"
                              for side, c in calls.items()))
    if rec.clean:
        console.print("[green]No gaps: every store order is in the ERP exactly once with the same total.[/green]")
        return
    from rich.table import Column

    # ids are never cut: an operator copies them into the store's and the ERP's search boxes
    gaps = Table(*(Column(c, no_wrap=c in NO_WRAP) for c in TABLE_COLUMNS), title=f"{len(rec.gaps)} gaps")
    for g in rec.gaps:
        store = "-" if g.order_id is None else f"{g.number} (id {g.order_id}) {g.status or ''}".rstrip()
        if g.transaction_id:
            store += f", payment {g.transaction_id}"
        if g.store_total:
            store += f": {g.store_total}"
        erp = ", ".join(f"{d}: {t}" for d, t in zip(g.erp_documents, g.erp_totals)) or "none"
        gaps.add_row(g.result, g.reference, store, erp)
    console.print(gaps)


def metrics_registry(rec: Reconciliation, pair: str, finished: float | None = None) -> CollectorRegistry:
    registry = CollectorRegistry()
    docs = Gauge("sagebridge_reconcile_documents", "Store orders (and payments) per reconciliation result in the "
                 "last run", ["pair", "result"], registry=registry)
    for name, n in rec.all_counts().items():
        docs.labels(pair, name).set(n)
    last = Gauge("sagebridge_reconcile_last_run_timestamp_seconds", "When the last reconciliation finished (unix "
                 "seconds)", ["pair"], registry=registry)
    last.labels(pair).set(time.time() if finished is None else finished)
    return registry


def publish(rec: Reconciliation, pair: str, *, pushgateway: str | None, metrics_file: str | None) -> None:
    """Push and/or write the gauges; errors propagate (the caller decides what a failed push means)."""
    if not pushgateway and not metrics_file:
        return
    registry = metrics_registry(rec, pair)
    if metrics_file:
        write_to_textfile(metrics_file, registry)
    if pushgateway:
        push_to_gateway(pushgateway, job=JOB, grouping_key={"pair": pair}, registry=registry)
