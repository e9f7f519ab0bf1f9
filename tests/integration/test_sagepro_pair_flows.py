"""Issue 10 end to end, X-Cart <-> Sage Pro (pair `xcart-sagepro`): the X-Cart simulator, Sage Pro's
tables in PostgreSQL 15 through psqlODBC (this module's own database in the session's cluster), the
Sage Pro simulator's control app and all five services as real processes on the session broker,
one stack for the module. The tests use their own orders, e-mails and items, so they share it.

Store -> Sage Pro: a new customer's order becomes one arcust row and one somast header with its
soaddr ship-to and sotran lines (field by field); three orders with one e-mail are one customer.
Sage Pro -> store: a stock count and a shipped order (sostat S, sotrack) end in X-Cart's state
through snapshot-diff capture, transform and storefront-writer. `sagebridge reconcile` for the pair
is clean. A database whose layout differs from the template stops erp-writer, naming the column.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from sagebridge_connectors.sagepro.layout import load_layout
from sagebridge_devstack.processes import ManagedProcess, free_port

from .conftest import wait_until
from .sagepro_pair import PREFIX, D, build_database, customer_number, new_email, running_pair

SAGEBRIDGE = str(Path(sys.executable).parent / "sagebridge")
ADDRESS = {"street": "9 Elm St", "city": "Albany", "state_name": "New York", "zipcode": "12207",
           "country_code": "US", "phone": "518-555-0101"}


@pytest.fixture(scope="module")
def pair(bootstrap, serde, sagepro_pg, tmp_path_factory):
    odbc = build_database(sagepro_pg, "pro_flows")
    with running_pair(bootstrap, serde, tmp_path_factory.mktemp("sagepro-flows"), odbc, first_order=81000) as p:
        yield p


# -- X-Cart -> Sage Pro ------------------------------------------------------------------------

def test_a_new_customers_order_is_one_arcust_row_and_one_somast_header_with_its_sotran_lines(pair):
    email = new_email("Nora.Quinn")
    made = pair.store.order(email=email, first_name="Nora", last_name="Quinn", address=ADDRESS, shipping="5.00",
                            tax="1.20", items=[{"sku": "WIDGET-1", "name": "Widget", "price": "12.50", "amount": 2},
                                               {"sku": "GADGET-1", "name": "Gadget, small", "price": "24.50",
                                                "amount": 1}])
    ref = PREFIX + made["order_number"]
    head = pair.in_sagepro(made)
    want = customer_number(email)

    [customer] = pair.tables.customers_with(email)
    assert customer["custno"] == want
    assert customer["email"].lower() == email.lower()
    assert customer["company"] == "Nora Quinn" and customer["contact"] == "Nora Quinn"
    assert (customer["address1"], customer["city"], customer["zip"]) == ("9 Elm St", "Albany", "12207")

    sono = head["sono"]
    assert sono.isdigit() and int(sono) > 1000
    assert head["custno"] == want and head["ponum"] == ref
    assert head["sostat"] == "" and head["loctid"] == "MAIN" and head["shipvia"] == "UPS-GROUND"
    assert head["adduser"] == "SAGEBRIDGE"
    assert (D(head["tax"]), D(head["freight"]), D(head["disc"])) == (D("1.20"), D("5.00"), D("0"))
    assert D(head["ordamt"]) == D("55.70")                  # 2 x 12.50 + 24.50 + freight 5.00 + tax 1.20

    lines = pair.tables.lines(sono)
    assert [(l["item"], D(l["qtyord"]), D(l["price"]), D(l["extprice"])) for l in lines] == [
        ("WIDGET-1", D(2), D("12.50"), D("25.00")), ("GADGET-1", D(1), D("24.50"), D("24.50"))]
    assert [int(l["tranlineno"]) for l in lines] == [1, 2]
    assert {(l["custno"], l["loctid"], l["umeasur"], l["sostat"]) for l in lines} == {(want, "MAIN", "EA", "")}

    [ship_to] = pair.tables.addresses(sono)
    assert (ship_to["address1"], ship_to["city"], ship_to["zip"]) == ("9 Elm St", "Albany", "12207")
    created = wait_until(lambda: [v for v in pair.erp_results(ref) if v["outcome"] == "created"], timeout=30,
                         message="the order's result")
    assert [v["target_document_id"] for v in created] == [sono]


def test_three_orders_with_one_email_are_one_customer(pair):
    email = new_email("Tia.Three")
    made = [pair.store.order(email=email, first_name="Tia", last_name="Three", address=ADDRESS) for _ in range(3)]
    heads = [pair.in_sagepro(m) for m in made]
    [customer] = pair.tables.customers_with(email)
    assert {h["custno"] for h in heads} == {customer["custno"]} == {customer_number(email)}
    assert len({h["sono"] for h in heads}) == 3


# -- Sage Pro -> X-Cart ------------------------------------------------------------------------

def test_a_stock_count_in_sagepro_sets_the_xcart_amount(pair):
    sku = "A1-310/0"
    pair.sim.stock(sku, "MAIN", "437")
    record = pair.store.product_becomes(sku, "amount 437 (lonhand - committed)", amount=437)
    assert record["enabled"] is True


def test_an_order_shipped_in_sagepro_is_shipped_in_xcart_with_its_tracking_number(pair):
    made = pair.store.order(email=new_email("Sam.Ship"), items=[{"sku": "GADGET-2", "name": "Gadget",
                                                                 "price": "3.25", "amount": 1}])
    head = pair.in_sagepro(made)
    pair.sim.ship(head["sono"], "1ZSP0000000000091")
    order = wait_until(lambda: (o := pair.store.api_order(made["id"]))["tracking_numbers"]
                       and o["shipping_status"]["code"] == "S" and o, timeout=45,
                       message="shipped with its tracking number")
    assert [t["value"] for t in order["tracking_numbers"]] == ["1ZSP0000000000091"]
    assert order["payment_status"]["code"] == "P"          # the pair sets only the shipping status
    [shipped] = pair.tables.orders(PREFIX + made["order_number"])
    assert shipped["sostat"] == "S" and shipped["sotrack"] == "1ZSP0000000000091"


# -- reconcile ---------------------------------------------------------------------------------

def test_sagebridge_reconcile_gives_a_clean_report_for_the_pair(pair):
    for made in pair.store.placed:
        pair.in_sagepro(made)
    now = datetime.now(timezone.utc)
    env = {**os.environ, **pair.stack.service_env("storefront-writer"), **pair.stack.service_env("erp-writer")}
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    window = ["--from", (now - timedelta(hours=1)).isoformat(), "--to", (now + timedelta(minutes=5)).isoformat()]
    done = subprocess.run([SAGEBRIDGE, "reconcile", "--pair", pair.id, "--pairs-path", str(pair.stack.pair_file),
                           *window, "--payments", "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["clean"] is True and report["gaps"] == [], report
    counts = report["counts"]
    assert counts["matched"] == len(pair.store.placed), report
    assert counts["missing_in_erp"] == counts["duplicated"] == counts["total_mismatch"] == 0, report


# -- a site whose tables differ from the template --------------------------------------------

@pytest.mark.parametrize("override, named", [
    ({"order_header": {"columns": {"ponum": {"column": "ponum", "type": "char", "width": 25}}}}, "ponum"),
    ({"order_line": {"columns": {"extprice": None}}}, "extprice"),
], ids=["wider-ponum", "missing-extprice"])
def test_a_table_layout_that_differs_from_the_template_stops_erp_writer_naming_the_column(
        pair, sagepro_pg, tmp_path, override, named):
    odbc = build_database(sagepro_pg, f"pro_layout_{uuid.uuid4().hex[:6]}", layout=load_layout({"tables": override}))
    port = free_port()
    env = pair.stack.service_env("erp-writer") | {"SAGEPRO_CONNECTION": odbc, "OPS_PORT": str(port)}
    writer = ManagedProcess.python_module("erp-writer-layout", "sagebridge_erp_writer.main", env, tmp_path,
                                          ready_url=f"http://127.0.0.1:{port}/readyz").start()
    try:
        code = writer.proc.wait(60)
    finally:
        writer.stop()
    log = writer.log_path.read_text(errors="replace")
    assert code == 2, log[-2000:]                  # refused at start (serve's StartRefused), not a crash
    table = "sotran01" if "order_line" in override else "somast01"
    assert "cannot start" in log and f"{table}.{named}" in log, log[-2000:]
    logical = "order_line" if "order_line" in override else "order_header"
    assert f"correct erp.layout.tables.{logical}.columns.{named}" in log, log[-2000:]
