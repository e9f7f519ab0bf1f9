"""Sage 300 Web API simulator over real HTTP, with its tables checked through a second, independent
ODBC connection (as the CDC service will read them).

One simulator per module (shared SQLite file); tests use their own OrderReference values so orders
made by other tests never disturb their counts.
"""
from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import httpx
import pyodbc
import pytest

from sagebridge_sim.faults import FaultInjector
from sagebridge_sim.sage300 import Sage300Database, create_app
from sagebridge_sim.sage300.odata import ODataError, compile_filter, parse_filter
from sagebridge_sim.sage300.testing import JSON_CT, assert_error, loads
from sagebridge_sim.serve import BackgroundServer, free_port

USER, PASSWORD = "WEBAPI", "S3cret!"


def order_body(ref: str, **extra) -> dict:
    return {
        "CustomerNumber": "WEBCUST", "OrderDate": "2024-11-05", "OrderReference": ref,
        "OrderDiscountAmount": "1.00", "TaxAmount1": 2.10,
        "OrderDetails": [
            {"LineType": "Item", "Item": "A1-105/0", "Location": "1", "QuantityOrdered": 3,
             "OrderUnitPrice": 19.99, "PriceOverride": True},
            {"LineType": "Miscellaneous", "MiscellaneousChargesCode": "FRT", "ExtendedAmount": "5.00"},
        ],
        **extra,
    }


@pytest.fixture(scope="module")
def db_path(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("sage300") / "SAMINC.db"


@pytest.fixture(scope="module")
def injector() -> FaultInjector:
    return FaultInjector()


@pytest.fixture(scope="module")
def server(db_path, injector):
    db = Sage300Database(str(db_path))
    db.create_schema()
    db.create_schema()  # idempotent
    db.seed_demo()
    with BackgroundServer(create_app(db, user=USER, password=PASSWORD, injector=injector, page_size=3)) as srv:
        yield srv
    db.close()


@pytest.fixture()
def api(server, injector):
    injector.configure(reset=True)
    with httpx.Client(base_url=f"{server.url}/Sage300WebApi/v1.0/-/SAMINC", auth=(USER, PASSWORD),
                      headers=JSON_CT, timeout=10) as client:
        yield client


@pytest.fixture()
def raw(db_path):
    """An independent ODBC connection, like the CDC reader's."""
    conn = pyodbc.connect(f"DRIVER={{SQLite3}};Database={db_path}", autocommit=True)  # no stale snapshot
    yield conn.cursor()
    conn.close()


def wait_for(check, what: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def post_order(api: httpx.Client, ref: str, **extra) -> dict:
    r = api.post("/OE/OEOrders", json=order_body(ref, **extra))
    assert r.status_code == 201, r.text
    return loads(r)


# ----- storage conventions -------------------------------------------------------------------------
def test_char_columns_are_space_padded_and_audit_stamped_in_utc(server, raw):
    idcust, custdate, custtime, user, org = raw.execute(
        'SELECT "IDCUST", "AUDTDATE", "AUDTTIME", "AUDTUSER", "AUDTORG" FROM "ARCUS" WHERE "IDCUST" = ?',
        "WEBCUST".ljust(12)).fetchone()
    assert idcust == "WEBCUST     " and len(idcust) == 12
    itemno, fmt = raw.execute('SELECT "ITEMNO", "FMTITEMNO" FROM "ICITEM" WHERE "FMTITEMNO" = ?',
                              "A1-105/0".ljust(24)).fetchone()
    assert itemno == "A11050".ljust(24) and len(itemno) == 24 and fmt.rstrip() == "A1-105/0"
    now = datetime.now(timezone.utc)
    assert int(Decimal(custdate)) == int(now.strftime("%Y%m%d"))
    hhmmsshh = f"{int(Decimal(custtime)):08d}"
    assert len(hhmmsshh) == 8
    stamped = datetime.strptime(now.strftime("%Y%m%d") + hhmmsshh[:6], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    assert abs(now - stamped) < timedelta(minutes=5)
    assert (user, org) == ("ADMIN   ", "SAMINC")
    columns = [d[0] for d in raw.execute('SELECT * FROM "OEORDH" WHERE 1 = 0').description]
    assert columns[:5] == ["ORDUNIQ", "AUDTDATE", "AUDTTIME", "AUDTUSER", "AUDTORG"]


# ----- transport -----------------------------------------------------------------------------------
def test_wrong_or_missing_credentials_get_401_error_body(server):
    url = f"{server.url}/Sage300WebApi/v1.0/-/SAMINC/OE/OEOrders"
    bad = httpx.get(url, auth=(USER, "wrong"), headers=JSON_CT)
    assert "Basic" in bad.headers["www-authenticate"]
    assert_error(bad, 401, "Unauthorized")
    assert_error(httpx.get(url, headers=JSON_CT), 401, "Unauthorized")


def test_missing_content_type_is_plain_500_even_on_get(server):
    url = f"{server.url}/Sage300WebApi/v1.0/-/SAMINC/AR/ARCustomers"
    for r in (httpx.get(url, auth=(USER, PASSWORD)),
              httpx.post(url, auth=(USER, PASSWORD), content=b"{}", headers={"Content-Type": "text/plain"})):
        assert r.status_code == 500
        assert not r.headers["content-type"].startswith("application/json")
        with pytest.raises(ValueError):
            r.json()


def test_unknown_company_and_resource_are_404(api, server):
    r = httpx.get(f"{server.url}/Sage300WebApi/v1.0/-/NOPE/OE/OEOrders", auth=(USER, PASSWORD), headers=JSON_CT)
    assert_error(r, 404, "ResourceNotFound")
    assert_error(api.get("/OE/OEWidgets"), 404, "ResourceNotFound")
    assert_error(api.get("/OE/OEOrders(999999999)"), 404, "RecordNotFound")
    assert_error(api.delete("/OE/OEOrders(1)"), 405, "MethodNotAllowed")


# ----- OEOrders POST -------------------------------------------------------------------------------
def test_post_order_returns_generated_keys_lines_and_exact_total(api, raw):
    ref = f"SHOP-{uuid.uuid4().hex[:8]}"
    entry = post_order(api, ref)
    assert isinstance(entry["OrderUniquifier"], int)
    assert re.fullmatch(r"ORD\d{9}", entry["OrderNumber"])
    assert entry["OrderReference"] == ref and entry["CustomerNumber"] == "WEBCUST"
    assert entry["OrderDate"] == "2024-11-05T00:00:00Z"
    assert [d["LineNumber"] for d in entry["OrderDetails"]] == [32, 64]
    item, misc = entry["OrderDetails"]
    assert (item["LineType"], item["Item"], item["ExtendedAmount"]) == ("Item", "A1-105/0", Decimal("59.97"))
    assert (misc["LineType"], misc["MiscellaneousChargesCode"]) == ("Miscellaneous", "FRT")
    expected = Decimal("3") * Decimal("19.99") + Decimal("5.00") - Decimal("1.00") + Decimal("2.10")
    assert entry["OrderTotal"] == expected == Decimal("66.07")
    total, number = raw.execute('SELECT "INVNETWTX", "ORDNUMBER" FROM "OEORDH" WHERE "ORDUNIQ" = ?',
                                entry["OrderUniquifier"]).fetchone()
    assert Decimal(total) == expected and len(number) == 22 and number.rstrip() == entry["OrderNumber"]
    lines = raw.execute('SELECT "LINENUM", "ITEM" FROM "OEORDD" WHERE "ORDUNIQ" = ? ORDER BY "LINENUM"',
                        entry["OrderUniquifier"]).fetchall()
    assert [(int(Decimal(n)), i.rstrip()) for n, i in lines] == [(32, "A1-105/0"), (64, "")]


def test_repeated_post_creates_a_second_order(api, server):
    ref = f"DUP-{uuid.uuid4().hex[:8]}"
    before = httpx.get(f"{server.url}/_sim/stats").json()["order_posts"]
    first, second = post_order(api, ref), post_order(api, ref)
    assert first["OrderUniquifier"] != second["OrderUniquifier"]
    assert first["OrderNumber"] != second["OrderNumber"]
    found = loads(api.get("/OE/OEOrders", params={"$filter": f"OrderReference eq '{ref}'"}))["value"]
    assert len(found) == 2
    assert httpx.get(f"{server.url}/_sim/stats").json()["order_posts"] == before + 2
    mine = [o for o in httpx.get(f"{server.url}/_sim/orders").json() if o["OrderReference"] == ref]
    assert len(mine) == 2 and all(abs(o["received_at_ms"] - time.time() * 1000) < 60_000 for o in mine)


def test_unknown_item_is_record_invalid_naming_the_item(api):
    body = order_body("BAD-ITEM")
    body["OrderDetails"][0]["Item"] = "NO-SUCH-9"
    message = assert_error(api.post("/OE/OEOrders", json=body), 400, "RecordInvalid")
    assert "NO-SUCH-9" in message


def test_unknown_properties_are_invalid_payload(api):
    message = assert_error(api.post("/OE/OEOrders", json=order_body("BAD-PROP", ShippingMethod="UPS")),
                           400, "InvalidPayload")
    assert "ShippingMethod" in message
    body = order_body("BAD-DETAIL")
    body["OrderDetails"][0]["Sku"] = "A1-105/0"
    assert "Sku" in assert_error(api.post("/OE/OEOrders", json=body), 400, "InvalidPayload")
    assert_error(api.post("/OE/OEOrders", content=b"{not json"), 400, "InvalidPayload")


def test_business_rules_on_customer_and_codes(api):
    assert_error(api.post("/OE/OEOrders", json={**order_body("X"), "CustomerNumber": "NOBODY"}), 400, "RecordInvalid")
    assert_error(api.post("/OE/OEOrders", json=order_body("X", ShipViaCode="PIGEON")), 400, "RecordInvalid")
    assert_error(api.post("/OE/OEOrders", json={**order_body("X"), "OrderDetails": []}), 400, "InvalidPayload")
    float_noise = order_body("X")
    float_noise["OrderDetails"][0]["OrderUnitPrice"] = 19.990000000000002
    assert_error(api.post("/OE/OEOrders", json=float_noise), 400, "InvalidPayload")
    entry = post_order(api, "VIA", ShipViaCode="UPSGRD")
    assert entry["ShipViaCodeDescription"] == "UPS Ground"


def test_post_order_commits_stock_in_iciloc(api, raw):
    sql = 'SELECT "QTYCOMMIT", "QTYSALORDR", "QTYONHAND" FROM "ICILOC" WHERE "ITEMNO" = ? AND "LOCATION" = ?'
    key = ("WIDGET1".ljust(24), "1".ljust(6))
    before = [Decimal(v) for v in raw.execute(sql, *key).fetchone()]
    body = order_body("STOCK")
    body["OrderDetails"][0].update(Item="WIDGET-1", QuantityOrdered="2.5")
    post_order(api, "STOCK", OrderDetails=body["OrderDetails"])
    after = [Decimal(v) for v in raw.execute(sql, *key).fetchone()]
    assert after[0] - before[0] == Decimal("2.5") and after[1] - before[1] == Decimal("2.5")
    assert after[2] == before[2] == Decimal(1000)


def test_customer_with_duplicate_po_check_refuses_a_repeated_po(api):
    po = f"PO-{uuid.uuid4().hex[:8]}"
    body = {**order_body("PO-CHECK"), "CustomerNumber": "1200", "PurchaseOrderNumber": po}
    assert api.post("/OE/OEOrders", json=body).status_code == 201
    text = assert_error(api.post("/OE/OEOrders", json=body), 400, "RecordInvalid")
    assert text == f"Purchase order number {po} has already been used for customer 1200."
    assert api.post("/OE/OEOrders", json={**body, "CustomerNumber": "WEBCUST"}).status_code == 201
    refs = [o["OrderReference"] for o in loads(api.get("/OE/OEOrders", params={
        "$filter": f"PurchaseOrderNumber eq '{po}'"}))["value"]]
    assert refs == ["PO-CHECK", "PO-CHECK"]                    # one per customer, the refused one not stored


@pytest.mark.parametrize("option", ["Warning", "None"])
def test_duplicate_po_warning_or_none_accepts_the_repeat(api, server, option):
    http = httpx.Client(base_url=server.url, timeout=10)
    changed = http.post("/_sim/customers/1200", json={"CheckForDuplicatePOs": option})
    try:
        assert changed.status_code == 200 and changed.json()["CheckForDuplicatePOs"] == option
        assert loads(api.get("/AR/ARCustomers('1200')"))["CheckForDuplicatePOs"] == option
        po = f"PO-{uuid.uuid4().hex[:8]}"
        body = {**order_body("PO-WARN"), "CustomerNumber": "1200", "PurchaseOrderNumber": po}
        assert [api.post("/OE/OEOrders", json=body).status_code for _ in range(2)] == [201, 201]
    finally:
        http.post("/_sim/customers/1200", json={"CheckForDuplicatePOs": "Error"}).raise_for_status()
    assert_error(http.post("/_sim/customers/NOBODY", json={"CheckForDuplicatePOs": "Error"}), 404, "RecordNotFound")
    assert_error(http.post("/_sim/customers/1200", json={"CheckForDuplicatePOs": "Maybe"}), 400, "InvalidPayload")


def test_duplicate_po_check_holds_for_concurrent_posts(api, server, injector):
    """The check runs at commit time with the insert: two POSTs held together cannot both pass it."""
    injector.configure(commit_late_ms=300)
    po = f"PO-{uuid.uuid4().hex[:8]}"
    body = {**order_body("PO-RACE"), "CustomerNumber": "1200", "PurchaseOrderNumber": po}
    url = f"{server.url}/Sage300WebApi/v1.0/-/SAMINC/OE/OEOrders"
    with ThreadPoolExecutor(4) as pool:
        statuses = sorted(pool.map(lambda _: httpx.post(url, json=body, auth=(USER, PASSWORD), headers=JSON_CT,
                                                         timeout=10).status_code, range(4)))
    assert statuses == [201, 400, 400, 400]


def test_commit_late_stores_the_order_after_the_client_gave_up(api, server, injector):
    injector.configure(commit_late_ms=3000, commit_late_count=1)
    ref = f"LATE-{uuid.uuid4().hex[:8]}"
    with pytest.raises(httpx.ReadTimeout):
        api.post("/OE/OEOrders", json=order_body(ref), timeout=0.5)
    find = {"$filter": f"OrderReference eq '{ref}'"}
    assert loads(api.get("/OE/OEOrders", params=find))["value"] == []        # not committed yet
    wait_for(lambda: loads(api.get("/OE/OEOrders", params=find))["value"], "the late commit")
    assert len(loads(api.get("/OE/OEOrders", params=find))["value"]) == 1
    assert injector.snapshot()["commit_late_ms"] == 0                          # the count ran out
    assert post_order(api, f"{ref}-next")["OrderReference"] == f"{ref}-next"  # later writes commit at once


# ----- OEOrders GET --------------------------------------------------------------------------------
def test_filter_top_skip_count_and_next_link(api):
    tag = uuid.uuid4().hex[:6]
    made = [post_order(api, f"PG-{tag}-{i}") for i in range(5)]
    quoted = post_order(api, f"O'Brien-{tag}")
    feed = loads(api.get("/OE/OEOrders", params={"$filter": f"OrderReference eq 'PG-{tag}-3'"}))
    assert [e["OrderUniquifier"] for e in feed["value"]] == [made[3]["OrderUniquifier"]]
    assert feed["value"][0]["OrderDetails"][0]["LineNumber"] == 32
    feed = loads(api.get("/OE/OEOrders", params={"$filter": f"OrderReference eq 'O''Brien-{tag}'"}))
    assert [e["OrderUniquifier"] for e in feed["value"]] == [quoted["OrderUniquifier"]]

    params = {"$filter": f"startswith(OrderReference,'PG-{tag}-')", "$top": "2", "$skip": "1", "$count": "true"}
    feed = loads(api.get("/OE/OEOrders", params=params))
    assert feed["odata.count"] == "5" and feed["odata.context"].endswith("$metadata#OEOrders")
    assert [e["OrderReference"] for e in feed["value"]] == [f"PG-{tag}-1", f"PG-{tag}-2"]
    assert "odata.nextLink" not in feed

    # server paging: this app's page size is 3, so 5 rows come in two pages
    feed = loads(api.get("/OE/OEOrders", params={"$filter": f"startswith(OrderReference,'PG-{tag}-')"}))
    assert len(feed["value"]) == 3 and "odata.count" not in feed
    rest = loads(api.get(feed["odata.nextLink"]))
    assert [e["OrderReference"] for e in feed["value"] + rest["value"]] == [f"PG-{tag}-{i}" for i in range(5)]
    assert "odata.nextLink" not in rest
    one = loads(api.get(f"/OE/OEOrders({made[0]['OrderUniquifier']})"))
    assert one["OrderReference"] == f"PG-{tag}-0"
    named = loads(api.get(f"/OE/OEOrders(OrderUniquifier = {made[1]['OrderUniquifier']})"))
    assert named["OrderReference"] == f"PG-{tag}-1"
    assert_error(api.get("/OE/OEOrders('ORD1')"), 400, "InvalidEntityKey")


def test_bad_filter_is_invalid_parameters(api):
    assert_error(api.get("/OE/OEOrders", params={"$filter": "Nope eq 'x'"}), 400, "InvalidParameters")
    assert_error(api.get("/OE/OEOrders", params={"$filter": "OrderReference eq 'x"}), 400, "InvalidParameters")
    assert_error(api.get("/OE/OEOrders", params={"$top": "-1"}), 400, "InvalidParameters")


# ----- other resources -----------------------------------------------------------------------------
def test_ar_customers_feed_key_and_duplicate_insert(api, raw):
    web = loads(api.get("/AR/ARCustomers('WEBCUST')"))
    assert (web["Email"], web["ContactsEmail"], web["Status"], web["OnHold"]) == \
        ("webstore@example.com", "orders@example.com", "Active", "No")
    held = loads(api.get("/AR/ARCustomers", params={"$filter": "OnHold eq 'Yes' and Status eq 'Active'"}))
    assert [c["CustomerNumber"] for c in held["value"]] == ["1105"]
    number = f"C{uuid.uuid4().hex[:8].upper()}"
    body = {"CustomerNumber": number, "CustomerName": "New Shopper", "Email": "new@example.com", "OnHold": "No"}
    created = api.post("/AR/ARCustomers", json=body)
    assert created.status_code == 201 and created.json()["CustomerNumber"] == number
    (email2,) = raw.execute('SELECT "EMAIL2" FROM "ARCUS" WHERE "IDCUST" = ?', number.ljust(12)).fetchone()
    assert email2 == "new@example.com".ljust(50)
    assert_error(api.post("/AR/ARCustomers", json=body), 409, "RecordDuplicate")


def test_ic_items_feed_and_key(api):
    items = loads(api.get("/IC/ICItems", params={"$count": "true", "$top": "100"}))
    assert int(items["odata.count"]) >= 10
    lamp = loads(api.get("/IC/ICItems('A11050')"))
    assert (lamp["ItemNumber"], lamp["StockItem"], lamp["Status"]) == ("A1-105/0", True, "Active")
    assert lamp["UnitWeight"] == Decimal("3.0000")


# ----- faults and admin ----------------------------------------------------------------------------
def test_injected_503_and_429_carry_sage_error_body_and_retry_after(api, server):
    httpx.post(f"{server.url}/_sim/faults", json={"error_status": 503, "error_count": 1, "retry_after_s": 2})
    r = api.get("/OE/OEOrders")
    assert r.headers["retry-after"] == "2"
    assert_error(r, 503, "InternalServerError")
    httpx.post(f"{server.url}/_sim/faults", json={"rate_limit_count": 1, "retry_after_s": 1})
    r = api.post("/OE/OEOrders", json=order_body("LIMITED"))
    assert r.headers["retry-after"] == "1"
    assert_error(r, 429, "TooManyRequests")
    assert api.get("/OE/OEOrders", params={"$top": "1"}).status_code == 200
    stats = httpx.get(f"{server.url}/_sim/stats").json()
    statuses = {(s["method"], s["resource"], s["status"]) for s in stats["requests"]}
    assert {("GET", "OE/OEOrders", 503), ("POST", "OE/OEOrders", 429)} <= statuses


# ----- $filter parser ------------------------------------------------------------------------------
ENTRY = {"A": 1, "B": 0, "C": 0, "Name": "O'Brien", "Total": Decimal("99.99"), "Flag": True,
         "Date": "2015-12-31T00:00:00Z", "Ref": "SHOP-1001"}


@pytest.mark.parametrize("text, expected", [
    ("A eq 1 or B eq 2 and C eq 3", True),          # and binds tighter than or
    ("(A eq 1 or B eq 2) and C eq 3", False),
    ("B eq 2 and C eq 3 or A eq 1", True),
    ("not (A eq 1) or B ne 0", False),
    ("Name eq 'O''Brien'", True),
    ("startswith(Ref,'SHOP-') and endswith(Ref,'1001')", True),
    ("substringof('OP-10',Ref)", True),
    ("startswith(Ref,'shop')", False),
    ("Total ge 99.99m and Total lt 100", True),
    ("Flag eq true and Date lt datetime'2015-12-31T12:00'", True),
    ("Date gt datetime'2015-12-31T12:00'", False),
    ("length(Ref) eq 9", True),
])
def test_filter_evaluation(text, expected):
    assert compile_filter(text, ENTRY)(ENTRY) is expected


@pytest.mark.parametrize("text", ["A eq", "A eq 1 and", "(A eq 1", "Name eq 'open", "A eq 1 B", "Nope eq 1",
                                  "frobnicate(A)", "A eq 'x' and #"])
def test_filter_errors(text):
    with pytest.raises(ODataError):
        parse_filter(text, ENTRY)


def test_filter_type_mismatch_is_an_error():
    with pytest.raises(ODataError):
        compile_filter("Ref eq 1001", ENTRY)(ENTRY)


# ----- reset and CLI -------------------------------------------------------------------------------
def test_reset_clears_orders_and_releases_committed_stock(api, server, raw):
    post_order(api, "BEFORE-RESET")
    assert httpx.post(f"{server.url}/_sim/reset").status_code == 200
    assert httpx.get(f"{server.url}/_sim/orders").json() == []
    assert httpx.get(f"{server.url}/_sim/stats").json()["orders"] == 0
    commits = raw.execute('SELECT "QTYCOMMIT", "QTYSALORDR" FROM "ICILOC"').fetchall()
    assert all(Decimal(c) == 0 and Decimal(s) == 0 for c, s in commits)
    assert int(loads(api.get("/IC/ICItems", params={"$count": "true"}))["odata.count"]) >= 10  # seeds kept


def test_cli_serves_until_sigterm(tmp_path):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sagebridge_sim.sage300", "--port", str(port),
                             "--db", str(tmp_path / "cli.db"), "--user", "U", "--password", "P", "--seed-demo"])
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/Sage300WebApi/v1.0/-/SAMINC/IC/ICItems('WIDGET1')",
                              auth=("U", "P"), headers=JSON_CT)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
        assert r.status_code == 200 and r.json()["ItemNumber"] == "WIDGET-1"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
