"""How `sagebridge-dev up` shows what flows: a live table on a terminal, plain status lines elsewhere.

rich's Live redraws in place with cursor movement, which only a terminal understands; written to a
pipe or a file (`scripts/up.sh | tee up.log`) it shows nothing until the end. There the same figures
go out as one `key=value` line every few seconds, which reads well in a log and greps easily.
"""
from __future__ import annotations

from rich.console import Console
from rich.live import Live
from rich.table import Table

# FlowMonitor.snapshot() label -> key in a status line
SHORT_KEYS = {"orders seen": "seen", "canonical": "canonical", "created in Sage 300": "created",
              "already present (deduplicated)": "already_present", "failed": "failed", "in DLQ": "dlq",
              "customers in Sage 300": "customers", "receipts": "receipts",
              "latency p50 (ms)": "p50_ms", "latency p99 (ms)": "p99_ms",
              # Sage 300 -> the store ("<what> written to <store>", see WRITTEN_KEYS)
              "ERP changes made": "erp_changes",
              "unchanged or superseded": "store_unchanged", "store writes failed": "store_failed",
              "ERP-side DLQ": "store_dlq",
              "stock latency p50 (ms)": "stock_p50_ms", "stock latency p99 (ms)": "stock_p99_ms",
              "products latency p50 (ms)": "products_p50_ms", "products latency p99 (ms)": "products_p99_ms",
              "shipments latency p50 (ms)": "shipments_p50_ms", "shipments latency p99 (ms)": "shipments_p99_ms"}
# "<what> written to X-Cart" (or Shift4Shop, 3dcart (SOAP)): the key is the same for every store
WRITTEN_KEYS = {"stock": "stock", "products": "products", "shipments": "shipments", "order status": "order_status",
                "customers": "store_customers"}
# The first label of the ERP -> store half of a snapshot (the table shows the halves as sections).
ERP_TO_STORE_FROM = "ERP changes made"


def _short_key(label: str) -> str:
    if label in SHORT_KEYS:
        return SHORT_KEYS[label]
    what, sep, _store = label.partition(" written to ")
    if sep and what in WRITTEN_KEYS:
        return WRITTEN_KEYS[what]
    return label.replace(" ", "_")


def status_line(snapshot: dict, health: dict[str, str], elapsed: float, tag: str = "status") -> str:
    """`status t=12s seen=23 canonical=22 created=20 ... p50_ms=412 p99_ms=900 ingest=ready ...`;
    a figure not known yet (no latency sample) is `-`."""
    parts = [tag, f"t={elapsed:.0f}s"]
    for label, value in snapshot.items():
        key = _short_key(label)
        parts.append(f"{key}={'-' if value is None else value}")
    parts += [f"{name}={state.replace(' ', '-')}" for name, state in health.items()]
    return " ".join(parts)


def _table(snapshot: dict, health: dict[str, str], elapsed: float, store: str = "X-Cart",
           erp: str = "Sage 300") -> Table:
    """The figures' labels name Sage 300 (they are the status line's keys); the headings name the
    pair's store and ERP."""
    t = Table(title=f"Sagebridge — {store} ⇄ {erp} ({elapsed:.0f}s)", show_lines=False)
    t.add_column("what")
    t.add_column("value", justify="right")
    t.add_row(f"[bold]orders: {store} → {erp}[/]", "")
    for k, v in snapshot.items():
        if k == ERP_TO_STORE_FROM:
            t.add_section()
            t.add_row(f"[bold]stock, prices, shipments: {erp} → {store}[/]", "")
        t.add_row(k, "—" if v is None else str(v))
    t.add_section()
    for name, state in health.items():
        t.add_row(f"service {name}", state)
    return t


class TableView:
    """The live table, redrawn every second."""

    every = 1.0

    def __init__(self, console: Console, store: str = "X-Cart", erp: str = "Sage 300") -> None:
        self.store, self.erp = store, erp
        self._live = Live(_table({}, {}, 0, store, erp), console=console, refresh_per_second=2)

    def __enter__(self) -> "TableView":
        self._live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._live.__exit__(*exc)

    def show(self, snapshot: dict, health: dict[str, str], elapsed: float) -> None:
        self._live.update(_table(snapshot, health, elapsed, self.store, self.erp))


class LineView:
    """One status line every `every` seconds, flushed at once so `tee` shows it as it happens."""

    def __init__(self, console: Console, every: float) -> None:
        self.console = console
        self.every = every

    def __enter__(self) -> "LineView":
        return self

    def __exit__(self, *exc) -> None:
        pass

    def show(self, snapshot: dict, health: dict[str, str], elapsed: float) -> None:
        self.console.print(status_line(snapshot, health, elapsed), markup=False, highlight=False, soft_wrap=True)
        self.console.file.flush()


def make_view(console: Console, every: float, store: str = "X-Cart", erp: str = "Sage 300") -> TableView | LineView:
    return TableView(console, store, erp) if console.is_terminal else LineView(console, every)
