"""The Sage 300 simulator's ERP-side driver over the real SQLite ODBC database, its rows read back through a
second, independent ODBC connection (as erp_cdc reads them), and its `/_sim/erp/...` routes over HTTP."""
from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path

import httpx
import pyodbc
import pytest

from sagebridge_sim.sage300 import Sage300Database, create_app
from sagebridge_sim.sage300.erp_driver import ErpDriver, ErpError, live_on_hand
from sagebridge_sim.serve import BackgroundServer

ITEM, ITEMNO = "A1-105/0", "A11050"


@pytest.fixture(scope="module")
def db_path(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("sage300erp") / "SAMINC.db"


@pytest.fixture(scope="module")
def db(db_path):
    database = Sage300Database(str(db_path))
    database.seed_demo()
    yield database
    database.close()


@pytest.fixture()
def driver(db):
    d = ErpDriver(db)
    yield d
    d.set_time_zone(None)


@pytest.fixture()
def raw(db_path):
    conn = pyodbc.connect(f"DRIVER={{SQLite3}};Database={db_path}", autocommit=True)
    yield conn.cursor()
    conn.close()


def new_order(db: Sage300Database, qty: int = 3, item: str = ITEM) -> dict:
    """An order as the Web API would store it (ORDNUMBER, reference, committed stock)."""
    ref = f"T-{uuid.uuid4().hex[:8]}"
    q = Decimal(qty)
    orduniq = db.create_order(
        {"CUSTOMER": "WEBCUST", "REFERENCE": ref, "PONUMBER": ref, "TYPE": 1, "COMPLETE": 1, "SHIPVIA": "FEDEX",
         "VIADESC": "FedEx Express"}, {},
        [{"LINETYPE": 1, "ITEM": item, "LOCATION": "1", "QTYORDERED": q, "QTYBACKORD": q, "QTYCOMMIT": q,
          "UNITPRICE": Decimal("19.99")},
         {"LINETYPE": 2, "MISCCHARGE": "FRT", "EXTINVMISC": Decimal("5.00")}])
    return db.get("OEORDH", {"ORDUNIQ": orduniq})


def stock(db: Sage300Database, itemno: str = ITEMNO, location: str = "1") -> dict:
    return db.get("ICILOC", {"ITEMNO": itemno, "LOCATION": location})


def test_partial_then_full_shipment_moves_stock_and_writes_shipment_rows(db, driver, raw):
    order = new_order(db, qty=3)
    before = stock(db)
    first = driver.ship_order(order["ORDNUMBER"], "1Z999AA10123456784", {ITEM: 1}, shipvia="UPSGRD")

    head = raw.execute('SELECT "SHINUMBER", "ORDUNIQ", "ORDNUMBER", "CUSTOMER", "PONUMBER", "REFERENCE", '
                       '"SHIPVIA", "VIADESC", "SHIPTRACK" FROM "OESHIH" WHERE "ORDUNIQ" = ?',
                       order["ORDUNIQ"]).fetchall()
    assert len(head) == 1
    number, orduniq, ordnumber, cust, po, ref, via, viadesc, track = head[0]
    assert number.rstrip() == first["OESHIH"]["SHINUMBER"] and number.startswith("SH")
    assert Decimal(str(orduniq)) == order["ORDUNIQ"] and ordnumber.rstrip() == order["ORDNUMBER"]
    assert (cust.rstrip(), po.rstrip(), ref.rstrip()) == ("WEBCUST", order["PONUMBER"], order["REFERENCE"])
    assert (via.rstrip(), viadesc.rstrip()) == ("UPSGRD", "UPS Ground")
    assert len(track) == 36 and track.rstrip() == "1Z999AA10123456784"   # CHAR(36), space-padded

    lines = db.select("OESHID", {"SHIUNIQ": first["OESHIH"]["SHIUNIQ"]})
    assert [(x["ITEM"], x["LOCATION"], x["QTYSHIPPED"], x["ORDNUMBER"], x["ORDDTLNUM"], x["SHIPTRACK"])
            for x in lines] == [(ITEM, "1", Decimal("1.0000"), order["ORDNUMBER"], Decimal(32), "1Z999AA10123456784")]

    after = stock(db)
    assert after["QTYSHNOCST"] == before["QTYSHNOCST"] + 1
    assert after["QTYCOMMIT"] == before["QTYCOMMIT"] - 1 and after["QTYSALORDR"] == before["QTYSALORDR"] - 1
    assert live_on_hand(after) == live_on_hand(before) - 1
    line = db.select("OEORDD", {"ORDUNIQ": order["ORDUNIQ"], "LINENUM": 32})[0]
    assert (line["QTYSHPTODT"], line["QTYBACKORD"], line["COMPLETE"]) == (Decimal(1), Decimal(2), 0)
    h1 = db.get("OEORDH1", {"ORDUNIQ": order["ORDUNIQ"]})
    assert (h1["NUMSHPMENT"], h1["LASTSHINUM"], h1["SHIPTRACK"]) == (1, number.rstrip(), "1Z999AA10123456784")
    assert db.get("OEORDH", {"ORDUNIQ": order["ORDUNIQ"]})["COMPLETE"] == 1

    second = driver.ship_order(int(order["ORDUNIQ"]), "1Z999AA10123456785")   # the rest
    assert second["OESHIH"]["SHIUNIQ"] > first["OESHIH"]["SHIUNIQ"]
    assert [x["QTYSHIPPED"] for x in second["OESHID"]] == [Decimal(2)]
    assert db.get("OEORDH", {"ORDUNIQ": order["ORDUNIQ"]})["COMPLETE"] == 3
    assert {x["COMPLETE"] for x in db.order_lines(order["ORDUNIQ"])} == {2}
    h1 = db.get("OEORDH1", {"ORDUNIQ": order["ORDUNIQ"]})
    assert (h1["NUMSHPMENT"], h1["LASTSHINUM"]) == (2, second["OESHIH"]["SHINUMBER"])
    assert stock(db)["QTYSHNOCST"] == before["QTYSHNOCST"] + 3
    with pytest.raises(ErpError, match="complete"):
        driver.ship_order(order["ORDNUMBER"], "X")


def test_shipping_is_refused_as_sage_refuses_it(db, driver):
    order = new_order(db, qty=2)
    with pytest.raises(ErpError, match="outstanding"):
        driver.ship_order(order["ORDNUMBER"], "T", {ITEM: 3})
    with pytest.raises(ErpError, match="Ship-via"):
        driver.ship_order(order["ORDNUMBER"], "T", shipvia="NOPE")
    driver.hold_order(order["ORDNUMBER"], "Credit check")
    assert db.get("OEORDH1", {"ORDUNIQ": order["ORDUNIQ"]})["HOLDREASON"] == "Credit check"
    with pytest.raises(ErpError, match="on hold"):
        driver.ship_order(order["ORDNUMBER"], "T")
    driver.release_order(order["ORDNUMBER"])
    assert db.select("OESHIH", {"ORDUNIQ": order["ORDUNIQ"]}) == []   # nothing was written by the refusals
    driver.ship_order(order["ORDNUMBER"], "T")
    assert len(db.select("OESHIH", {"ORDUNIQ": order["ORDUNIQ"]})) == 1


def test_complete_order_gives_back_the_commitment(db, driver):
    before = stock(db)
    order = new_order(db, qty=4)
    assert stock(db)["QTYCOMMIT"] == before["QTYCOMMIT"] + 4
    driver.complete_order(order["ORDNUMBER"])
    assert db.get("OEORDH", {"ORDUNIQ": order["ORDUNIQ"]})["COMPLETE"] == 3
    assert stock(db)["QTYCOMMIT"] == before["QTYCOMMIT"]


def test_frozen_clock_gives_one_stamp_to_every_row(db, driver, raw):
    with driver.frozen_clock() as frozen:
        result = driver.burst(1000, 1000, prefix="FRZ")
        price = driver.set_price("WIDGET-1", "10.49")
    assert result["stamps"] == [frozen] and len(result["ICILOC"]) == 1000
    assert (price["AUDTDATE"], price["AUDTTIME"]) == frozen
    stamps = raw.execute('SELECT DISTINCT "AUDTDATE", "AUDTTIME" FROM "ICILOC" WHERE "ITEMNO" LIKE ?',
                         "FRZ%").fetchall()
    assert [(int(d), int(t)) for d, t in stamps] == [frozen]


def test_stamps_increase_outside_a_frozen_clock(db, driver):
    first = driver.adjust_stock(ITEM, "1", 1)
    later = first
    while (later["AUDTDATE"], later["AUDTTIME"]) == (first["AUDTDATE"], first["AUDTTIME"]):
        later = driver.adjust_stock(ITEM, "1", 1)    # the hundredth-of-a-second clock moves on
    assert (later["AUDTDATE"], later["AUDTTIME"]) > (first["AUDTDATE"], first["AUDTTIME"])


def test_time_zone_stamps_the_servers_local_clock(db, driver):
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo
    moment = datetime(2026, 7, 1, 3, 30, tzinfo=timezone.utc)
    driver.set_time_zone("America/Vancouver")                      # UTC-7 in July
    with driver.frozen_clock(moment):
        row = driver.receive_stock(ITEM, "1", 2)
    assert (row["AUDTDATE"], row["AUDTTIME"]) == (Decimal(20260630), Decimal(20300000))
    assert datetime.now(ZoneInfo("America/Vancouver"))  # zone data present


def test_stock_price_item_customer_and_delete(db, driver):
    before = stock(db, "WIDGET1")
    assert driver.receive_stock("WIDGET-1", "1", 5)["QTYRENOCST"] == before["QTYRENOCST"] + 5
    assert driver.adjust_stock("WIDGET-1", "1", "-2")["QTYADNOCST"] == before["QTYADNOCST"] - 2
    assert live_on_hand(driver.set_on_hand("WIDGET-1", "1", 7)) == Decimal(7)
    new_loc = driver.receive_stock("WIDGET-1", "2", 3)
    assert (new_loc["LOCATION"], new_loc["QTYRENOCST"], new_loc["ACTIVE"]) == ("2", Decimal(3), 1)
    with pytest.raises(ErpError):
        driver.receive_stock("NO-SUCH", "1", 1)

    sale = driver.set_price("WIDGET-1", "8.00", price_type=2, sale_start=20260101, sale_end=20261231)
    assert (sale["ITEMNO"], sale["PRICELIST"], sale["DPRICETYPE"], sale["UNITPRICE"]) == \
        ("WIDGET1", "WEB", 2, Decimal("8.000000"))
    item = driver.set_item("WIDGET-1", DESC="Widget, standard v2", ALLOWONWEB=0, CATEGORY="WIDG")
    assert (item["DESC"], item["ALLOWONWEB"]) == ("Widget, standard v2", 0)
    with pytest.raises(ErpError):
        driver.set_item("WIDGET-1", ITEMNO="X")
    cust = driver.change_customer("1200", EMAIL2="ron.black@example.com")
    assert (cust["EMAIL2"], cust["AUDTUSER"]) == ("ron.black@example.com", "ADMIN")

    deleted = driver.delete_row("ICPRICP", "USD|WIDGET1|WEB|2|EA|")
    assert deleted["UNITPRICE"] == Decimal("8.000000")
    assert db.get("ICPRICP", {"CURRENCY": "USD", "ITEMNO": "WIDGET1", "PRICELIST": "WEB", "DPRICETYPE": 2,
                              "QTYUNIT": "EA", "WEIGHTUNIT": ""}) is None
    with pytest.raises(ErpError, match="not found"):
        driver.delete_row("ICPRICP", "USD|WIDGET1|WEB|2|EA|")


def test_demo_company_has_web_prices(db):
    prices = db.select("ICPRICP", {"PRICELIST": "WEB", "CURRENCY": "USD", "DPRICETYPE": 1})
    assert {p["ITEMNO"] for p in prices} >= {"A11050", "WIDGET2", "GIFTCARD25"}
    assert all(i["CATEGORY"] for i in db.select("ICITEM") if not i["ITEMNO"].startswith("FRZ"))


# ----- HTTP ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client(db):
    with BackgroundServer(create_app(db)) as srv, httpx.Client(base_url=srv.url, timeout=30) as c:
        yield c


def test_http_ship_and_rows(db, client):
    order = new_order(db, qty=2)
    r = client.post("/_sim/erp/ship", json={"order": order["ORDNUMBER"], "tracking": "TRK-1",
                                            "lines": [{"line": 32, "quantity": "1"}], "shipvia": "FEDEX"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["OESHID"][0]["QTYSHIPPED"] == "1.0000" and body["OESHIH"]["SHIPTRACK"] == "TRK-1"
    assert body["OEORDH1"]["NUMSHPMENT"] == 1
    got = client.get("/_sim/erp/rows/OESHIH", params={"ORDNUMBER": order["ORDNUMBER"]}).json()
    assert [x["SHINUMBER"] for x in got] == [body["OESHIH"]["SHINUMBER"]]
    refused = client.post("/_sim/erp/ship", json={"order": order["ORDNUMBER"], "tracking": "T",
                                                  "lines": [{"item": ITEM, "quantity": 5}]})
    assert refused.status_code == 400 and "outstanding" in refused.json()["error"]
    assert client.post("/_sim/erp/ship", json={"order": "NOPE", "tracking": "T"}).status_code == 404


def test_http_changes(db, client):
    s = client.post("/_sim/erp/stock", json={"item": "GADGET-1", "location": "1", "quantity": "2.5",
                                             "kind": "adjust"})
    assert s.status_code == 200 and s.json()["ITEMNO"] == "GADGET1"
    p = client.post("/_sim/erp/price", json={"item": "GADGET-1", "price": "26.00"}).json()
    assert p["UNITPRICE"] == "26.000000"
    i = client.post("/_sim/erp/item", json={"item": "GADGET-1", "changes": {"INACTIVE": 1}}).json()
    assert i["INACTIVE"] == 1
    c = client.post("/_sim/erp/customer", json={"customer": "1105", "changes": {"SWHOLD": 0}}).json()
    assert c["SWHOLD"] == 0
    order = new_order(db, qty=1)
    h = client.post("/_sim/erp/hold", json={"order": order["ORDNUMBER"], "reason": "Fraud check"}).json()
    assert (h["OEORDH"]["ONHOLD"], h["OEORDH1"]["HOLDREASON"]) == (1, "Fraud check")
    assert client.post("/_sim/erp/release", json={"order": order["ORDNUMBER"]}).json()["OEORDH"]["ONHOLD"] == 0
    assert client.post("/_sim/erp/complete", json={"order": order["ORDNUMBER"]}).json()["OEORDH"]["COMPLETE"] == 3
    d = client.post("/_sim/erp/delete", json={"table": "ICILOC", "key": {"ITEMNO": "GADGET1", "LOCATION": "1"}})
    assert d.status_code == 200 and db.get("ICILOC", {"ITEMNO": "GADGET1", "LOCATION": "1"}) is None
    b = client.post("/_sim/erp/burst", json={"updates": 30, "items": 10, "prefix": "HTTPB"}).json()
    assert len(b["stamps"]) == 1 and len(b["ICILOC"]) == 10 and b["ICILOC"][0]["QTYADNOCST"] == "3.0000"
    assert client.post("/_sim/erp/nope", json={}).status_code == 404


def test_http_clock(db, client):
    frozen = client.post("/_sim/erp/clock", json={"freeze": [20260101, 12000000]}).json()
    try:
        assert frozen["frozen"] == [20260101, 12000000]
        row = client.post("/_sim/erp/stock", json={"item": ITEM, "location": "1", "quantity": 1}).json()
        assert (row["AUDTDATE"], row["AUDTTIME"]) == ("20260101", "12000000")
    finally:
        thawed = client.post("/_sim/erp/clock", json={"freeze": False, "time_zone": "UTC"}).json()
    assert thawed["frozen"] is None and thawed["time_zone"] == "UTC"


def test_frozen_clock_also_stamps_http_writes(db, driver, client):
    with driver.frozen_clock((20260315, 8000000)) as frozen:
        row = client.post("/_sim/erp/stock", json={"item": ITEM, "location": "1", "quantity": 1}).json()
        inner = driver.adjust_stock(ITEM, "1", 1)
    assert (row["AUDTDATE"], row["AUDTTIME"]) == ("20260315", "8000000")
    assert (inner["AUDTDATE"], inner["AUDTTIME"]) == frozen
    assert db.stamp_override is None


def test_deleting_a_partly_shipped_order_gives_back_only_what_it_still_commits(db, driver):
    before = stock(db)
    order = new_order(db, qty=3)
    driver.ship_order(order["ORDNUMBER"], "T", {ITEM: 1})
    db.delete_order(order["ORDUNIQ"])
    after = stock(db)
    assert (after["QTYCOMMIT"], after["QTYSALORDR"]) == (before["QTYCOMMIT"], before["QTYSALORDR"])
    assert after["QTYSHNOCST"] == before["QTYSHNOCST"] + 1      # the shipped unit stays shipped
