"""Shift4Shop simulator, read side, over real HTTP: auth, arrays and 404s, 1-based offset paging,
countonly, store-local date filters, the Order shape and its amount invariant, faults."""
from __future__ import annotations

import re
import time
from decimal import Decimal

import httpx
import pytest

from sagebridge_sim.shift4shop.testing import HEADERS, running_sim

DATE_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")
ORDER_KEYS = [
    "InvoiceNumberPrefix", "InvoiceNumber", "OrderID", "CustomerID", "OrderDate", "OrderStatusID", "LastUpdate",
    "UserID", "SalesPerson", "ContinueURL", "AlternateOrderID", "OrderType", "PaymentTokenID", "BillingFirstName",
    "BillingLastName", "BillingCompany", "BillingAddress", "BillingAddress2", "BillingCity", "BillingState",
    "BillingZipCode", "BillingCountry", "BillingPhoneNumber", "BillingEmail", "BillingPaymentMethod",
    "BillingOnLinePayment", "BillingPaymentMethodID", "ShipmentList", "OrderItemList", "PromotionList",
    "OrderDiscount", "OrderDiscountCoupon", "OrderDiscountPromotion", "SalesTax", "SalesTax2", "SalesTax3",
    "OrderAmount", "AffiliateCommission", "TransactionList", "CardType", "CardNumber", "CardName",
    "CardExpirationMonth", "CardExpirationYear", "CardIssueNumber", "CardStartMonth", "CardStartYear",
    "CardAddress", "CardVerification", "RewardPoints", "QuestionList", "Referer", "IP", "CustomerComments",
    "InternalComments", "ExternalComments",
]


@pytest.fixture(scope="module")
def sim():
    with running_sim() as s:
        s.product("TEE", name="Tee", price="20.00", stock=10,
                  options=[{"code": "390-493", "sku": "TEE-RED-L", "name": "Red / L", "price": "2.50", "stock": 4}])
        yield s


@pytest.fixture(autouse=True)
def _reset(sim):
    yield
    sim.admin.post("/_sim/faults", json={"reset": True})


def _error(resp: httpx.Response, status: int) -> dict:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert isinstance(body, list) and set(body[0]) == {"Key", "Value", "Status", "Message"}
    assert body[0]["Status"] == str(status)
    return body[0]


# ---- auth ---------------------------------------------------------------------------------

def test_missing_or_wrong_credentials_get_401_in_the_error_shape(sim):
    base = sim.server.url + "/3dCartWebAPI/v1/Orders"
    _error(httpx.get(base), 401)
    for name in HEADERS:
        _error(httpx.get(base, headers={**HEADERS, name: HEADERS[name] + "x"}), 401)
        _error(httpx.get(base, headers={k: v for k, v in HEADERS.items() if k != name}), 401)


def test_header_names_are_case_insensitive_and_v2_serves_the_same_paths(sim):
    sim.order(items=[{"sku": "TEE"}])
    lower = {k.lower(): v for k, v in HEADERS.items()}
    lower["secureurl"] += "/"
    v1 = httpx.get(sim.server.url + "/3dCartWebAPI/v1/Orders", headers=lower)
    v2 = httpx.get(sim.server.url + "/3dCartWebAPI/v2/Orders", headers=HEADERS)
    assert v1.status_code == v2.status_code == 200
    assert [o["OrderID"] for o in v1.json()] == [o["OrderID"] for o in v2.json()]


# ---- arrays, 404, the Order shape ---------------------------------------------------------

def test_get_order_is_an_array_of_one_and_unknown_ids_are_404(sim):
    placed = sim.order(items=[{"sku": "TEE"}])
    got = sim.api.get(f"/Orders/{placed['OrderID']}")
    assert got.status_code == 200 and isinstance(got.json(), list) and len(got.json()) == 1
    assert got.json()[0]["OrderID"] == placed["OrderID"]
    _error(sim.api.get("/Orders/999999"), 404)
    _error(sim.api.get("/Orders/abc"), 404)


def test_an_empty_list_is_404_and_countonly_counts(sim):
    _error(sim.api.get("/Orders", params={"billingemail": "nobody@example.com"}), 404)
    assert sim.api.get("/Orders", params={"billingemail": "nobody@example.com", "countonly": 1}).json() == {
        "TotalCount": 0}
    sim.order(items=[{"sku": "TEE"}], email="count@example.com")
    sim.order(items=[{"sku": "TEE"}], email="count@example.com")
    assert sim.api.get("/Orders", params={"billingemail": "COUNT@example.com", "countonly": 1}).json() == {
        "TotalCount": 2}


def test_order_shape_amount_invariant_and_variant_lines(sim):
    o = sim.order(items=[{"sku": "TEE-RED-L", "quantity": 2}, {"sku": "TEE", "quantity": 1}],
                  shipping="7.95", tax="3.10", tax2="0.40", discount="5.00",
                  questions=[{"title": "Gift?", "answer": "yes"}],
                  promotions=[{"name": "Winter", "coupon": "W5", "amount": "5.00"}])
    got = sim.api.get(f"/Orders/{o['OrderID']}").json()[0]
    assert list(got) == ORDER_KEYS
    assert DATE_RE.match(got["OrderDate"]) and DATE_RE.match(got["LastUpdate"])
    red, plain = got["OrderItemList"]
    assert red["ItemID"] == "TEE-RED-L" and red["CatalogID"] == plain["CatalogID"] == sim.api.get(
        "/Products", params={"sku": "TEE"}).json()[0]["SKUInfo"]["CatalogID"]
    assert red["ItemOptions"] == ",390,493" and Decimal(str(red["ItemOptionPrice"])) == Decimal("2.50")
    d = lambda v: Decimal(str(v))  # noqa: E731
    items = sum((d(i["ItemUnitPrice"]) + d(i["ItemOptionPrice"])) * d(i["ItemQuantity"]) for i in got["OrderItemList"])
    ship = sum(Decimal(str(s["ShipmentCost"])) for s in got["ShipmentList"])
    expected = items - Decimal("5.00") + ship + Decimal("3.10") + Decimal("0.40")
    assert Decimal(str(got["OrderAmount"])) == expected == Decimal("71.45")
    assert got["ShipmentList"][0]["ShipmentID"] == 0 and got["ShipmentList"][0]["ShipmentNumber"] == 1
    assert got["TransactionList"][0]["TransactionType"] == "Sale"
    assert Decimal(str(got["TransactionList"][0]["TransactionAmount"])) == expected
    assert got["QuestionList"][0]["QuestionAnswer"] == "yes" and got["PromotionList"][0]["Coupon"] == "W5"
    assert f"{got['InvoiceNumberPrefix']}{got['InvoiceNumber']}".startswith("AB-")


def test_invoice_and_status_filters(sim):
    o = sim.order(items=[{"sku": "TEE"}], status_id=2)
    by_number = sim.api.get("/Orders", params={"invoicenumber": o["InvoiceNumber"], "invoiceprefix": "AB-"}).json()
    assert [r["OrderID"] for r in by_number] == [o["OrderID"]]
    _error(sim.api.get("/Orders", params={"invoicenumber": o["InvoiceNumber"], "invoiceprefix": "ZZ-"}), 404)
    ranged = sim.api.get("/Orders", params={"invoicenumberstart": o["InvoiceNumber"],
                                             "invoicenumberend": o["InvoiceNumber"]}).json()
    assert [r["OrderID"] for r in ranged] == [o["OrderID"]]
    assert all(r["OrderStatusID"] == 2 for r in sim.api.get("/Orders", params={"orderstatus": 2, "limit": 200}).json())


def test_lastupdate_changes_on_every_modification(sim):
    o = sim.order(items=[{"sku": "TEE"}])
    sim.admin.post("/_sim/clock", json={"advance_seconds": 90})
    try:
        assert sim.api.put(f"/Orders/{o['OrderID']}", json={"InternalComments": "x"}).status_code == 200
        after = sim.api.get(f"/Orders/{o['OrderID']}").json()[0]
        assert after["LastUpdate"] != o["LastUpdate"] and after["OrderDate"] == o["OrderDate"]
    finally:
        sim.admin.post("/_sim/clock", json={"advance_seconds": -90})


# ---- paging (own store: exact counts) -----------------------------------------------------

def test_one_based_offset_paging_clamping_and_offset_errors():
    with running_sim() as s:
        s.product("P", price="1.00", stock=0)
        made = s.admin.post("/_sim/orders/bulk", json={"count": 250, "template": {"items": [{"sku": "P"}]}}).json()
        ids = [m["OrderID"] for m in made]
        pages = [s.api.get("/Orders", params={"limit": 100, "offset": off}).json() for off in (1, 101, 201)]
        assert [len(p) for p in pages] == [100, 100, 50]
        assert [o["OrderID"] for p in pages for o in p] == sorted(ids)
        assert len(s.api.get("/Orders").json()) == 10                       # default limit
        assert s.api.get("/Orders", params={"offset": 250, "limit": 5}).json()[0]["OrderID"] == max(ids)
        assert _error(s.api.get("/Orders", params={"offset": 251}), 404)["Message"] == \
            "Offset amount exceeds the total number of records"
        assert _error(s.api.get("/Orders", params={"offset": 0}), 400)["Message"] == \
            "Offset amount exceeds the total number of records"
        _error(s.api.get("/Orders", params={"limit": "ten"}), 400)
        assert len(s.api.get("/Orders", params={"limit": 500}).json()) == 200   # clamped to max_limit
        assert s.api.get("/Orders", params={"countonly": 1}).json() == {"TotalCount": 250}


# ---- store-local dates --------------------------------------------------------------------

def test_lastupdate_filter_is_a_store_local_date_covering_the_whole_day():
    with running_sim() as s:
        s.product("P", price="1.00")
        s.admin.post("/_sim/clock", json={"local": "2026-03-10T23:30:00"})     # 07:30 UTC on the 11th
        late = s.order(items=[{"sku": "P"}])
        assert late["OrderDate"].startswith("2026-03-10T23:30")
        s.admin.post("/_sim/clock", json={"local": "2026-03-11T00:10:00"})
        next_day = s.order(items=[{"sku": "P"}])

        def ids(**params):
            r = s.api.get("/Orders", params=params)
            return [] if r.status_code == 404 else [o["OrderID"] for o in r.json()]

        assert ids(lastupdatestart="03/10/2026", lastupdateend="03/10/2026") == [late["OrderID"]]
        assert ids(lastupdatestart="03/11/2026") == [next_day["OrderID"]]
        assert ids(lastupdatestart="03/10/2026 23:59:00") == [late["OrderID"], next_day["OrderID"]]  # time dropped
        assert ids(datestart="03/10/2026 23:00:00", dateend="03/10/2026 23:45:00") == [late["OrderID"]]
        assert ids(datestart="03/10/2026 23:45:00") == [next_day["OrderID"]]
        # an unparsable filter value is ignored (the simulator's documented assumption)
        assert ids(lastupdatestart="2026-03-11") == [late["OrderID"], next_day["OrderID"]]


# ---- faults -------------------------------------------------------------------------------

def test_injected_429_has_retry_after_and_the_error_shape_admin_is_never_faulted(sim):
    sim.admin.post("/_sim/faults", json={"rate_limit_count": 1, "retry_after_s": 7})
    r = sim.api.get("/Orders")
    assert r.headers["retry-after"] == "7"
    _error(r, 429)
    assert sim.api.get("/Orders").status_code in (200, 404)
    sim.admin.post("/_sim/faults", json={"mode": "throttle", "status": 503, "seconds": 30})
    _error(sim.api.get("/Orders"), 503)
    assert sim.admin.get("/_sim/summary").status_code == 200


def test_commit_late_write_lands_after_the_client_gave_up(sim):
    o = sim.order(items=[{"sku": "TEE"}])
    sim.admin.post("/_sim/faults", json={"commit_late_ms": 400, "commit_late_count": 1, "methods": ["PUT"]})
    with pytest.raises(httpx.TimeoutException):
        sim.api.put(f"/Orders/{o['OrderID']}", json={"OrderStatusID": 6}, timeout=0.1)
    deadline = time.monotonic() + 5
    while sim.api.get(f"/Orders/{o['OrderID']}").json()[0]["OrderStatusID"] != 6:
        assert time.monotonic() < deadline, "the late write never landed"
        time.sleep(0.05)
