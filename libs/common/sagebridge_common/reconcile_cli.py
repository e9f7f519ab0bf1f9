"""`sagebridge reconcile`: the merchant's proof that every store order of a window is in the ERP exactly
once with the same total (and, with --payments, every captured payment has one receipt).

Exit codes: 0 no gap, 1 at least one gap, 2 bad arguments or configuration (as the services' `serve`),
3 a ledger could not be read to the end (nothing was proven either way).
"""
from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterable, Iterator, TypeVar

import click

from . import registry
from .errors import PermanentError, TransientError
from .reconcile import compare
from .reconcile_report import as_json, publish, render

T = TypeVar("T")
EXIT_GAPS, EXIT_CONFIG, EXIT_UNREAD = 1, 2, 3


def parse_time(text: str, name: str) -> datetime:
    """ISO-8601 date or date-time; without an offset it is UTC."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO-8601 date or date-time", param_hint=name) from None
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def _fail(code: int, message: str) -> None:
    click.echo(f"sagebridge reconcile: {message}", err=True)
    sys.exit(code)


def _load_pair(pairs_path: str | None, pair_id: str | None):
    from pydantic import ValidationError

    from .pair_file import PairFileError
    from .pairs import load_pairs
    from .settings import Settings

    try:
        settings = Settings.from_env()
        pair_id = pair_id or settings.pair_id
        if not pair_id:
            raise click.UsageError("--pair is required (or PAIR_ID)")
        return load_pairs(pairs_path or settings.pairs_path, pair_id)[pair_id]
    except (PairFileError, ValidationError) as e:
        _fail(EXIT_CONFIG, f"the configuration is invalid:\n{e}")


def _build(role: str, pair):
    try:
        return registry.build(role, pair)
    except registry.UnknownConnector as e:
        _fail(EXIT_CONFIG, str(e))


@contextmanager
def _progress(enabled: bool):
    """A bar per ledger on stderr (stdout stays the report); a no-op when off."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}"),
                  TimeElapsedColumn(), console=console, transient=True,
                  disable=not (enabled and console.is_terminal)) as bar:
        def counted(items: Iterable[T], label: str) -> Iterator[T]:
            task = bar.add_task(label, total=None)
            for item in items:
                bar.advance(task)
                yield item
        yield counted


@click.command("reconcile")
@click.option("--pair", "pair_id", default=None, help="Pair id (default: PAIR_ID).")
@click.option("--from", "since", required=True, help="Window start (store order creation), ISO-8601; UTC without an offset.")
@click.option("--to", "until", required=True, help="Window end, exclusive, ISO-8601; UTC without an offset.")
@click.option("--payments", is_flag=True, help="Also check one receipt per captured payment (one store call per order).")
@click.option("--json", "as_json_flag", is_flag=True, help="One JSON object (counts and gaps) on stdout, no table.")
@click.option("--pairs-path", default=None, help="Pair file or directory (default: PAIRS_PATH).")
@click.option("--pushgateway", envvar="RECONCILE_PUSHGATEWAY_URL", default=None,
              help="Push the run's gauges to this Prometheus Pushgateway (env RECONCILE_PUSHGATEWAY_URL).")
@click.option("--metrics-file", default=None, type=click.Path(dir_okay=False),
              help="Write the run's gauges to this node-exporter textfile (*.prom).")
def reconcile_cmd(pair_id: str | None, since: str, until: str, payments: bool, as_json_flag: bool,
                  pairs_path: str | None, pushgateway: str | None, metrics_file: str | None) -> None:
    """Compare the store's orders created in [--from, --to) with the ERP: matched, missing in ERP,
    duplicated, total mismatch, needs attention. Exit 0 when there is no gap, 1 when there is one."""
    start, end = parse_time(since, "--from"), parse_time(until, "--to")
    if start >= end:
        raise click.BadParameter(f"--from ({start.isoformat()}) must be before --to ({end.isoformat()})",
                                 param_hint="--from")
    pair = _load_pair(pairs_path, pair_id)
    store, erp = _build("storefront_ledger", pair), _build("erp_ledger", pair)
    if payments and not getattr(erp, "keeps_receipts", True):
        click.echo(f"sagebridge reconcile: {erp.kind} keeps no receipts (the hub writes no payments there); "
                   "payments are not checked", err=True)
        payments = False
    store.payments = payments
    try:
        with _progress(not as_json_flag) as counted:
            rec = compare(counted(store.orders(start, end), "store orders"),
                          counted(erp.orders(pair.reference_prefix), "ERP orders"), pair.reference_prefix,
                          receipts=counted(erp.receipts(pair.reference_prefix), "ERP receipts") if payments else None)
    except (TransientError, PermanentError) as e:
        _fail(EXIT_UNREAD, f"could not read the ledgers to the end, nothing is proven: {e}")
    finally:
        for ledger in (store, erp):
            getattr(ledger, "close", lambda: None)()
    calls = {"store": getattr(store, "calls", {}), "erp": getattr(erp, "calls", {})}
    if as_json_flag:
        click.echo(json.dumps(as_json(rec, pair=pair.pair, start=start, end=end, calls=calls), indent=2))
    else:
        from rich.console import Console
        render(Console(), rec, pair=pair.pair, start=start, end=end, calls=calls)
    try:
        publish(rec, pair.pair, pushgateway=pushgateway, metrics_file=metrics_file)
    except OSError as e:       # the report stands; a monitoring hiccup is said, not hidden
        click.echo(f"sagebridge reconcile: could not publish the gauges: {e}", err=True)
    sys.exit(EXIT_GAPS if rec.gaps else 0)
