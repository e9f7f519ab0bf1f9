"""X-Cart simulator over real HTTP: profiles and address books, guest orders, payment and backend
transactions, the push module's tracking endpoint and the notifications for all of them.

Each test gets its own simulator (a small app, fast to start), so clocks, push targets and counts
never leak between tests.
"""
from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from sagebridge_sim.serve import BackgroundServer
from sagebridge_sim.xcart import XCartStore, create_app

READ, ALL, MODULE = "read-token", "all-token", "module-token"
JSON = {"Accept": "application/json"}
ITEM = {"sku": "WIDGET-1", "name": "Widget", "price": "12.50", "amount": 2}
PROFILE_KEYS = {"id", "login", "access_level", "status", "added", "first_login", "last_login", "language", "referer",
                "membership", "pending_membership"}
ADDRESS_KEYS = {"id", "is_billing", "is_shipping", "is_work", "type", "title", "firstname", "lastname", "phone",
                "street", "zipcode", "city", "country_code", "state", "state_name", "custom_fields"}
BASE = 2_000_000_000          # a far-future clock so date filters see only this test's rows


class Receiver:
    """Records push bodies on a real HTTP endpoint."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.lock = threading.Lock()
        app = FastAPI()

        @app.post("/hook")
        async def hook(request: Request):
            with self.lock:
                self.bodies.append(json.loads(await request.body()))
            return Response(status_code=204)

        self.server = BackgroundServer(app).start()
        self.url = f"{self.server.url}/hook"

    def events(self) -> list[tuple[str, int]]:
        with self.lock:
            return [(b["event"], b.get("order_id", b.get("profile_id"))) for b in self.bodies]

    def wait_for(self, item: tuple[str, int], timeout: float = 10.0) -> list[tuple[str, int]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if item in self.events():
                return self.events()
            time.sleep(0.02)
        raise AssertionError(f"{item} never pushed; got {self.events()}")


class Sim:
    def __init__(self, **store_options) -> None:
        self.store = XCartStore(**store_options)
        self.server = BackgroundServer(create_app(self.store, READ, ALL, module_token=MODULE)).start()
        self.admin = httpx.Client(base_url=self.server.url, timeout=10)
        self.api = httpx.Client(base_url=self.server.url, headers={"X-Auth-Token": READ, **JSON}, timeout=10)
        self.receiver: Receiver | None = None

    def at(self, second: int) -> None:
        self.admin.post("/_sim/clock", json={"offset_seconds": second + 0.1 - time.time()}).raise_for_status()

    def pushing(self) -> Receiver:
        self.receiver = Receiver()
        self.admin.post("/_sim/push", json={"url": self.receiver.url, "secret": "k"}).raise_for_status()
        return self.receiver

    def profile(self, login: str, **spec) -> dict:
        r = self.admin.post("/_sim/profiles", json={"login": login, **spec})
        assert r.status_code == 201, r.text
        return r.json()

    def order(self, **spec) -> dict:
        r = self.admin.post("/_sim/orders", json={"items": [ITEM], **spec})
        assert r.status_code == 201, r.text
        return self.api.get(f"/api/orders/{r.json()['id']}").json()

    def txns(self, oid: int) -> list[dict]:
        return self.api.get(f"/api/orders/{oid}/payment_transactions").json()

    def close(self) -> None:
        self.admin.close()
        self.api.close()
        self.server.stop()
        if self.receiver:
            self.receiver.server.stop()


@pytest.fixture
def sim():
    s = Sim()
    yield s
    s.close()


# ---- profiles ---------------------------------------------------------------------------------

def test_profile_and_address_book_in_the_55_shapes(sim):
    made = sim.profile("ann@example.com", first_name="Ann", last_name="Lee",
                       address={"street": "5 Elm St", "city": "Austin", "zipcode": "73301", "state_name": "Texas"},
                       shipping_address={"street": "9 Oak Ave", "city": "Dallas", "zipcode": "75001",
                                         "state_name": "Nowhere"})
    pid = made["profile"]["id"]
    profile = sim.api.get(f"/api/profiles/{pid}").json()
    assert set(profile) == PROFILE_KEYS
    assert (profile["login"], profile["status"], profile["access_level"]) == ("ann@example.com", "E", 0)
    assert profile["added"].endswith("+0000")
    book = sim.api.get(f"/api/profiles/{pid}/addresses").json()
    assert [set(a) for a in book] == [ADDRESS_KEYS, ADDRESS_KEYS]
    billing, shipping = book
    assert (billing["is_billing"], billing["is_shipping"], billing["firstname"], billing["state"]) == (True, False, "Ann", 51)
    assert (shipping["is_billing"], shipping["is_shipping"], shipping["city"], shipping["state"]) == (False, True, "Dallas", None)
    hydra = sim.api.get(f"/api/profiles/{pid}/addresses", headers={"Accept": "application/ld+json"}).json()
    assert hydra["hydra:totalItems"] == 2
    for path in ("/api/profiles/999999", "/api/profiles/999999/addresses"):
        assert sim.api.get(path).status_code == 404
    assert sim.admin.get("/api/profiles").status_code == 401          # the API needs the token


def test_login_filter_is_partial_and_logins_are_unique_in_any_case(sim):
    sim.profile("zed.one@example.org")
    sim.profile("zed.two@example.org")
    sim.profile("other@example.net")
    found = sim.api.get("/api/profiles", params={"login": "ZED."}).json()
    assert sorted(p["login"] for p in found) == ["zed.one@example.org", "zed.two@example.org"]
    again = sim.admin.post("/_sim/profiles", json={"login": "Zed.One@Example.org"})
    assert again.status_code == 400 and "existing account" in again.json()["message"]
    assert sim.admin.post("/_sim/profiles", json={"login": " "}).status_code == 400
    assert sim.admin.post("/_sim/profiles", json={"login": "s@example.org", "status": "X"}).status_code == 400


def test_added_filters_and_a_filter_php_cannot_parse_is_dropped(sim):
    ids = []
    for s in range(3):
        sim.at(BASE + 10 * s)
        ids.append(sim.profile(f"p{s}@example.com")["profile"]["id"])

    def listed(**params) -> list[int]:
        r = sim.api.get("/api/profiles", params=params)
        assert r.status_code == 200, r.text
        return [p["id"] for p in r.json()]
    assert listed(**{"added[after]": f"@{BASE + 10}"}) == ids[1:]
    assert listed(**{"added[strictly_after]": f"@{BASE + 10}"}) == ids[2:]
    assert listed(**{"added[before]": f"@{BASE + 10}", "added[after]": f"@{BASE}"}) == ids[:2]
    assert listed(**{"added[strictly_before]": "2033-05-18T03:33:30+0000", "added[after]": f"@{BASE}"}) == ids[:1]
    # bare digits are not a \DateTime string: the filter is dropped, the whole table comes back
    assert listed(**{"added[after]": str(BASE + 10)}) == ids
    assert listed(**{"added[after]": "not a date", "login": "p2@"}) == ids[2:]
    assert listed(**{"added[after]": f"@{BASE}", "order[added]": "desc"}) == ids[::-1]


def test_profile_edit_changes_addresses_not_added_and_is_pushed(sim):
    receiver = sim.pushing()
    sim.at(BASE + 100)
    pid = sim.profile("bo@example.com", first_name="Bo", address={"city": "Austin"})["profile"]["id"]
    receiver.wait_for(("customer.created", pid))
    before = sim.api.get(f"/api/profiles/{pid}").json()
    sim.at(BASE + 200)
    r = sim.admin.patch(f"/_sim/profiles/{pid}", json={"last_name": "Diaz", "address": {"phone": "+1 555 0199",
                                                                                         "state_name": "Florida"}})
    assert r.status_code == 200, r.text
    [address] = sim.api.get(f"/api/profiles/{pid}/addresses").json()
    assert (address["lastname"], address["phone"], address["state"], address["city"]) == ("Diaz", "+1 555 0199", 10, "Austin")
    assert sim.api.get(f"/api/profiles/{pid}").json()["added"] == before["added"]
    assert receiver.wait_for(("customer.updated", pid)) == [("customer.created", pid), ("customer.updated", pid)]
    with receiver.lock:
        assert receiver.bodies[-1]["login"] == "bo@example.com" and "order_id" not in receiver.bodies[-1]
    assert sim.admin.patch("/_sim/profiles/999999", json={"status": "D"}).status_code == 404
    assert sim.admin.patch(f"/_sim/profiles/{pid}", json={"status": "Q"}).status_code == 400


# ---- orders: registered and guest customers ----------------------------------------------------

def test_first_order_registers_the_customer_and_a_guest_order_registers_none(sim):
    receiver = sim.pushing()
    order = sim.order(email="Cy@Example.com", first_name="Cy", address={"street": "1 Bay Rd", "state_name": "Florida"})
    pid = order["customer_id"]
    assert pid is not None and pid != order["order_profile_id"]
    [address] = sim.api.get(f"/api/profiles/{pid}/addresses").json()
    assert (address["street"], address["firstname"], address["is_billing"], address["is_shipping"]) == \
        ("1 Bay Rd", "Cy", True, True)
    assert receiver.wait_for(("order.created", order["id"]))[:2] == [("customer.created", pid), ("order.created", order["id"])]
    again = sim.order(email="cy@example.com")                  # same login in another case
    assert again["customer_id"] == pid and again["email"] == "cy@example.com"
    count = sim.admin.get("/_sim/stats").json()["profiles"]
    guest = sim.order(email="guest@example.com", guest=True, address={"street": "7 Guest Ln"})
    assert guest["customer_id"] is None and guest["order_profile_id"]
    assert guest["billing_address"]["street"] == guest["shipping_address"]["street"] == "7 Guest Ln"
    assert sim.admin.get("/_sim/stats").json()["profiles"] == count
    assert sim.api.get("/api/profiles", params={"login": "guest@"}).json() == []


# ---- payment transactions ------------------------------------------------------------------------

def test_partial_refund_is_a_backend_transaction_and_alone_does_not_renew_the_order(sim):
    receiver = sim.pushing()
    sim.at(BASE + 300)
    order = sim.order(shipping="5.00")                          # total 30.00
    [sale] = sim.txns(order["id"])
    sim.at(BASE + 400)
    r = sim.admin.post(f"/_sim/orders/{order['id']}/transactions/{sale['id']}/backend",
                       json={"type": "refundPart", "status": "S", "value": "7.50"})
    assert r.status_code == 201, r.text
    assert set(r.json()) == {"id", "type", "date", "status", "value", "data"}
    [sale] = sim.txns(order["id"])
    assert [(b["type"], b["status"], b["value"]) for b in sale["backend_transactions"]] == [("refundPart", "S", 7.5)]
    assert sim.api.get(f"/api/orders/{order['id']}").json()["update_date"] == order["update_date"]
    # the same refund with the payment status it leaves: one save of the order row
    r = sim.admin.post(f"/_sim/orders/{order['id']}/transactions/{sale['id']}/backend",
                       json={"type": "refundPart", "status": "S", "value": "2.50", "payment_status": "PP"})
    assert r.status_code == 201
    renewed = sim.api.get(f"/api/orders/{order['id']}").json()
    assert renewed["update_date"] != order["update_date"] and renewed["payment_status"]["code"] == "PP"
    events = receiver.wait_for(("order.payment_status_changed", order["id"]))
    assert [e for e in events if e[1] == order["id"]] == [("order.created", order["id"]),
                                                          ("order.payment_status_changed", order["id"])]


def test_auth_capture_void_and_status_changes(sim):
    order = sim.order(payment_type="auth", payment_method="PayPal")
    [auth] = sim.txns(order["id"])
    assert (auth["type"], auth["status"], auth["name"]) == ("auth", "S", "PayPal")
    base = f"/_sim/orders/{order['id']}/transactions/{auth['id']}"
    capture = sim.admin.post(f"{base}/backend", json={"type": "capture", "status": "W", "value": "25.00"}).json()
    r = sim.admin.patch(f"{base}/backend/{capture['id']}", json={"status": "S", "payment_status": "P"})
    assert r.status_code == 200 and r.json()["status"] == "S"
    refund = sim.admin.post(f"/_sim/orders/{order['id']}/transactions",
                            json={"type": "refund", "status": "F", "value": "25.00"})
    assert refund.status_code == 201 and refund.json()["backend_transactions"] == []
    assert sim.admin.patch(f"/_sim/orders/{order['id']}/transactions/{refund.json()['id']}",
                           json={"status": "S"}).json()["status"] == "S"
    txns = sim.txns(order["id"])
    assert [(t["type"], t["status"]) for t in txns] == [("auth", "S"), ("refund", "S")]
    assert [(b["type"], b["status"]) for b in txns[0]["backend_transactions"]] == [("capture", "S")]


@pytest.mark.parametrize("path_part, body, status", [
    ("backend", {"type": "capture", "value": "1.00"}, 400),         # a sale cannot be captured
    ("backend", {"type": "refund", "status": "Z", "value": "1.00"}, 400),
    ("backend", {"type": "chargeback", "value": "1.00"}, 400),
    ("backend", {"type": "refund", "value": "0"}, 400),
    ("backend", {"type": "refund", "value": "1.00", "payment_status": "XX"}, 400),
])
def test_transactions_x_cart_would_refuse(sim, path_part, body, status):
    order = sim.order()
    [sale] = sim.txns(order["id"])
    r = sim.admin.post(f"/_sim/orders/{order['id']}/transactions/{sale['id']}/{path_part}", json=body)
    assert r.status_code == status and r.json()["message"]
    assert sim.txns(order["id"]) == [sale]                       # nothing recorded


def test_unknown_order_or_transaction_is_404(sim):
    order = sim.order()
    assert sim.admin.post("/_sim/orders/999999/transactions", json={"value": "1"}).status_code == 404
    assert sim.admin.post(f"/_sim/orders/{order['id']}/transactions/999999/backend",
                          json={"type": "refund", "value": "1"}).status_code == 404


def test_child_writes_renew_option():
    s = Sim(child_writes_renew=True)
    try:
        s.at(BASE + 500)
        order = s.order()
        [sale] = s.txns(order["id"])
        s.at(BASE + 600)
        s.admin.post(f"/_sim/orders/{order['id']}/transactions/{sale['id']}/backend",
                     json={"type": "refund", "value": "25.00"}).raise_for_status()
        assert s.api.get(f"/api/orders/{order['id']}").json()["update_date"] == "2033-05-18T03:43:20+0000"
    finally:
        s.close()


def test_status_puts_push_what_changed(sim):
    receiver = sim.pushing()
    oid = sim.order()["id"]
    write = httpx.Client(base_url=sim.server.url, headers={"X-Auth-Token": ALL}, timeout=10)
    write.put(f"/api/orders/{oid}/payment_status", json={"code": "R"}).raise_for_status()
    write.put(f"/api/orders/{oid}/shipping_status", json={"code": "S"}).raise_for_status()
    write.put(f"/api/orders/{oid}/shipping_status", json={"code": "S"}).raise_for_status()    # same code: a save
    events = receiver.wait_for(("order.updated", oid))
    assert [e for e, i in events if i == oid] == ["order.created", "order.payment_status_changed",
                                                  "order.shipping_status_changed", "order.updated"]


# ---- the push module's tracking endpoint -----------------------------------------------------------

@pytest.mark.parametrize("path", ["/sagebridge/tracking", "/?target=sagebridge_tracking"])
def test_tracking_endpoint_is_idempotent_per_order_and_number(sim, path):
    receiver = sim.pushing()
    sim.at(BASE + 700)
    order = sim.order()
    sim.at(BASE + 800)
    body = {"order_number": order["order_number"], "tracking_number": "1Z999AA10123456784", "carrier": "UPS"}
    first = sim.admin.post(path, json=body, headers={"X-Sagebridge-Token": MODULE})
    assert first.status_code == 201, first.text
    assert first.json()["order_id"] == order["id"]
    repeat = sim.admin.post(path, json=body, headers={"X-Sagebridge-Token": MODULE})
    assert repeat.status_code == 200 and repeat.json() == first.json()
    other = sim.admin.post(path, json={**body, "tracking_number": "1Z999AA10123456785"},
                           headers={"X-Sagebridge-Token": MODULE})
    assert other.status_code == 201 and other.json()["tracking_id"] != first.json()["tracking_id"]
    shown = sim.api.get(f"/api/orders/{order['id']}").json()
    assert [(t["value"], set(t)) for t in shown["tracking_numbers"]] == [
        ("1Z999AA10123456784", {"id", "date", "value"}), ("1Z999AA10123456785", {"id", "date", "value"})]
    assert shown["update_date"] == order["update_date"]              # a child row: not renewed by default
    events = receiver.wait_for(("order.tracking_added", order["id"]))
    sim.admin.post("/_sim/orders/{}/touch".format(order["id"])).raise_for_status()   # a later event as the end marker
    events = receiver.wait_for(("order.updated", order["id"]))
    assert [e for e, i in events if i == order["id"]] == ["order.created", "order.tracking_added",
                                                          "order.tracking_added", "order.updated"]
    with receiver.lock:
        pushed = [b for b in receiver.bodies if b["event"] == "order.tracking_added"]
    assert [(b["tracking_number"], b["carrier"]) for b in pushed] == [("1Z999AA10123456784", "UPS"),
                                                                      ("1Z999AA10123456785", "UPS")]


def test_tracking_endpoint_refuses_bad_tokens_orders_and_bodies(sim):
    order = sim.order()
    body = {"order_number": order["order_number"], "tracking_number": "T1"}
    assert sim.admin.post("/sagebridge/tracking", json=body).status_code == 401
    assert sim.admin.post("/sagebridge/tracking", json=body, headers={"X-Sagebridge-Token": "nope"}).status_code == 401
    assert sim.admin.post("/sagebridge/tracking", json=body, headers={"X-Sagebridge-Token": ALL}).status_code == 401
    ok = {"X-Sagebridge-Token": MODULE}
    assert sim.admin.post("/sagebridge/tracking", json={**body, "order_number": "99999"}, headers=ok).status_code == 404
    assert sim.admin.post("/sagebridge/tracking", json={**body, "tracking_number": ""}, headers=ok).status_code == 400
    assert sim.admin.post("/sagebridge/tracking", content=b"[1]", headers=ok).status_code == 400
    for field in ("tracking_number", "carrier"):       # as strict as the module's TrackingRequest
        assert sim.admin.post("/sagebridge/tracking", json={**body, field: "1Z\n99"}, headers=ok).status_code == 400
    assert sim.admin.post("/?target=other", json=body, headers=ok).status_code == 404
    assert sim.api.get(f"/api/orders/{order['id']}").json()["tracking_numbers"] == []
    sim.admin.post("/_sim/module", json={"token": ""}).raise_for_status()      # no token: refuses all
    assert sim.admin.post("/sagebridge/tracking", json=body, headers={"X-Sagebridge-Token": ""}).status_code == 401


def test_tracking_renews_the_order_when_child_writes_do():
    s = Sim(child_writes_renew=True)
    try:
        s.at(BASE + 900)
        order = s.order()
        s.at(BASE + 1000)
        s.admin.post("/sagebridge/tracking", json={"order_number": order["order_number"], "tracking_number": "T9"},
                     headers={"X-Sagebridge-Token": MODULE}).raise_for_status()
        assert s.api.get(f"/api/orders/{order['id']}").json()["update_date"] == "2033-05-18T03:50:00+0000"
    finally:
        s.close()
