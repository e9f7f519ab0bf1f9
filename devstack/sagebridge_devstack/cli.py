"""`sagebridge-dev up`: the whole system on the embedded default, demo orders and a live view."""
from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import click
import httpx
from rich.console import Console
from rich.live import Live
from rich.table import Table

from .demo import DemoDriver, FlowMonitor
from .stack import REPO, Stack, StackConfig


def _health(stack: Stack) -> dict[str, str]:
    out = {}
    for name in stack.services:
        try:
            r = httpx.get(f"{stack.ops_url(name)}/readyz", timeout=1)
            out[name] = "ready" if r.status_code == 200 else "not ready"
        except httpx.HTTPError:
            out[name] = "down"
    return out


def _table(snapshot: dict, health: dict[str, str], elapsed: float) -> Table:
    t = Table(title=f"Sagebridge — X-Cart → Sage 300 ({elapsed:.0f}s)", show_lines=False)
    t.add_column("what")
    t.add_column("value", justify="right")
    for k, v in snapshot.items():
        t.add_row(k, "—" if v is None else str(v))
    for name, state in health.items():
        t.add_row(f"service {name}", state)
    return t


@click.group()
def main() -> None:
    """Developer commands for running Sagebridge locally."""


@main.command()
@click.option("--rate", default=2.0, show_default=True, help="Demo orders per second (0: none).")
@click.option("--duration", default=0.0, help="Stop after this many seconds (0: until Ctrl-C).")
@click.option("--work-dir", type=click.Path(path_type=Path), default=REPO / "var" / "dev", show_default=True)
def up(rate: float, duration: float, work_dir: Path) -> None:
    """Start broker (unless KAFKA_BOOTSTRAP_SERVERS is set), simulators, topics and services."""
    console = Console()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    stack = Stack(StackConfig(work_dir=work_dir, webhook_push=True))
    driver = monitor = None
    started = time.monotonic()
    try:
        with console.status("starting broker, simulators and services…"):
            stack.start()
        console.print(f"[bold]up[/] in {time.monotonic() - started:.1f}s — broker {stack.bootstrap}")
        console.print(f"  X-Cart simulator  {stack.xcart_url}   (create orders: POST /_sim/orders)")
        console.print(f"  Sage 300 simulator {stack.sage_url}/Sage300WebApi   (orders: GET /_sim/orders)")
        console.print(f"  webhook           {stack.webhook_url}")
        for name in stack.services:
            console.print(f"  {name:<17} {stack.ops_url(name)}/metrics  /healthz  /readyz")
        console.print(f"  logs              {stack.logs}")
        driver = DemoDriver(stack.xcart_url, rate).start()
        monitor = FlowMonitor(stack.bootstrap, driver).start()
        began = time.monotonic()
        with Live(_table(monitor.snapshot(), {}, 0), console=console, refresh_per_second=2) as live:
            while not duration or time.monotonic() - began < duration:
                time.sleep(1)
                live.update(_table(monitor.snapshot(), _health(stack), time.monotonic() - began))
    except KeyboardInterrupt:
        pass
    finally:
        if driver:
            driver.stop()
        if monitor:
            console.print(monitor.snapshot())
            monitor.stop()
        pids = [p.proc.pid for p in [*stack.services.values(), *stack.simulators.values()] if p.proc]
        if stack.broker and stack.broker.proc:
            pids.append(stack.broker.proc.pid)
        stack.stop()
        console.print(f"stopped (pids {' '.join(map(str, pids))})")
    sys.exit(0)
