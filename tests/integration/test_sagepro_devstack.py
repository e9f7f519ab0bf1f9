"""`scripts/up.sh --pair xcart-sagepro` (`sagebridge-dev up --pair xcart-sagepro`): the X-Cart
simulator, Sage Pro's tables in a SQLite file through the SQLite3 ODBC driver with the simulator's
control app, and the five services, demo traffic both ways: orders are created in Sage Pro, and
Sage Pro's own changes (stock counts, shipped orders) reach X-Cart, nothing dead-lettered on the
store side."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyodbc

from sagebridge_devstack.erp_demo import SageProDemoDriver, erp_demo_driver_for

from .test_devstack import ENV, _lines

BIN = Path(sys.executable).parent / "sagebridge-dev"
SERVICES = ("ingest", "transform", "erp-writer", "erp-cdc", "storefront-writer")


def test_up_runs_the_xcart_sagepro_pair_both_ways(tmp_path):
    proc = subprocess.run([str(BIN), "up", "--pair", "xcart-sagepro", "--rate", "5", "--erp-rate", "4",
                           "--duration", "10", "--until", "created,stock,shipments", "--status-every", "1",
                           "--work-dir", str(tmp_path)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=ENV, text=True, timeout=300)
    out = proc.stdout
    assert proc.returncode == 0, out
    assert "  Sage Pro simulator" in out and "sagepro.sqlite" in out and "Sage 300 simulator" not in out, out[:2000]
    final = _lines(out, "final")[0]
    assert int(final["created"]) > 0 and int(final["stock"]) > 0 and int(final["shipments"]) > 0, out[-2000:]
    assert int(final["store_failed"]) == 0 and int(final["store_dlq"]) == 0, out[-2000:]
    assert all(final[s] == "ready" for s in SERVICES), final
    # the orders are in the SQLite file the stack made, one somast row per reference
    conn = pyodbc.connect(f"DRIVER={{SQLite3}};Database={tmp_path / 'sagepro.sqlite'}")
    try:
        refs = [r[0].strip() for r in conn.cursor().execute("SELECT ponum FROM somast01").fetchall()]
    finally:
        conn.close()
    assert len(refs) >= int(final["created"]) and len(refs) == len(set(refs)), refs[:20]
    assert all(r.startswith("XP1-") for r in refs), refs[:20]


def test_the_sagepro_demo_driver_speaks_the_simulators_routes():
    driver = erp_demo_driver_for("sagepro", "http://127.0.0.1:9", 1.0)
    assert isinstance(driver, SageProDemoDriver)
    driver.order_reached_sage(None)
    driver.ship_ratio = 1.0
    driver.order_reached_sage("1007")
    kind, route, body = driver.next_shipment()
    assert (kind, route, body["sono"]) == ("shipment", "ship", "1007")
    assert body["tracking"].startswith("1Z") and driver.next_shipment() is None
    driver.toggle_every = 0
    for _ in range(20):
        kind, route, body = driver.next_change()
        assert route in ("stock", "price") and body["item"]
        if route == "stock":
            assert body["location"] == "MAIN" and int(body["on_hand"]) > 0
        else:
            assert body["pcode"] == "WEB" and body["price"]
