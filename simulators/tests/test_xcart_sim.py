"""X-Cart 5.5 simulator, exercised over real HTTP as the ingest service will use it.

Tests share one simulator (module fixture). Tests that filter on time jump the sim clock to their own
far-future offset, so orders made by other tests can never fall inside their windows.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sagebridge_common.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from sagebridge_sim.serve import BackgroundServer, free_port
from sagebridge_sim.xcart import XCartStore, create_app
from sagebridge_sim.xcart.app import parse_time, path_template

READ, ALL = "read-token", "all-token"
DATE_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$")
JSON = {"Accept": "application/json"}
ITEM = {"sku": "WIDGET-1", "name": "Widget", "price": "12.50", "amount": 2}

ORDER_KEYS = {
    "id", "order_number", "create_date", "update_date", "total", "sub_total", "currency",
    "payment_status", "shipping_status", "email", "customer_id", "order_profile_id",
    "billing_address", "shipping_address", "shipping_id", "shipping_method_name", "notes",
    "admin_notes", "stock_status", "items", "surcharges", "tracking_numbers",
}
ADDRESS_KEYS = {"id", "is_billing", "is_shipping", "is_work", "type", "title", "firstname", "lastname",
                "phone", "street", "zipcode", "city", "country_code", "state", "state_name", "custom_fields"}
ITEM_KEYS = {"id", "product_id", "sku", "update_date", "name", "price", "item_net_price",
             "discounted_subtotal", "amount", "backordered_amount", "surcharges"}
SURCHARGE_KEYS = {"id", "type", "code", "class", "include", "available", "value", "name", "weight"}
TXN_KEYS = {"id", "public_id", "public_txn_id", "method_id", "type", "date", "status", "name",
            "local_name", "currency", "value", "note", "data", "backend_transactions"}


def start_sim(**kwargs) -> tuple[XCartStore, BackgroundServer]:
    store = XCartStore()
    store.seed_products(5)
    return store, BackgroundServer(create_app(store, READ, ALL, **kwargs)).start()


@pytest.fixture(scope="module")
def sim():
    store, server = start_sim()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(sim):
    with httpx.Client(base_url=sim.url, timeout=10) as c:
        yield c


@pytest.fixture(scope="module")
def api(sim):
    """Client with the read/write token."""
    with httpx.Client(base_url=sim.url, headers={"X-Auth-Token": ALL}, timeout=10) as c:
        yield c


@pytest.fixture(autouse=True)
def _reset(admin):
    yield
    admin.post("/_sim/faults", json={"reset": True})
    admin.post("/_sim/clock", json={"offset_seconds": 0})
    admin.delete("/_sim/push")


def make_order(admin: httpx.Client, **spec) -> dict:
    r = admin.post("/_sim/orders", json={"items": [ITEM], **spec})
    assert r.status_code == 201, r.text
    return r.json()


def set_clock(admin: httpx.Client, offset: float) -> None:
    admin.post("/_sim/clock", json={"offset_seconds": offset}).raise_for_status()


def last_renew(admin: httpx.Client, oid: int) -> int:
    return admin.get(f"/_sim/orders/{oid}").json()["last_renew"]


def wait_for(predicate, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


# ---- auth -----------------------------------------------------------------------------------

def test_missing_and_bad_token_get_401_with_message(sim):
    for headers in ({}, {"X-Auth-Token": "nope"}):
        r = httpx.get(f"{sim.url}/api/orders", headers=headers)
        assert r.status_code == 401
        assert isinstance(r.json()["message"], str) and r.json()["message"]


def test_read_token_reads_but_cannot_write(sim, admin):
    oid = make_order(admin)["id"]
    headers = {"X-Auth-Token": READ}
    assert httpx.get(f"{sim.url}/api/orders/{oid}", headers=headers).status_code == 200
    r = httpx.put(f"{sim.url}/api/orders/{oid}/payment_status", json={"code": "C"}, headers=headers)
    assert r.status_code == 403 and r.json()["message"]
    assert httpx.put(f"{sim.url}/api/products/1", json={"amount": 1}, headers=headers).status_code == 403
    # the refused write changed nothing
    assert httpx.get(f"{sim.url}/api/orders/{oid}/payment_status", headers=headers).json()["code"] == "P"


def test_admin_routes_need_no_token(sim):
    assert httpx.get(f"{sim.url}/_sim/stats").status_code == 200


# ---- order shape and money ------------------------------------------------------------------

def test_order_shape_matches_xcart_55(api, admin):
    made = make_order(admin, email="ann@example.com", first_name="Ann", last_name="Lee",
                      shipping="5.00", tax="2.10", discount="1.00", coupon="SAVE1",
                      address={"city": "Austin", "state_name": "Texas", "zipcode": "73301"})
    o = api.get(f"/api/orders/{made['id']}", headers=JSON).json()
    assert set(o) == ORDER_KEYS | {"used_coupons"}
    assert isinstance(o["id"], int) and o["id"] == made["id"]
    assert isinstance(o["order_number"], str) and o["order_number"] == made["order_number"]
    assert DATE_RE.match(o["create_date"]) and DATE_RE.match(o["update_date"])
    assert isinstance(o["total"], float) and isinstance(o["sub_total"], float)
    assert o["currency"] == "USD" and o["email"] == "ann@example.com"
    assert o["payment_status"] == {"id": 4, "code": "P", "name": "Paid", "customer_name": "Paid"}
    assert o["shipping_status"]["code"] == "N" and o["shipping_status"]["name"] == "New"
    for key in ("billing_address", "shipping_address"):
        addr = o[key]
        assert set(addr) == ADDRESS_KEYS
        assert (addr["firstname"], addr["lastname"], addr["city"]) == ("Ann", "Lee", "Austin")
        assert addr["country_code"] == "US" and addr["state_name"] == "Texas"
        assert isinstance(addr["state"], int) and addr["custom_fields"] == []
    assert o["billing_address"]["is_billing"] and o["shipping_address"]["is_shipping"]
    assert o["shipping_method_name"] == "UPS Ground" and isinstance(o["shipping_id"], int)
    assert o["tracking_numbers"] == []
    (item,) = o["items"]
    assert set(item) == ITEM_KEYS and DATE_RE.match(item["update_date"])
    assert (item["sku"], item["amount"], item["price"]) == ("WIDGET-1", 2, 12.5)
    product = api.get(f"/api/products/{item['product_id']}", headers=JSON).json()
    assert product["sku"] == "WIDGET-1"
    assert all(set(s) == SURCHARGE_KEYS for s in o["surcharges"])
    assert {s["code"] for s in o["surcharges"]} == {"SHIPPING", "DCOUPON", "CDEV.STAX.1"}


def test_unknown_state_gives_null_state_id(api, admin):
    oid = make_order(admin, address={"state_name": "Nowhere"})["id"]
    assert api.get(f"/api/orders/{oid}", headers=JSON).json()["billing_address"]["state"] is None


def test_totals_arithmetic(api, admin):
    items = [ITEM, {"sku": "GADGET-2", "name": "Gadget", "price": "3.25", "amount": 1}]
    oid = admin.post("/_sim/orders", json={"items": items, "shipping": "5.00", "tax": "2.10",
                                           "discount": "1.00"}).json()["id"]
    o = api.get(f"/api/orders/{oid}", headers=JSON).json()
    assert o["sub_total"] == 28.25
    assert o["total"] == 34.35
    assert "used_coupons" not in o
    by_code = {s["code"]: s for s in o["surcharges"]}
    assert by_code["SHIPPING"]["type"] == "shipping" and by_code["SHIPPING"]["value"] == 5.0
    assert by_code["CDEV.STAX.1"]["type"] == "tax" and by_code["CDEV.STAX.1"]["include"] is False
    assert by_code["DISCOUNT"]["type"] == "discount" and by_code["DISCOUNT"]["value"] == -1.0
    assert [i["discounted_subtotal"] for i in o["items"]] == [25.0, 3.25]


def test_included_tax_is_not_added_again(api, admin):
    oid = make_order(admin, tax="2.00", tax_included=True)["id"]
    o = api.get(f"/api/orders/{oid}", headers=JSON).json()
    assert o["surcharges"][0]["include"] is True
    assert o["total"] == o["sub_total"] == 25.0


def test_coupon_is_negative_dcoupon_with_used_coupons(api, admin):
    oid = make_order(admin, discount="1.00", coupon="SAVE1")["id"]
    o = api.get(f"/api/orders/{oid}", headers=JSON).json()
    (coupon,) = [s for s in o["surcharges"] if s["type"] == "discount"]
    assert coupon["code"] == "DCOUPON" and coupon["value"] == -1.0
    assert o["used_coupons"][0]["code"] == "SAVE1"
    assert o["total"] == 24.0


money_st = st.decimals(min_value=0, max_value=500, places=2, allow_nan=False, allow_infinity=False)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.tuples(money_st, st.integers(1, 9)), min_size=1, max_size=4),
       shipping=money_st, tax=money_st, discount=money_st, coupon=st.booleans())
def test_total_is_subtotal_plus_surcharges(api, admin, lines, shipping, tax, discount, coupon):
    items = [{"sku": f"PROP-{i}", "price": str(p), "amount": n} for i, (p, n) in enumerate(lines)]
    spec = {"items": items, "shipping": str(shipping), "tax": str(tax), "discount": str(discount)}
    if coupon:
        spec["coupon"] = "PROP"
    oid = admin.post("/_sim/orders", json=spec).json()["id"]
    o = api.get(f"/api/orders/{oid}", headers=JSON).json()
    sub = sum((p * n for p, n in lines), Decimal("0"))
    assert Decimal(str(o["sub_total"])) == sub
    assert Decimal(str(o["total"])) == sub + shipping + tax - discount
    surcharges = sum((Decimal(str(s["value"])) for s in o["surcharges"] if not s["include"]), Decimal("0"))
    assert Decimal(str(o["total"])) == Decimal(str(o["sub_total"])) + surcharges
    txn = api.get(f"/api/orders/{oid}/payment_transactions", headers=JSON).json()[0]
    assert txn["value"] == o["total"]


# ---- ids, lookups, transactions -------------------------------------------------------------

def test_ids_increase_but_are_not_contiguous(api, admin):
    ids = [make_order(admin)["id"] for _ in range(6)]
    assert ids == sorted(ids)
    assert any(b - a > 1 for a, b in zip(ids, ids[1:]))


def test_get_by_number_and_404s(api, admin):
    made = make_order(admin)
    by_number = api.get(f"/api/orders/by_number/{made['order_number']}", headers=JSON)
    assert by_number.json()["id"] == made["id"]
    for path in ("/api/orders/999999", "/api/orders/by_number/99999", "/api/orders/999999/payment_transactions"):
        r = api.get(path, headers=JSON)
        assert r.status_code == 404 and r.json()["message"]


def test_payment_transactions(api, admin):
    oid = make_order(admin, payment_method="PayPal", shipping="5.00")["id"]
    txns = api.get(f"/api/orders/{oid}/payment_transactions", headers=JSON).json()
    assert isinstance(txns, list) and len(txns) == 1
    t = txns[0]
    assert set(t) == TXN_KEYS
    assert (t["status"], t["type"], t["name"], t["currency"]) == ("S", "sale", "PayPal", "USD")
    assert t["value"] == 30.0 and DATE_RE.match(t["date"])
    hydra = api.get(f"/api/orders/{oid}/payment_transactions").json()
    assert hydra["hydra:totalItems"] == 1


# ---- lastRenewDate change feed --------------------------------------------------------------

def _ids(api, params) -> list[int]:
    r = api.get("/api/orders", params=params, headers=JSON)
    assert r.status_code == 200, r.text
    return [o["id"] for o in r.json()]


def test_last_renew_strictly_after_vs_after(api, admin):
    set_clock(admin, 1_000_000)
    a = make_order(admin)["id"]
    set_clock(admin, 1_000_010)
    b = make_order(admin)["id"]
    set_clock(admin, 1_000_020)
    c = make_order(admin)["id"]
    tb = last_renew(admin, b)
    asc = {"order[lastRenewDate]": "asc", "lastRenewDate[before]": f"@{tb + 100}"}   # window: this test only
    assert _ids(api, {"lastRenewDate[after]": f"@{tb}", **asc}) == [b, c]
    assert _ids(api, {"lastRenewDate[strictly_after]": f"@{tb}", **asc}) == [c]
    assert _ids(api, {"lastRenewDate[after]": f"@{tb - 10}", "lastRenewDate[strictly_before]": f"@{tb}", **asc}) == [a]
    assert _ids(api, {"lastRenewDate[after]": f"@{tb - 10}", "lastRenewDate[before]": f"@{tb + 100}",
                      "order[lastRenewDate]": "desc"}) == [c, b, a]
    assert _ids(api, {"lastRenewDate[after]": f"@{tb}", "lastRenewDate[before]": f"@{tb}"}) == [b]   # one second
    # ISO-8601 with the '+' percent-encoded (httpx does) is honoured
    iso = time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(tb))
    assert _ids(api, {"lastRenewDate[strictly_after]": iso, **asc}) == [c]
    # an edit moves an old order to the end of the feed
    set_clock(admin, 1_000_030)
    admin.post(f"/_sim/orders/{a}/touch").raise_for_status()
    assert _ids(api, {"lastRenewDate[strictly_after]": f"@{tb}", **asc}) == [c, a]
    # creation date does not move
    assert _ids(api, {"date[strictly_after]": f"@{tb}", **asc}) == [c]


def test_a_filter_php_cannot_parse_is_dropped_like_api_platform_does(api, admin):
    """Bare Unix digits and an un-encoded '+' (arriving as a space) are not \\DateTime strings:
    API Platform's DateFilter ignores such a filter, so the whole collection comes back."""
    set_clock(admin, 1_100_000)
    tb = last_renew(admin, make_order(admin)["id"])
    everything = len(_ids(api, {"pagination": "false"}))
    assert everything >= 2
    assert _ids(api, {"lastRenewDate[strictly_after]": f"@{tb}", "pagination": "false"}) == []
    iso_space = time.strftime("%Y-%m-%dT%H:%M:%S 0000", time.gmtime(tb))
    for bad in (str(tb), iso_space, "yesterday-ish"):
        assert len(_ids(api, {"lastRenewDate[strictly_after]": bad, "pagination": "false"})) == everything, bad
    log = admin.get("/_sim/listing").json()["calls"]
    assert log[-1]["filters_ignored"] == ["lastRenewDate[strictly_after]"] and log[-1]["filters_applied"] == []
    assert log[-4]["filters_applied"] == ["lastRenewDate[strictly_after]"] and log[-4]["rows"] == 0


def test_orders_cannot_be_sorted_by_id(api, admin):
    """The 5.5 order resource declares `order[date]` and `order[lastRenewDate]` only; an unknown
    order property is ignored, so clients cannot page by id."""
    set_clock(admin, 1_200_000)
    ids = [make_order(admin)["id"] for _ in range(3)]
    window = {"date[after]": f"@{last_renew(admin, ids[0])}", "date[before]": f"@{last_renew(admin, ids[-1])}"}
    assert _ids(api, {**window, "order[id]": "desc"}) == ids


def test_listing_faults_move_the_store_between_list_calls(api, admin):
    set_clock(admin, 1_300_000)
    ids = [make_order(admin)["id"] for _ in range(4)]
    t0, t3 = last_renew(admin, ids[0]), last_renew(admin, ids[3])
    window = {"lastRenewDate[after]": f"@{t0}", "order[lastRenewDate]": "asc", "itemsPerPage": 2}
    admin.post("/_sim/listing", json={"reset": True, "clock_step_s": 5, "edit_returned": 1,
                                      "create_per_call": 1, "calls": 1}).raise_for_status()
    assert _ids(api, window) == ids[:2]
    state = admin.get("/_sim/listing").json()
    assert len(state["created"]) == 1
    assert last_renew(admin, ids[0]) >= t3 + 5                    # edited after the answer, 5 s later
    assert _ids(api, {**window, "itemsPerPage": 10}) == [ids[1], ids[2], ids[3], ids[0], state["created"][0]]
    assert last_renew(admin, ids[1]) <= t3                        # `calls: 1`: the second call changed nothing
    admin.post("/_sim/listing", json={"reset": True, "broken_json": [ids[1]],
                                      "transactions_status": {str(ids[2]): 500}}).raise_for_status()
    with pytest.raises(ValueError):
        api.get(f"/api/orders/{ids[1]}", headers=JSON).json()
    assert api.get(f"/api/orders/{ids[2]}/payment_transactions", headers=JSON).status_code == 500
    admin.post("/_sim/listing", json={"reset": True}).raise_for_status()
    assert api.get(f"/api/orders/{ids[1]}", headers=JSON).json()["id"] == ids[1]


def test_last_renew_filter_can_be_disabled_like_550():
    store, server = start_sim(last_renew_filter=False)
    try:
        store.create_order({"items": [ITEM]})
        r = httpx.get(f"{server.url}/api/orders", params={"lastRenewDate[after]": "@4000000000"},
                      headers={"X-Auth-Token": READ, **JSON})
        assert len(r.json()) == 1
    finally:
        server.stop()


def test_status_filters(api, admin):
    set_clock(admin, 1_500_000)
    paid = make_order(admin, payment_code="P", shipping_code="N")["id"]
    queued = make_order(admin, payment_code="Q", shipping_code="S")["id"]
    t0 = last_renew(admin, paid)
    since = {"date[after]": f"@{t0 - 1}", "date[before]": f"@{t0 + 100}"}
    assert _ids(api, {**since, "paymentStatus.code": "Q"}) == [queued]
    assert _ids(api, {**since, "shippingStatus.code": "N"}) == [paid]
    assert _ids(api, [*since.items(), ("paymentStatus.code[]", "P"), ("paymentStatus.code[]", "Q")]) == [paid, queued]


# ---- paging and formats ---------------------------------------------------------------------

def test_paging(api, admin):
    set_clock(admin, 2_000_000)
    ids = admin.post("/_sim/orders/bulk", json={"count": 150, "template": {"items": [ITEM]}}).json()
    assert len(ids) == 150
    t0 = last_renew(admin, ids[0])
    base = {"lastRenewDate[after]": f"@{t0}", "lastRenewDate[before]": f"@{t0 + 100}", "order[lastRenewDate]": "asc"}
    assert len(_ids(api, base)) == 30                                     # default page size
    assert _ids(api, {**base, "itemsPerPage": 500}) == ids[:100]          # clamped to 100
    assert _ids(api, {**base, "itemsPerPage": 40, "page": 2}) == ids[40:80]
    assert _ids(api, {**base, "itemsPerPage": 100, "page": 2}) == ids[100:]
    assert _ids(api, {**base, "itemsPerPage": 100, "page": 3}) == []
    assert _ids(api, {**base, "pagination": "false"}) == ids
    hydra = api.get("/api/orders", params={**base, "itemsPerPage": 100}).json()
    assert hydra["hydra:totalItems"] == 150 and len(hydra["hydra:member"]) == 100
    assert hydra["hydra:view"]["hydra:next"].endswith("page=2")
    assert api.get("/api/orders", params={"page": 0}).status_code == 400


def test_hydra_vs_plain_json_by_accept(api, admin):
    oid = make_order(admin)["id"]
    plain = api.get("/api/orders", headers=JSON)
    assert isinstance(plain.json(), list) and plain.headers["content-type"].startswith("application/json")
    for accept in ("application/ld+json", "*/*", None):
        headers = {"Accept": accept} if accept else {}
        body = api.get("/api/orders", headers=headers).json()
        assert isinstance(body, dict) and isinstance(body["hydra:member"], list)
        assert isinstance(body["hydra:totalItems"], int) and body["hydra:totalItems"] >= 1
    assert isinstance(api.get("/api/orders.json").json(), list)
    assert "hydra:member" in api.get("/api/orders.jsonld", headers=JSON).json()
    single = api.get(f"/api/orders/{oid}", headers={"Accept": "application/ld+json"}).json()
    assert single["@id"] == f"/api/orders/{oid}" and single["id"] == oid
    assert "@id" not in api.get(f"/api/orders/{oid}.json").json()


# ---- status writes --------------------------------------------------------------------------

def test_status_put_bumps_update_date_and_rejects_unknown_code(api, admin):
    set_clock(admin, 3_000_000)
    made = make_order(admin)
    oid = made["id"]
    made_renew = last_renew(admin, oid)
    before = api.get(f"/api/orders/{oid}", headers=JSON).json()
    set_clock(admin, 3_000_100)
    r = api.put(f"/api/orders/{oid}/shipping_status", json={"code": "S"})
    assert r.status_code == 200
    assert r.json() == {"id": 3, "code": "S", "name": "Shipped", "customer_name": "Shipped"}
    after = api.get(f"/api/orders/{oid}", headers=JSON).json()
    assert after["shipping_status"]["code"] == "S"
    assert after["update_date"] > before["update_date"] and after["create_date"] == before["create_date"]
    assert last_renew(admin, oid) - made_renew >= 100
    assert api.put(f"/api/orders/{oid}/payment_status", json={"code": "R"}).json()["name"] == "Refunded"
    assert api.get(f"/api/orders/{oid}/payment_status").json()["code"] == "R"
    bad = api.put(f"/api/orders/{oid}/payment_status", json={"code": "ZZ"})
    assert bad.status_code == 400 and bad.json()["message"]
    assert api.put(f"/api/orders/{oid}/payment_status", content=b"{nope").status_code == 400
    assert api.get(f"/api/orders/{oid}/payment_status").json()["code"] == "R"
    assert api.put("/api/orders/999999/payment_status", json={"code": "P"}).status_code == 404


# ---- products and profiles ------------------------------------------------------------------

def test_product_put_is_partial(api):
    before = api.get("/api/products/2", headers=JSON).json()
    r = api.put("/api/products/2", json={"amount": 42, "unknown_field": 1})
    assert r.status_code == 200
    after = api.get("/api/products/2", headers=JSON).json()
    assert after["amount"] == 42
    assert {k: v for k, v in after.items() if k not in ("amount", "update_date")} == \
           {k: v for k, v in before.items() if k not in ("amount", "update_date")}
    assert api.put("/api/products/2", json={"price": 15.25}).json()["price"] == 15.25
    assert api.put("/api/products/2", json={"sku": before["sku"]}).status_code == 200
    dup = api.put("/api/products/2", json={"sku": "SKU-00001"})
    assert dup.status_code == 400 and dup.json()["message"]
    assert api.put("/api/products/2", json={"amount": "lots"}).status_code == 400
    assert api.get("/api/products/99999").status_code == 404
    listed = api.get("/api/products", params={"itemsPerPage": 3}, headers=JSON).json()
    assert [p["id"] for p in listed] == [1, 2, 3]


def test_order_reduces_stock(api, admin):
    before = api.get("/api/products/3", headers=JSON).json()
    make_order(admin, items=[{"sku": before["sku"], "price": "1.00", "amount": 2}])
    assert api.get("/api/products/3", headers=JSON).json()["amount"] == before["amount"] - 2


def test_profiles_and_login_filter(api, admin):
    made = make_order(admin, email="zed.unique@example.org")
    o = api.get(f"/api/orders/{made['id']}", headers=JSON).json()
    found = api.get("/api/profiles", params={"login": "ZED.UNIQUE"}, headers=JSON).json()
    assert [p["login"] for p in found] == ["zed.unique@example.org"]
    assert found[0]["id"] == o["customer_id"] != o["order_profile_id"]
    assert api.get(f"/api/profiles/{o['customer_id']}", headers=JSON).json()["login"] == "zed.unique@example.org"
    guest = make_order(admin, guest=True)
    assert api.get(f"/api/orders/{guest['id']}", headers=JSON).json()["customer_id"] is None


# ---- faults ---------------------------------------------------------------------------------

def test_error_count_gives_exactly_two_503_then_200(api, admin):
    admin.post("/_sim/faults", json={"error_status": 503, "error_count": 2}).raise_for_status()
    statuses = [api.get("/api/orders", params={"itemsPerPage": 1}).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    stats = admin.get("/_sim/stats").json()
    assert stats["requests"]["GET /api/orders"]["503"] >= 2


def test_rate_limit_sends_retry_after(api, admin):
    admin.post("/_sim/faults", json={"rate_limit_count": 1, "retry_after_s": 2}).raise_for_status()
    r = api.get("/api/orders/1")
    assert r.status_code == 429 and r.headers["Retry-After"] == "2" and r.json()["message"]
    assert api.get("/api/orders", params={"itemsPerPage": 1}).status_code == 200


def test_outage_window(api, admin):
    admin.post("/_sim/faults", json={"outage_seconds": 0.5}).raise_for_status()
    assert api.get("/api/orders").status_code == 503
    assert admin.get("/_sim/stats").status_code == 200          # admin is never faulted
    make_order(admin)                                            # nor is creating orders
    time.sleep(0.6)
    assert api.get("/api/orders", params={"itemsPerPage": 1}).status_code == 200


def test_stats_count_by_template(api, admin):
    oid = make_order(admin)["id"]
    before = admin.get("/_sim/stats").json()["requests"].get("GET /api/orders/{id}", {}).get("200", 0)
    api.get(f"/api/orders/{oid}")
    api.get(f"/api/orders/{oid}.json")
    stats = admin.get("/_sim/stats").json()
    assert stats["requests"]["GET /api/orders/{id}"]["200"] == before + 2
    assert stats["orders"] >= 1
    assert path_template("/api/orders/by_number/00042") == "/api/orders/by_number/{orderNumber}"
    assert path_template("/api/orders/7/payment_status") == "/api/orders/{id}/payment_status"


# ---- push module ----------------------------------------------------------------------------

class Receiver:
    """A real HTTP endpoint that records pushes; fails the first `fail_next` with 500."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.received: list[tuple[bytes, dict[str, str]]] = []
        self.fail_next = 0
        self.delay_s = delay_s
        self.lock = threading.Lock()
        app = FastAPI()

        @app.post("/hook")
        async def hook(request: Request):
            body = await request.body()
            with self.lock:
                if self.fail_next > 0:
                    self.fail_next -= 1
                    return Response(status_code=500)
                self.received.append((body, dict(request.headers)))
            if self.delay_s:
                time.sleep(self.delay_s)
            return Response(status_code=204)

        self.server = BackgroundServer(app).start()
        self.url = f"{self.server.url}/hook"


@pytest.fixture(scope="module")
def receiver():
    r = Receiver()
    yield r
    r.server.stop()


def _events(receiver: Receiver, key: str = "order_id") -> list[dict]:
    """The received events that carry `key` (order events: order_id; customer events: profile_id)."""
    with receiver.lock:
        return [e for e in (json.loads(body) for body, _ in receiver.received) if key in e]


def _raw_event(receiver: Receiver, order_id: int, event: str) -> tuple[bytes, dict[str, str]]:
    with receiver.lock:
        return next((b, h) for b, h in receiver.received
                    if json.loads(b).get("order_id") == order_id and json.loads(b)["event"] == event)


def test_push_delivers_signed_events(admin, receiver):
    secret = "s3cret"
    assert admin.post("/_sim/push", json={"url": receiver.url, "secret": secret}).json()["enabled"]
    made = make_order(admin)
    assert wait_for(lambda: any(e["order_id"] == made["id"] for e in _events(receiver)))
    body, headers = _raw_event(receiver, made["id"], "order.created")
    signed = (headers[TIMESTAMP_HEADER.lower()], body, headers[SIGNATURE_HEADER.lower()], time.time(), 300)
    assert verify(secret, *signed)
    assert not verify("other-secret", *signed)
    assert headers["content-type"] == "application/json"
    event = next(e for e in _events(receiver) if e["order_id"] == made["id"])
    assert event["event"] == "order.created" and event["order_number"] == made["order_number"]
    assert parse_time(event["occurred_at"]) is not None and event["occurred_at"].endswith("+00:00")
    admin.post(f"/_sim/orders/{made['id']}/touch").raise_for_status()
    assert wait_for(lambda: [e["event"] for e in _events(receiver) if e["order_id"] == made["id"]]
                    == ["order.created", "order.updated"])


def test_push_retries_on_5xx(admin, receiver):
    admin.post("/_sim/push", json={"url": receiver.url, "secret": "k"})
    with receiver.lock:
        receiver.fail_next = 2
    oid = make_order(admin)["id"]
    assert wait_for(lambda: any(e["order_id"] == oid for e in _events(receiver)))
    assert receiver.fail_next == 0


def test_push_disabled_sends_nothing(admin, receiver):
    admin.post("/_sim/push", json={"url": receiver.url, "secret": "k"})
    admin.delete("/_sim/push")
    oid = make_order(admin)["id"]
    time.sleep(0.2)
    assert all(e["order_id"] != oid for e in _events(receiver))


def test_push_never_blocks_order_creation():
    slow = Receiver(delay_s=1.0)
    store, server = start_sim()
    try:
        admin = httpx.Client(base_url=server.url)
        admin.post("/_sim/push", json={"url": slow.url, "secret": "k"})
        start = time.monotonic()
        for _ in range(3):
            make_order(admin)
        assert time.monotonic() - start < 0.5
        # unreachable receiver: the order is still created, the event is dropped after retries
        admin.post("/_sim/push", json={"url": f"http://127.0.0.1:{free_port()}/hook", "secret": "k"})
        make_order(admin)
        assert store.order_count() == 4
    finally:
        server.stop()
        slow.server.stop()


# ---- helpers and entry point ----------------------------------------------------------------

def test_parse_time_reads_what_php_datetime_reads():
    assert parse_time("@1730821330") == 1730821330
    assert parse_time("@-5") == -5
    assert parse_time("1730821330") is None                  # bare digits: not a \\DateTime string
    assert parse_time("2024-11-05 15:42:10") == 1730821330   # Y-m-d H:i:s, store zone (UTC)
    assert parse_time("2024-11-05T15:42:10 0000") is None    # '+' sent un-encoded arrives as a space
    assert parse_time("2024-11-05T15:42:10.250+00:00") == 1730821330.25
    assert parse_time("2024-11-05T16:42:10+01") == 1730821330
    assert parse_time("2024-11-05T15:42:10+0000") == 1730821330
    assert parse_time("2024-11-05T15:42:10Z") == 1730821330
    assert parse_time("2024-11-05T16:42:10+01:00") == 1730821330
    assert parse_time("2024-11-05") == 1730764800
    assert parse_time("yesterday-ish") is None


def test_main_serves_until_sigterm():
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "sagebridge_sim.xcart", "--port", str(port),
                             "--token-read", "r", "--token-all", "w", "--seed-products", "3",
                             "--log-level", "warning"], env=env)
    try:
        def up():
            try:
                return httpx.get(f"http://127.0.0.1:{port}/api/products", headers={"X-Auth-Token": "r", **JSON},
                                 timeout=0.5).status_code == 200
            except httpx.HTTPError:
                return False
        assert wait_for(up, timeout=10)
        products = httpx.get(f"http://127.0.0.1:{port}/api/products", headers={"X-Auth-Token": "r", **JSON}).json()
        assert len(products) == 3
        proc.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal, so -SIGTERM is a clean exit too
        assert proc.wait(timeout=5) in (0, -signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
