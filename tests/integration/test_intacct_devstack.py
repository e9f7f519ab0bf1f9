"""`scripts/up.sh --pair xcart-intacct` (`sagebridge-dev up --pair xcart-intacct`): the X-Cart and
Sage Intacct simulators and the five services, demo traffic both ways: orders reach Intacct, and
Intacct's own changes (stock counts, prices, shipped orders) reach X-Cart, nothing dead-lettered
but the demo's deliberately unknown SKU."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sagebridge_devstack.erp_demo import IntacctDemoDriver, erp_demo_driver_for

from .test_devstack import ENV, _lines

BIN = Path(sys.executable).parent / "sagebridge-dev"
SERVICES = ("ingest", "transform", "erp-writer", "erp-cdc", "storefront-writer")


def test_up_runs_the_xcart_intacct_pair_both_ways(tmp_path):
    proc = subprocess.run([str(BIN), "up", "--pair", "xcart-intacct", "--rate", "5", "--erp-rate", "4",
                           "--duration", "15", "--until", "created,receipts,stock,shipments", "--status-every", "1",
                           "--work-dir", str(tmp_path)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=ENV, text=True, timeout=300)
    out = proc.stdout
    assert proc.returncode == 0, out
    assert "  Intacct simulator" in out and "/ia/xml/xmlgw.phtml" in out and "Sage 300 simulator" not in out, out[:2000]
    final = _lines(out, "final")[0]
    assert int(final["created"]) > 0 and int(final["receipts"]) > 0, out[-2000:]
    assert int(final["stock"]) > 0 and int(final["shipments"]) > 0, out[-2000:]
    assert int(final["store_failed"]) == 0 and int(final["store_dlq"]) == 0, out[-2000:]
    assert all(final[s] == "ready" for s in SERVICES), {s: final[s] for s in SERVICES}


def test_the_intacct_demo_driver_speaks_the_intacct_simulators_routes():
    driver = erp_demo_driver_for("intacct", "http://127.0.0.1:9", 1.0)
    assert isinstance(driver, IntacctDemoDriver)
    driver.order_reached_sage(None)
    driver.ship_ratio = 1.0
    driver.order_reached_sage("Sales Order-SO-00007")
    kind, route, body = driver.next_shipment()
    assert (kind, route, body["docid"]) == ("shipment", "ship", "Sales Order-SO-00007")
    assert body["tracking"].startswith("1Z") and driver.next_shipment() is None
    driver.toggle_every = 0
    for _ in range(20):
        kind, route, body = driver.next_change()
        assert route in ("stock", "items") and body["ITEMID"]
        if route == "stock":
            assert body["WAREHOUSEID"] == "WH1" and int(body["QTYONHAND"]) > 0
        else:
            assert set(body) == {"ITEMID", "BASEPRICE"}
