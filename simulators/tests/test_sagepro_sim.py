"""The Sage Pro simulator's control server over HTTP (testing.running_sim) and its lock faults as a
writer on another ODBC connection meets them: PostgreSQL's lock timeout (55P03) and SQLite's
"database is locked"; then `python -m sagebridge_sim.sagepro` as the dev stack runs it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import httpx
import pyodbc
import pytest

from sagebridge_sim.sagepro.__main__ import parse_args
from sagebridge_sim.sagepro.pg_cluster import PostgresCluster
from sagebridge_sim.sagepro.testing import running_sim
from sagebridge_sim.serve import free_port


@pytest.fixture(scope="module")
def pg():
    with PostgresCluster() as cluster:
        yield cluster


@pytest.fixture(scope="module", params=["postgres", "sqlite"])
def sim(request, tmp_path_factory):
    if request.param == "postgres":
        target = request.getfixturevalue("pg").create_database("simhttp")
    else:
        target = str(tmp_path_factory.mktemp("sagepro") / "company.db")
    with running_sim(target) as s:
        yield s


def writer_connection(sim) -> pyodbc.Connection:
    """A connection as the hub's writer opens it: short lock waits, autocommit off."""
    if sim.db.engine == "sqlite":
        return pyodbc.connect(sim.connection_string.replace("Timeout=10000", "Timeout=200"), autocommit=False)
    conn = pyodbc.connect(sim.connection_string, autocommit=False)
    conn.cursor().execute("SET lock_timeout = '200ms'")
    return conn


def test_changes_over_http_answer_exact_values(sim):
    assert sim.post("stock", {"item": "WIDGET-1", "on_hand": 12.5})["on_hand"] == "12.50"
    assert sim.post("stock", {"item": "WIDGET-1", "delta": "-0.5"})["on_hand"] == "12.00"
    assert sim.post("stock/bulk", {"changes": [{"item": "GADGET-1", "on_hand": "3"},
                                               {"item": "GADGET-2", "on_hand": "4"}]}) == {"rows": 2}
    assert sim.post("price", {"item": "WIDGET-1", "price": "10.10"})["price"] == "10.1000"
    assert sim.post("price", {"item": "WIDGET-1", "price": "10.5", "pcode": None})["price"] == "10.5000"
    assert sim.post("customer", {"custno": "WEB001", "changes": {"phone": "555"}})["phone"] == "555"
    assert sim.post("stock", {"item": "NOPE", "on_hand": 1}, expect=404)["error"].startswith("no item")
    assert "decimal places" in sim.post("stock", {"item": "WIDGET-1", "on_hand": "1.001"}, expect=400)["error"]
    assert sim.post("nothing", {}, expect=404)["error"]
    rows = sim.get("rows/item_location", item="GADGET-2")
    assert rows == [{"item": "GADGET-2", "loctid": "MAIN", "on_hand": "4.00", "committed": "0.00"}]


def test_an_order_keyed_then_shipped_over_http(sim):
    ref = f"XP1-H{time.monotonic_ns() % 10**8}"
    made = sim.post("orders", {"custno": "BLACK01", "ponum": ref, "lines": [
        {"item": "A1-105/0", "qtyord": 1, "price": "19.99"}], "address": {"name": "Ron"}})
    sono = made["header"]["sono"]
    shipped = sim.post("ship", {"ponum": ref, "tracking": "1Z1", "shipvia": "UPS"})
    assert (shipped["header"]["sono"], shipped["header"]["sostat"], shipped["header"]["tracking"]) == (sono, "S", "1Z1")
    assert sim.get("state_of_order", sono=sono)["lines"][0]["sostat"] == "S"
    assert [o["ponum"] for o in sim.get("orders", ponum=ref)] == [ref]
    assert sim.post("ship", {"ponum": ref, "tracking": "again"}, expect=400)["error"]
    assert sim.state_of_order(ponum=ref)["header"]["ordamt"] == Decimal("19.99")
    assert sim.get("stats")["last_number"] == sono


def test_numbering_row_lock_gives_the_writer_a_lock_timeout_until_released(sim):
    held = sim.post("faults/lock", {"table": "numbering", "seconds": 60})
    assert held["held"] is True and sim.get("faults")["locks"][0]["table"] == "sosyst01"
    conn = writer_connection(sim)
    try:
        with pytest.raises(pyodbc.Error) as e:
            conn.cursor().execute("UPDATE sosyst01 SET lastsono = lastsono")
        assert ("55P03" if sim.db.engine == "postgres" else "locked") in str(e.value)
        conn.rollback()
        assert sim.http.delete("/_sim/faults/lock").json() == {"released": 1}
        conn.cursor().execute("UPDATE sosyst01 SET lastsono = lastsono")    # free again
        conn.rollback()
    finally:
        conn.close()
    assert sim.get("faults")["locks"] == []


def test_table_lock_blocks_writes_not_reads(sim):
    with sim.lock("item_location", seconds=60):
        conn = writer_connection(sim)
        try:
            assert conn.cursor().execute("SELECT COUNT(*) FROM iciloc01").fetchone()[0] > 0
            with pytest.raises(pyodbc.Error):
                conn.cursor().execute("UPDATE iciloc01 SET lonhand = lonhand WHERE item = ?", "WIDGET-1".ljust(20))
            conn.rollback()
        finally:
            conn.close()
    assert sim.post("stock", {"item": "WIDGET-1", "on_hand": "5"})["on_hand"] == "5.00"   # released


def test_a_lock_on_an_unknown_table_is_refused(sim):
    assert "no table" in sim.post("faults/lock", {"table": "nosuch", "seconds": 1}, expect=400)["error"]


def test_command_line_never_takes_a_password():
    with pytest.raises(SystemExit):
        parse_args(["--db", "DRIVER={PostgreSQL Unicode};SERVER=h;UID=u;PWD=secret"])
    os.environ["SAGEPRO_SIM_DB"] = "DRIVER={PostgreSQL Unicode};SERVER=h;UID=u;PWD=secret"
    try:
        assert parse_args([]).db.endswith("PWD=secret")
    finally:
        del os.environ["SAGEPRO_SIM_DB"]


def test_module_runs_creates_seeds_and_stops_cleanly(tmp_path):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sagebridge_sim.sagepro", "--port", str(port), "--db",
                             str(tmp_path / "dev.db"), "--company", "01", "--seed-demo", "--create-schema"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        stats = None
        deadline = time.monotonic() + 30
        while stats is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                stats = httpx.get(f"http://127.0.0.1:{port}/_sim/stats", timeout=2).json()
            except httpx.HTTPError:
                time.sleep(0.1)
        assert stats is not None, proc.stdout.read().decode() if proc.poll() is not None else "no answer"
        assert stats["item_location"] == 12 and stats["last_number"] == "1000"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0


def test_an_order_the_hub_wrote_is_shipped_by_its_reference(sim, tmp_path):
    """The writer's rows (the real Sage Pro sink, shipped pair) are what the driver finds and ships."""
    import yaml

    from sagebridge_common.pairs import load_pair_file
    from sagebridge_connectors.sagepro.sink import SageProSink

    data = yaml.safe_load((Path(__file__).resolve().parents[2] / "pairs" / "xcart-sagepro.yaml").read_text())
    data["storefront"] = {"kind": "xcart", "base_url": "http://127.0.0.1:9"}
    erp = {k: v for k, v in data["erp"].items() if not (isinstance(v, str) and "${" in v)}
    erp.pop("location", None)
    data["erp"] = {**erp, "connection_string": sim.connection_string, "dialect": sim.db.engine, "company": "01",
                   "change_capture": None}
    (tmp_path / "pair.yaml").write_text(yaml.safe_dump(data))
    sink = SageProSink(load_pair_file(tmp_path / "pair.yaml"))
    number = f"S{time.monotonic_ns() % 10**8}"
    addr = {"name": "Ann Lee", "company": None, "line1": "1 Main Street", "line2": None, "city": "New York",
            "region": "New York", "postal_code": "10001", "country": "US", "phone": None, "email": None,
            "region_code": "NY", "erp_country": "USA"}
    order = {"order_id": number, "order_number": number, "ordered_at": datetime.now(timezone.utc), "currency": "USD",
             "customer": {"email": "orders@example.com", "email_key": "orders@example.com", "erp_customer_id": "WEB001",
                          "first_name": "Ann", "last_name": "Lee", "phone": None, "new_customer_number": None},
             "billing_address": addr, "shipping_address": addr, "ship_via_code": "UPS", "notes": None,
             "lines": [{"line_id": "1", "sku": "GADGET-2", "item_number": "GADGET-2", "name": "Gadget",
                        "location_code": "MAIN", "quantity": Decimal("3"), "unit_price": Decimal("39.00"),
                        "discount": Decimal("0"), "line_total": Decimal("117.00")}],
             "charges": [], "subtotal": Decimal("117.00"), "discount_total": Decimal("0"),
             "shipping_total": Decimal("0"), "tax_total": Decimal("0"), "total": Decimal("117.00"),
             "tax_mode": "store", "rate_type": None}
    try:
        written = sink.ensure_order(order)
    finally:
        sink.close()
    assert written.outcome == "created"
    before = sim.driver.rows("item_location", item="GADGET-2")[0]["on_hand"]
    shipped = sim.post("ship", {"ponum": f"XP1-{number}", "tracking": "1ZHUB"})
    assert (shipped["header"]["sono"], shipped["header"]["sostat"]) == (written.document_id, "S")
    assert sim.driver.rows("item_location", item="GADGET-2")[0]["on_hand"] == before - 3
