"""The Sage Pro simulator's demo company and ERP-side driver, on PostgreSQL 15 through psqlODBC and on
SQLite through sqlite3odbc, every row read back through a second, independent ODBC connection (as the
hub's change capture reads them)."""
from __future__ import annotations

import uuid
from decimal import Decimal

import pyodbc
import pytest

from sagebridge_sim.sagepro.db import SageProDb
from sagebridge_sim.sagepro.demo import DEMO_CUSTOMERS, demo_items, ensure_schema, seed_demo
from sagebridge_sim.sagepro.driver import ErpError, SageProDriver
from sagebridge_sim.sagepro.pg_cluster import PostgresCluster


@pytest.fixture(scope="module")
def pg():
    with PostgresCluster() as cluster:
        yield cluster


@pytest.fixture(scope="module", params=["postgres", "sqlite"])
def db(request, tmp_path_factory) -> SageProDb:
    if request.param == "postgres":
        target = request.getfixturevalue("pg").create_database("driver")
    else:
        target = str(tmp_path_factory.mktemp("sagepro") / "company.db")
    database = SageProDb(target)
    assert ensure_schema(database) is True
    seed_demo(database)
    return database


@pytest.fixture()
def driver(db) -> SageProDriver:
    return SageProDriver(db)


@pytest.fixture()
def raw(db):
    conn = pyodbc.connect(db.connection_string, autocommit=True)
    yield conn.cursor()
    conn.close()


def new_order(driver: SageProDriver, qty: str = "2") -> dict:
    ref = f"XP1-{uuid.uuid4().hex[:8]}"
    return driver.enter_order("WEB001", [{"item": "WIDGET-1", "qtyord": qty, "price": "12.50"},
                                         {"item": "HANDLING", "qtyord": 1, "price": "3.00"}], ponum=ref,
                              address={"name": "Jo Doe", "city": "Paris"}, freight=Decimal("5.00"))


def on_hand(raw, item: str, loc: str = "MAIN") -> Decimal:
    row = raw.execute("SELECT lonhand FROM iciloc01 WHERE item = ? AND loctid = ?",
                      item.ljust(20), loc.ljust(6)).fetchone()
    return Decimal(str(row[0])).quantize(Decimal("0.01"))


def test_demo_company_matches_the_store_catalogue_and_seeds_again_the_same(db, driver, raw):
    """Runs first: the stock is still the seeded 1000 at MAIN."""
    assert {r["item"]: r["on_hand"] for r in driver.rows("item_location", loctid="MAIN")} == {
        i["item"]: Decimal("1000.00") for i in demo_items()}
    from sagebridge_devstack.store_catalogue import store_products
    store = {p["sku"]: p for p in store_products()}      # the dev stack's X-Cart catalogue
    items = {r["item"]: r for r in driver.rows("item")}
    assert set(store) <= set(items) and {"HANDLING", "MISC"} <= set(items)
    for sku, product in store.items():
        assert items[sku]["descrip"] == product["name"]
        assert items[sku]["price"] == Decimal(product["price"])
        assert driver.rows("price", item=sku, pcode="WEB")[0]["price"] == Decimal(product["price"])
    before = driver.counts()
    seed_demo(db)
    assert driver.counts() == before
    assert before["customer"] == len(DEMO_CUSTOMERS) and before["last_number"] != ""
    assert ensure_schema(db) is False


def test_stock_is_set_adjusted_and_padded_as_vfp_keeps_it(driver, raw):
    assert driver.set_stock("GADGET-1", "17.5")["on_hand"] == Decimal("17.50")
    assert on_hand(raw, "GADGET-1") == Decimal("17.50")
    assert driver.adjust_stock("GADGET-1", Decimal("-2.25"))["on_hand"] == Decimal("15.25")
    stored = driver.rows("item_location", raw=True, item="GADGET-1")[0]
    assert stored["item"] == "GADGET-1".ljust(20) and stored["loctid"] == "MAIN".ljust(6)
    driver.set_stock("GADGET-1", 4, location="EAST")       # a new location row
    assert on_hand(raw, "GADGET-1", "EAST") == Decimal("4.00")
    with pytest.raises(ErpError, match="more than 2 decimal places"):
        driver.set_stock("GADGET-1", "1.005")
    with pytest.raises(ErpError) as e:
        driver.set_stock("NO-SUCH-ITEM", 1)
    assert e.value.status == 404


def test_bulk_stock_is_one_transaction(driver, raw):
    items = [i["item"] for i in demo_items()]
    rows = driver.bulk_stock([(item, Decimal(n)) for n, item in enumerate(items, start=1)])
    assert len(rows) == len(items) and on_hand(raw, items[-1]) == Decimal(len(items))
    bad = [(item, Decimal(500)) for item in items] * 2 + [("NO-SUCH-ITEM", Decimal(1))]
    with pytest.raises(ErpError):
        driver.bulk_stock(bad)
    assert on_hand(raw, items[0]) == Decimal(1)          # nothing of the refused count landed


def test_prices_on_the_price_code_and_on_the_item(driver, raw):
    assert driver.set_price("WIDGET-2", "13.99")["price"] == Decimal("13.9900")
    assert driver.set_price("WIDGET-2", Decimal("15"), pcode=None)["price"] == Decimal("15.0000")
    assert driver.set_price("WIDGET-2", "9.5", pcode="RETAIL")["pcode"] == "RETAIL"
    prices = {r["pcode"]: r["price"] for r in driver.rows("price", item="WIDGET-2")}
    assert prices == {"WEB": Decimal("13.99"), "RETAIL": Decimal("9.50")}
    assert Decimal(str(raw.execute("SELECT price FROM icitem01 WHERE item = ?", "WIDGET-2".ljust(20))
                       .fetchone()[0])) == Decimal(15)


def test_items_added_edited_and_deleted_with_their_rows(driver):
    driver.add_item("TEMP-1", "Temporary", "2.50", on_hand="3")
    driver.set_price("TEMP-1", "2.75")
    assert driver.set_item("TEMP-1", status="I")["status"] == "I"
    with pytest.raises(ErpError, match="longer than 20"):
        driver.add_item("X" * 21)
    with pytest.raises(ErpError, match="exists"):
        driver.add_item("TEMP-1")
    assert driver.delete_item("TEMP-1") == {"item_location": 1, "price": 1, "item": 1}
    assert driver.rows("item", item="TEMP-1") == [] and driver.rows("item_location", item="TEMP-1") == []


def test_customer_edit(driver):
    row = driver.edit_customer("BLACK01", email="ron.black@example.com", city="Salem")
    assert (row["email"], row["city"], row["name"]) == ("ron.black@example.com", "Salem", "Ronald Black")
    with pytest.raises(ErpError) as e:
        driver.edit_customer("NOBODY", city="X")
    assert e.value.status == 404
    with pytest.raises(ErpError, match="cannot be changed"):
        driver.edit_customer("BLACK01", custno="OTHER")


def test_order_entered_numbered_left_padded_and_shipped_by_ponum(driver, raw):
    before = on_hand(raw, "WIDGET-1")
    order = new_order(driver)
    head = order["header"]
    sono = head["sono"]
    assert driver.rows("order_header", raw=True, sono=sono)[0]["sono"] == sono.rjust(10)
    assert driver.counts()["last_number"] == sono
    assert head["ordamt"] == Decimal("33.00") and [ln["extprice"] for ln in order["lines"]] == [
        Decimal("25.00"), Decimal("3.00")]
    shipped = driver.ship_order(ponum=head["ponum"], tracking="1Z999AA1", shipvia="UPS GROUND",
                                shipdate="2026-12-01")
    h = shipped["header"]
    assert (h["sostat"], h["tracking"], h["shipvia"], h["shipdate"].isoformat()) == (
        "S", "1Z999AA1", "UPS GROUND", "2026-12-01")
    assert {ln["sostat"] for ln in shipped["lines"]} == {"S"}
    assert on_hand(raw, "WIDGET-1") == before - 2
    assert raw.execute("SELECT sotrack FROM somast01 WHERE sono = ?", sono.rjust(10)).fetchone()[0].strip() == "1Z999AA1"
    with pytest.raises(ErpError, match="cannot be shipped"):
        driver.ship_order(sono=sono, tracking="again")


def test_order_on_hold_is_not_shipped_and_state_reads_back(driver):
    order = new_order(driver, qty="1")
    sono = order["header"]["sono"]
    driver.set_order_status("H", sono=sono)
    with pytest.raises(ErpError, match="'H'"):
        driver.ship_order(sono=sono, tracking="T")
    driver.set_order_status("", sono=sono)
    state = driver.ship_order(sono=sono, tracking="T", relieve_stock=False)
    assert state["address"]["name"] == "Jo Doe" and len(state["lines"]) == 2
    assert driver.orders(ponum=order["header"]["ponum"])[0]["sostat"] == "S"
    with pytest.raises(ErpError) as e:
        driver.state_of_order(ponum="XP1-NOPE")
    assert e.value.status == 404
