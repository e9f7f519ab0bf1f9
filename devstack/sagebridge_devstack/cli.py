"""`sagebridge-dev up`: the whole system on the embedded default, demo traffic both ways and a live view."""
from __future__ import annotations

import contextlib
import signal
import sys
import time
from pathlib import Path

import click
import httpx
from rich.console import Console

from .demo import demo_driver_for
from .erp_demo import erp_demo_driver_for
from .flow_monitor import FlowMonitor
from .stack import REPO, Stack, StackConfig
from .store_sims import DEFAULT_PAIR, PAIRS
from .view import make_view, status_line


def _health(stack: Stack) -> dict[str, str]:
    out = {}
    for name in stack.services:
        try:
            r = httpx.get(f"{stack.ops_url(name)}/readyz", timeout=1)
            out[name] = "ready" if r.status_code == 200 else "not ready"
        except httpx.HTTPError:
            out[name] = "down"
    return out


def _seen_all(line: str, until: tuple[str, ...]) -> bool:
    """Every flow named in `until` has a count above 0 in this status line."""
    figures = dict(kv.split("=", 1) for kv in line.split()[2:] if "=" in kv)
    return all(figures.get(k, "0").isdigit() and int(figures[k]) > 0 for k in until)


def _watch(stack: Stack, monitor: FlowMonitor, console: Console, duration: float, every: float,
           began: float, until: tuple[str, ...] = (), until_timeout: float = 120.0) -> None:
    """Shows the figures every `view.every` seconds (on a schedule, so slow health checks do not
    stretch it) until `duration` has passed since `began`, or forever when it is 0. With `until`,
    the run goes on after `duration` (at most `until_timeout` more) until each named flow was seen:
    a slow start on a loaded machine delays the flows, it does not make a smoke run empty."""
    end = began + duration if duration else float("inf")
    give_up = end + until_timeout
    with make_view(console, every, stack.store.name, stack.erp.name) as view:
        next_at = began
        while True:
            now = time.monotonic()
            if now >= end and (not until or now >= give_up or _seen_all(
                    status_line(monitor.snapshot(), {}, now - began), until)):
                return
            next_at = min(next_at + view.every, give_up if until else end)
            time.sleep(max(0.0, next_at - time.monotonic()))
            view.show(monitor.snapshot(), _health(stack), time.monotonic() - began)


@click.group()
def main() -> None:
    """Developer commands for running Sagebridge locally."""


@main.command()
@click.option("--pair", type=click.Choice(PAIRS), default=DEFAULT_PAIR, show_default=True,
              help="The integration pair (pairs/<pair>.yaml) and so the simulators: X-Cart, "
                   "Shift4Shop REST (3dcart-sage300) or 3dcart legacy SOAP (3dcartsoap-sage300) with "
                   "Sage 300; X-Cart with Sage Intacct (xcart-intacct) or Sage Pro (xcart-sagepro).")
@click.option("--rate", default=2.0, show_default=True, help="Demo orders per second (0: none).")
@click.option("--erp-rate", default=1.0, show_default=True,
              help="Demo changes made in the ERP (Sage 300, Intacct or Sage Pro) per second: stock receipts, price changes, now and then an item "
                   "made inactive; beside them some of the orders that reached Sage are shipped (0: none).")
@click.option("--duration", default=0.0, help="Stop after this many seconds (0: until Ctrl-C).")
@click.option("--until", "until", default="", metavar="FLOWS",
              help="With --duration: go on after it until each of these status counts is above 0, e.g. "
                   "created,stock (at most --until-timeout seconds more): a smoke run that waits for the flows.")
@click.option("--until-timeout", type=click.FloatRange(min=0), default=120.0, show_default=True,
              help="The longest --until waits after --duration.")
@click.option("--work-dir", type=click.Path(path_type=Path), default=REPO / "var" / "dev", show_default=True,
              help="Where the simulators keep their state and every process writes its log.")
@click.option("--keep", is_flag=True,
              help="Keep the simulators' state from the previous run in --work-dir: the Sage 300 database "
                   "and the X-Cart order id/number sequence, so new X-Cart orders continue after the last "
                   "kept one instead of colliding with orders Sage 300 already holds. X-Cart's orders "
                   "themselves are not kept (the simulator holds them in memory), nor are the embedded "
                   "broker's topics (memory storage): the poller reads the new X-Cart store from the start. "
                   "The 3dcart simulators keep nothing: their invoice numbers continue after the highest one "
                   "the kept Sage 300 database holds.")
@click.option("--status-every", type=click.FloatRange(min=0.5), default=5.0, show_default=True,
              help="When stdout is not a terminal (a pipe or a file), print a plain status line this often "
                   "instead of the live table.")
def up(pair: str, rate: float, erp_rate: float, duration: float, until: str, until_timeout: float, work_dir: Path,
       keep: bool, status_every: float) -> None:
    """Start broker (unless KAFKA_BOOTSTRAP_SERVERS is set), simulators, topics and services.

    Every run starts clean unless --keep is given: the Sage 300 simulator's database and the X-Cart
    simulator's order numbering in --work-dir are deleted first, and the embedded broker keeps its
    topics in memory only, so it never keeps anything from a previous run (an external broker named by
    KAFKA_BOOTSTRAP_SERVERS keeps whatever it keeps). Logs are appended to in --work-dir/logs.

    --pair picks the store (default X-Cart; 3dcart-sage300: Shift4Shop REST with webhooks;
    3dcartsoap-sage300: 3dcart SOAP, polled; xcart-intacct: X-Cart with Sage Intacct instead of
    Sage 300; xcart-sagepro: X-Cart with Sage Pro, its tables in a SQLite file through ODBC);
    "X-Cart" and "Sage 300" below stand for whichever runs.

    Demo traffic runs both ways: X-Cart orders (--rate) flow to Sage 300, and changes made inside Sage
    300 (--erp-rate: stock receipts, price changes, items made inactive, shipments with tracking of
    some of those orders) flow to X-Cart through erp-cdc and storefront-writer.

    On a terminal a live table shows, store -> ERP, orders seen, canonical, created in Sage 300, in the
    DLQ and their latency (order placed -> created); ERP -> store, the stock, product (price, enabled),
    shipment, order status and customer writes made in X-Cart, failures, the ERP-side DLQ and the
    latencies of stock, product and shipment changes (Sage row's AUDTDATE/AUDTTIME -> X-Cart written);
    and service readiness. Piped (`scripts/up.sh | tee up.log`) the same figures come as one
    `status t=... seen=... created=... stock=... stock_p50_ms=...` line every --status-every seconds,
    and a `final ...` line at the end.
    """
    console = Console()
    if not console.is_terminal:
        console.soft_wrap = True            # a log line stays one line
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    stack = Stack(StackConfig(work_dir=work_dir, pair=pair, webhook_push=True, keep_state=keep))
    driver = erp_driver = monitor = None
    started = began = time.monotonic()
    try:
        starting = "starting broker, simulators and services…"
        if not console.is_terminal:
            console.print(starting)
        with console.status(starting) if console.is_terminal else contextlib.nullcontext():
            stack.start()
        console.print(f"[bold]up[/] in {time.monotonic() - started:.1f}s — broker {stack.bootstrap}"
                      f" ({'kept' if keep else 'fresh'} simulator state in {work_dir})")
        store = stack.store
        label, text = store.describe()[0]
        console.print(f"  {label:<17} {text}")
        for label, text in stack.erp.describe():
            console.print(f"  {label:<17} {text}")
        for label, text in store.describe()[1:]:
            console.print(f"  {label:<17} {text}")
        for name in stack.services:
            console.print(f"  {name:<17} {stack.ops_url(name)}/metrics  /healthz  /readyz")
        console.print(f"  logs              {stack.logs}")
        driver = demo_driver_for(store.kind, store.url, rate).start()
        erp_driver = erp_demo_driver_for(stack.erp.kind, stack.erp.url, erp_rate)
        monitor = FlowMonitor(stack.bootstrap, driver, erp_driver, store_name=store.name).start()
        erp_driver.start()
        began = time.monotonic()
        _watch(stack, monitor, console, duration, status_every, began,
               tuple(k.strip() for k in until.split(",") if k.strip()), until_timeout)
    except KeyboardInterrupt:
        pass
    finally:
        for demo in (driver, erp_driver):
            if demo:
                demo.stop()
        if monitor:
            console.print(status_line(monitor.snapshot(), _health(stack), time.monotonic() - began, tag="final"),
                          markup=False, highlight=False, soft_wrap=True)
            monitor.stop()
        pids = [p.proc.pid for p in [*stack.services.values(), *stack.simulators.values()] if p.proc]
        if stack.broker and stack.broker.proc:
            pids.append(stack.broker.proc.pid)
        stack.stop()
        console.print(f"stopped (pids {' '.join(map(str, pids))})")
    sys.exit(0)
