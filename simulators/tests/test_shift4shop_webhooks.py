"""Shift4Shop simulator webhooks: subscriptions over REST, the emitter posting JSON and XML object
arrays to a local receiver, delivery switched off (the order is still found by polling), repeats."""
from __future__ import annotations

import json
import threading
import time
import xml.etree.ElementTree as ET

import pytest
from fastapi import FastAPI, Request, Response

from sagebridge_sim.serve import BackgroundServer
from sagebridge_sim.shift4shop.emitter import xml_body
from sagebridge_sim.shift4shop.testing import running_sim


class Receiver:
    """A local webhook endpoint recording (path, content type, body) of every POST."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, bytes]] = []
        self._cond = threading.Condition()
        app = FastAPI()

        @app.post("/hook/{name}")
        async def hook(name: str, request: Request):
            body = await request.body()
            with self._cond:
                self.calls.append((name, request.headers.get("content-type", ""), body))
                self._cond.notify_all()
                first = sum(1 for n, _, _ in self.calls if n == name) == 1
            return Response(status_code=503 if name.startswith("flaky") and first else 200)

        self.server = BackgroundServer(app).start()

    def url(self, name: str) -> str:
        return f"{self.server.url}/hook/{name}"

    def wait_for(self, predicate, timeout: float = 10.0) -> list[tuple[str, str, bytes]]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self.calls):
                left = deadline - time.monotonic()
                assert left > 0, f"no matching delivery; got {[(n, b[:80]) for n, _, b in self.calls]}"
                self._cond.wait(left)
            return list(self.calls)


def _orders_in(calls, name: str) -> list[int]:
    return [o["OrderID"] for n, _, b in calls if n == name for o in json.loads(b)]


@pytest.fixture(scope="module")
def receiver():
    r = Receiver()
    yield r
    r.server.stop()


@pytest.fixture(scope="module")
def sim(receiver):
    with running_sim() as s:
        events = {e["EventName"]: e["EventType"] for e in s.api.get("/Webhooks/Events").json()}
        for name, event, fmt in (("json-new", "Order New", "JSON"), ("xml-new", "Order New", "XML"),
                                 ("status", "Order Status Change", "JSON"), ("customer", "Customer New", "JSON"),
                                 ("stock", "Product Stock Changed", "JSON")):
            r = s.api.post("/Webhooks", json={"Name": name, "Url": receiver.url(name), "EventType": events[event],
                                              "Format": fmt, "Enabled": True})
            assert r.status_code == 201 and r.json()[0]["Key"] == "Id", r.text
        s.product("HOOK", price="9.00", stock=50)
        yield s


@pytest.fixture(autouse=True)
def _reset(sim):
    yield
    sim.admin.post("/_sim/webhooks", json={"enabled": True, "repeat": 1})


def test_events_and_subscriptions_are_listed(sim):
    names = {e["EventName"] for e in sim.api.get("/Webhooks/Events").json()}
    assert {"Order New", "Order Status Change", "Customer New", "Product Stock Changed"} <= names
    hooks = sim.api.get("/Webhooks").json()
    assert {h["Name"] for h in hooks} >= {"json-new", "xml-new"}
    assert set(hooks[0]) == {"Id", "Name", "Url", "EventType", "DateCreated", "DateUpdated", "Format", "Enabled"}
    assert sim.api.get("/Webhooks", params={"format": "XML"}).json()[0]["Name"] == "xml-new"
    bad = sim.api.post("/Webhooks", json={"Name": "x", "Url": "http://h/", "EventType": 1, "Format": "CSV",
                                          "Enabled": True})
    assert bad.status_code == 400
    assert sim.api.post("/Webhooks", json={"Name": "x", "Url": "http://h/", "EventType": 1}).status_code == 400


def test_order_new_is_posted_as_json_and_as_xml(sim, receiver):
    o = sim.order(items=[{"sku": "HOOK", "quantity": 2}])
    calls = receiver.wait_for(lambda c: o["OrderID"] in _orders_in(c, "json-new")
                              and any(n == "xml-new" and f"<OrderID>{o['OrderID']}</OrderID>".encode() in b
                                      for n, _, b in c))
    body = next(json.loads(b) for n, _, b in calls if n == "json-new" and json.loads(b)[0]["OrderID"] == o["OrderID"])
    assert body == sim.api.get(f"/Orders/{o['OrderID']}").json()          # the REST GET's array
    ctype, raw = next((t, b) for n, t, b in calls if n == "xml-new" and f"<OrderID>{o['OrderID']}<".encode() in b)
    assert ctype.startswith("application/xml")
    root = ET.fromstring(raw)
    assert root.tag == "Orders" and [e.tag for e in root] == ["Order"]
    order = root.find("Order")
    assert order.findtext("InvoiceNumber") == str(o["InvoiceNumber"])
    assert [i.findtext("ItemID") for i in order.find("OrderItemList")] == ["HOOK"]
    assert order.find("OrderItemList")[0].tag == "OrderItem"
    assert order.findtext("BillingOnLinePayment") == "true"


def test_status_change_customer_new_and_stock_change_are_posted(sim, receiver):
    o = sim.order(items=[{"sku": "HOOK"}], email="hooked@example.com", register_customer=True)
    sim.api.put(f"/Orders/{o['OrderID']}", json={"OrderStatusID": 4})
    calls = receiver.wait_for(lambda c: any(n == "status" and json.loads(b)[0]["OrderID"] == o["OrderID"]
                                            for n, _, b in c)
                              and any(n == "customer" and json.loads(b)[0]["Email"] == "hooked@example.com"
                                      for n, _, b in c))
    status = [json.loads(b)[0] for n, _, b in calls if n == "status" and json.loads(b)[0]["OrderID"] == o["OrderID"]]
    assert [s["OrderStatusID"] for s in status] == [4]
    cid = sim.api.get("/Products", params={"sku": "HOOK"}).json()[0]["SKUInfo"]["CatalogID"]
    sim.api.put("/Products", json=[{"SKUInfo": {"CatalogID": cid, "Stock": 777}}])
    receiver.wait_for(lambda c: any(n == "stock" and json.loads(b)[0]["SKUInfo"]["Stock"] == 777 for n, _, b in c))


def test_an_order_placed_while_webhooks_are_off_is_only_found_by_polling(sim, receiver):
    sim.admin.post("/_sim/webhooks", json={"enabled": False})
    silent = sim.order(items=[{"sku": "HOOK"}])
    sim.admin.post("/_sim/webhooks", json={"enabled": True})
    marker = sim.order(items=[{"sku": "HOOK"}])
    calls = receiver.wait_for(lambda c: marker["OrderID"] in _orders_in(c, "json-new"))
    assert silent["OrderID"] not in _orders_in(calls, "json-new")
    assert sim.admin.get("/_sim/webhooks").json()["suppressed"] >= 2     # json-new and xml-new
    found = sim.api.get("/Orders", params={"invoicenumber": silent["InvoiceNumber"]}).json()
    assert [f["OrderID"] for f in found] == [silent["OrderID"]]


def test_repeat_delivers_each_notification_n_times(sim, receiver):
    sim.admin.post("/_sim/webhooks", json={"repeat": 3})
    o = sim.order(items=[{"sku": "HOOK"}])
    calls = receiver.wait_for(lambda c: _orders_in(c, "json-new").count(o["OrderID"]) >= 3)
    assert _orders_in(calls, "json-new").count(o["OrderID"]) == 3
    deliveries = [d for d in sim.admin.get("/_sim/webhooks/deliveries").json() if d["name"] == "json-new"]
    assert deliveries and all(d["ok"] and d["status"] == 200 for d in deliveries)
    assert all(d["url"].endswith("/hook/***") for d in deliveries)       # the last segment may be a secret


def test_a_failed_delivery_is_retried(sim, receiver):
    events = {e["EventName"]: e["EventType"] for e in sim.api.get("/Webhooks/Events").json()}
    sim.api.post("/Webhooks", json={"Name": "flaky", "Url": receiver.url("flaky"), "EventType": events["Order New"],
                                    "Format": "JSON", "Enabled": True})
    o = sim.order(items=[{"sku": "HOOK"}])
    calls = receiver.wait_for(lambda c: _orders_in(c, "flaky").count(o["OrderID"]) == 2)
    assert _orders_in(calls, "flaky") == [o["OrderID"], o["OrderID"]]        # 503, then the retry


def test_xml_text_is_escaped_and_lists_name_their_members():
    raw = xml_body("product", [{"SKUInfo": {"Name": "Salt & <Pepper>"}, "CategoryList": [{"CategoryID": 1}],
                                "Hide": False, "Price": None}])
    root = ET.fromstring(raw)
    p = root.find("Product")
    assert root.tag == "Products" and p.findtext("SKUInfo/Name") == "Salt & <Pepper>"
    assert p.find("CategoryList")[0].tag == "Category" and p.findtext("Hide") == "false"
