"""The README's first command: `sagebridge-dev up` runs everything, shows orders reaching Sage 300,
prints plain status lines when piped, starts clean unless told to keep, and Ctrl-C leaves no
process behind."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from sagebridge_devstack.processes import ManagedProcess, free_port
from sagebridge_sim.sage300.db import Sage300Database, utc_stamp

BIN = Path(sys.executable).parent / "sagebridge-dev"
ENV = {**{k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}, "COLUMNS": "120"}
LINE = re.compile(r"^(status|final) t=(\d+)s (.*)$", re.M)
COUNTS = ("seen", "canonical", "created", "already_present", "failed", "dlq")
ERP_COUNTS = ("erp_changes", "stock", "products", "shipments", "order_status", "store_failed", "store_dlq")
ERP_LATENCIES = ("stock_p50_ms", "stock_p99_ms", "products_p50_ms", "shipments_p99_ms")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:   # a zombie is dead for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _lines(out: str, tag: str = "status") -> list[dict[str, str]]:
    return [dict(kv.split("=", 1) for kv in rest.split()) for t, _s, rest in LINE.findall(out) if t == tag]


def _final(out: str) -> dict[str, int]:
    (line,) = _lines(out, "final")
    return {k: int(line[k]) for k in COUNTS}


def _up(work: Path, duration: float, *extra: str) -> str:
    """One `up` run with stdout piped, as `scripts/up.sh | tee up.log` has it: at least `duration`
    seconds, then until an order was created and a stock change written (a loaded machine starts slowly)."""
    proc = subprocess.run([str(BIN), "up", "--rate", "5", "--duration", str(duration), "--status-every", "1",
                           "--until", "created,stock", "--work-dir", str(work), *extra],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=ENV, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout
    return proc.stdout


def _sage_orders(work: Path) -> list[tuple[int, tuple[int, int]]]:
    """(X-Cart order number, audit stamp) of every order in the Sage 300 simulator's database,
    read through the same ODBC driver the simulator writes with."""
    db = Sage300Database(str(work / "sage300.sqlite"))
    try:
        return [(int(h["REFERENCE"].strip().rsplit("-", 1)[-1]), (int(h["AUDTDATE"]), int(h["AUDTTIME"])))
                for h, _ in db.order_rows()]      # references are the pair's prefix + the X-Cart number
    finally:
        db.close()


def _run_until_interrupted(tmp_path: Path) -> str:
    """`up` until its status lines show an order created in Sage 300 (the positive signal: a slow
    start on a loaded machine only delays it), then Ctrl-C; its whole output."""
    proc = subprocess.Popen([str(BIN), "up", "--rate", "5", "--status-every", "1", "--work-dir", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=ENV, text=True)
    lines: list[str] = []
    created = threading.Event()

    def read() -> None:
        for line in proc.stdout:
            lines.append(line)
            m = LINE.match(line.rstrip("\n"))
            if m and m.group(1) == "status" and int(dict(kv.split("=", 1) for kv in m.group(3).split())["created"]) > 0:
                created.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    created.wait(timeout=150)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    reader.join(timeout=10)
    out = "".join(lines)
    assert proc.returncode == 0, out
    return out


def test_up_shows_orders_created_and_ctrl_c_leaves_nothing_behind(tmp_path):
    out = _run_until_interrupted(tmp_path)
    assert _final(out)["created"] > 0, out[-2000:]
    pids = [int(p) for p in re.search(r"stopped \(pids ([\d ]+)\)", out).group(1).split()]
    assert len(pids) == 8                       # broker, two simulators, five services
    time.sleep(0.5)
    assert [p for p in pids if _alive(p)] == []


def test_piped_up_prints_plain_status_lines_whose_counts_grow(tmp_path):
    out = _up(tmp_path, 10)
    lines = _lines(out)
    assert len(lines) >= 2, out
    for line in lines:
        assert all(line[k].isdigit() for k in COUNTS), line
        assert all(line[k] == "-" or line[k].isdigit() for k in ("p50_ms", "p99_ms")), line
        assert {"ingest", "transform", "erp-writer", "erp-cdc", "storefront-writer"} <= line.keys(), line
        assert all(line[k].isdigit() for k in ERP_COUNTS), line
        assert all(line[k] == "-" or line[k].isdigit() for k in ERP_LATENCIES), line
    assert int(lines[-1]["created"]) > int(lines[0]["created"]), out
    final = _lines(out, "final")[0]
    assert int(final["stock"]) > 0 and int(final["erp_changes"]) > 0, out     # Sage 300 -> X-Cart flows too
    assert lines[-1]["p50_ms"].isdigit(), out                 # latency of the orders created is measured
    assert "\x1b[" not in out                   # no cursor movement or colour in a log


def test_up_starts_clean_unless_keep_and_keep_continues_the_xcart_numbering(tmp_path):
    first = _up(tmp_path, 4)
    run1 = _sage_orders(tmp_path)
    assert run1 and _final(first)["created"] > 0

    # Without --keep: the Sage 300 database holds only the second run's orders, none deduplicated
    # against the first run's (X-Cart numbers from 1 again).
    # (`already_present` is no sign of that: a POST whose answer was lost on a loaded machine is
    # found by its reference on the retry and counted there, legitimately.)
    between = utc_stamp()
    second = _up(tmp_path, 4)
    assert _final(second)["created"] > 0, second
    run2 = _sage_orders(tmp_path)
    assert run2 and all(stamp > between for _n, stamp in run2), (between, run2)

    # With --keep: the second run's orders stay, and X-Cart numbering continues after them: the
    # simulator's sequence file stands at or after every number Sage holds, so no new order can
    # take a number of the kept ones.
    sequence = json.loads((tmp_path / "xcart-orders.json").read_text())["last_order_number"]
    assert sequence >= max(n for n, _s in run2), (sequence, run2)
    between = utc_stamp()
    third = _up(tmp_path, 4, "--keep")
    assert _final(third)["created"] > 0, third
    rows = _sage_orders(tmp_path)
    kept = sorted(n for n, stamp in rows if stamp < between)
    new = sorted(n for n, stamp in rows if stamp > between)
    assert kept == sorted(n for n, _s in run2)
    assert new and new[0] > sequence >= kept[-1], (sequence, kept, new)


def test_xcart_simulator_killed_continues_its_numbering_from_the_state_file(tmp_path):
    state = tmp_path / "xcart-orders.json"
    tokens = ["--token-read", "r" * 16, "--token-all", "w" * 16, "--state-file", str(state)]

    def start() -> tuple[ManagedProcess, str]:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        sim = ManagedProcess.python_module("xcart-sim", "sagebridge_sim.xcart", {}, tmp_path / "logs",
                                           ["--port", str(port), *tokens], ready_url=f"{url}/_sim/stats").start()
        sim.wait_ready()
        return sim, url

    spec = {"email": "a@example.com", "items": [{"sku": "WIDGET-1", "price": "12.50", "amount": 1}]}
    sim, url = start()
    try:
        made = [httpx.post(f"{url}/_sim/orders", json=spec).json() for _ in range(3)]
    finally:
        sim.kill()                              # no shutdown hook runs: the file is all there is
    sim, url = start()
    try:
        after = httpx.post(f"{url}/_sim/orders", json=spec).json()
    finally:
        sim.stop()
    assert after["id"] > made[-1]["id"]
    assert int(after["order_number"]) == int(made[-1]["order_number"]) + 1
    assert json.loads(state.read_text()) == {"last_order_id": after["id"],
                                             "last_order_number": int(after["order_number"])}

    state.write_text("{not json")
    port = free_port()
    bad = subprocess.run([sys.executable, "-m", "sagebridge_sim.xcart", "--port", str(port), *tokens],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "unreadable" in bad.stderr and str(state) in bad.stderr


def _store_result(kind: str, outcome: str, occurred_at, recorded_at) -> dict:
    return {"entity_type": kind, "outcome": outcome,
            "metadata": {"occurred_at": occurred_at, "recorded_at": recorded_at}}


def test_the_view_measures_erp_changes_from_their_sage_stamp_and_leaves_the_first_read_out():
    from datetime import timedelta

    from sagebridge_devstack.flow_monitor import FlowMonitor

    monitor = FlowMonitor("127.0.0.1:1")                     # not started: no broker needed
    before = monitor.started - timedelta(seconds=30)          # a row of the first full read of the tables
    after = monitor.started + timedelta(seconds=1)
    monitor._count_store_write(_store_result("inventory", "updated", before, after))
    monitor._count_store_write(_store_result("inventory", "updated", after, after + timedelta(milliseconds=800)))
    monitor._count_store_write(_store_result("shipment", "updated", after, after + timedelta(milliseconds=1500)))
    monitor._count_store_write(_store_result("product", "already_present", after, after))
    monitor._count_store_write(_store_result("order_status", "failed", after, after))
    snap = monitor.snapshot()
    assert snap["stock written to X-Cart"] == 2 and snap["shipments written to X-Cart"] == 1
    assert snap["stock latency p50 (ms)"] == snap["stock latency p99 (ms)"] == 800
    assert snap["shipments latency p50 (ms)"] == 1500 and snap["products latency p50 (ms)"] is None
    assert snap["unchanged or superseded"] == 1 and snap["store writes failed"] == 1


def test_the_erp_demo_makes_only_items_no_demo_order_uses_inactive_and_brings_them_back():
    from sagebridge_devstack.demo import CATALOGUE
    from sagebridge_devstack.erp_demo import ErpDemoDriver

    driver = ErpDemoDriver("http://127.0.0.1:1", rate_per_s=1, ship_ratio=1.0, toggle_every=1)
    changes = [driver.next_change() for _ in range(6)]
    assert [c[2]["changes"]["INACTIVE"] for c in changes] == [1, 0, 1, 0, 1, 0]
    assert not {c[2]["item"] for c in changes} & {sku for sku, _n, _p in CATALOGUE}
    assert all(changes[i][2]["item"] == changes[i + 1][2]["item"] for i in (0, 2, 4))
    driver.order_reached_sage("ORD000000042")
    kind, route, body = driver.next_shipment()
    assert (kind, route, body["order"]) == ("shipment", "ship", "ORD000000042") and body["tracking"].startswith("1Z")
    assert driver.next_shipment() is None


@pytest.mark.parametrize("pair,store", [("3dcart-sage300", "Shift4Shop simulator"),
                                        ("3dcartsoap-sage300", "3dcart SOAP simulator")])
def test_up_runs_each_3dcart_pair_both_ways(tmp_path, pair, store):
    """`scripts/up.sh --pair ...`: the store simulator of that pair, orders reaching Sage 300 under the
    pair's prefix, Sage's stock reaching the store, nothing dead-lettered by the ready services."""
    out = _up(tmp_path, 8, "--pair", pair)
    assert f"  {store}" in out and "X-Cart" not in out, out[:2000]
    final = _lines(out, "final")[0]
    assert int(final["created"]) > 0 and int(final["stock"]) > 0, out[-2000:]
    assert int(final["store_failed"]) == 0 and int(final["store_dlq"]) == 0, out[-2000:]
    assert all(final[s] == "ready" for s in ("ingest", "transform", "erp-writer", "erp-cdc", "storefront-writer")), final
    prefix = {"3dcart-sage300": "3D1-AB-", "3dcartsoap-sage300": "3DS-AB-"}[pair]
    db = Sage300Database(str(tmp_path / "sage300.sqlite"))
    try:
        refs = [h["REFERENCE"].strip() for h, _ in db.order_rows()]
    finally:
        db.close()
    assert refs and all(r.startswith(prefix) for r in refs), refs[:5]
