"""The 3dcart SOAP Store Web Service simulator over real HTTP, with hand-written SOAP 1.1 envelopes
(no client library between the test and the wire), so what is asserted is what a client sees."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from lxml import etree

from sagebridge_sim.serve import BackgroundServer, free_port
from sagebridge_sim.threedcart import ThreeDCartStore, create_app
from sagebridge_sim.threedcart.__main__ import main
from sagebridge_sim.threedcart.store import Item

STORE, KEY = "shop.example.com", "0123456789abcdef0123456789abcdef"
NS = "http://3dcart.com/"
CONNECTOR_WSDL = (Path(__file__).resolve().parents[2] / "connectors" / "sagebridge_connectors" / "threedcart"
                  / "wsdl" / "cart.wsdl")
STAMP = re.compile(r"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d\d:\d\d [AP]M$")


@pytest.fixture
def sim():
    store = ThreeDCartStore()
    store.add_product("1003K", "Tote Bag", Decimal("28.34"), 10)
    store.add_customer("max@example.com", "Max", "Mustermann")
    store.add_customer("john@example.com", "John", "Doe")
    with BackgroundServer(create_app(store, store_url=STORE, user_key=KEY)) as server:
        server.store = store
        server.http = httpx.Client(base_url=server.url, timeout=5)
        yield server
        server.http.close()


def order(store: ThreeDCartStore, price: str = "12.50", qty: int = 1, **kw):
    return store.place_order(email="max@example.com", items=[Item("1003K", "Tote Bag", Decimal(qty), Decimal(price))],
                             **kw)


def call(sim, op: str, action: str | None = None, auth: bool = True, **params) -> tuple[int, etree._Element]:
    """POSTs `op` with `params` (None values left out); returns (HTTP status, the result document
    or, for a fault, the envelope)."""
    fields = {"storeUrl": STORE, "userKey": KEY} if auth else {}
    fields.update({k: v for k, v in params.items() if v is not None})
    inner = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items())
    body = (f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
            f'<soap:Body><{op} xmlns="{NS}">{inner}</{op}></soap:Body></soap:Envelope>')
    r = sim.http.post("/cart.asmx", content=body.encode(),
                      headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action or NS + op}"'})
    root = etree.fromstring(r.content) if r.content.startswith(b"<?xml") else None
    if r.status_code != 200 or root is None:
        return r.status_code, root
    result = root.find(f".//{{{NS}}}{op}Result")
    return r.status_code, result[0]


def error_id(doc: etree._Element) -> int | None:
    return int(doc.findtext("Id")) if doc.tag == "Error" else None


def test_wsdl_is_the_connectors_with_the_address_rewritten(sim):
    r = sim.http.get("/cart.asmx?WSDL")
    assert r.status_code == 200
    served = r.content.decode()
    assert f'location="{sim.url}/cart.asmx"' in served
    assert served.replace(f"{sim.url}/cart.asmx", "https://api.3dcart.com/cart.asmx") == CONNECTOR_WSDL.read_text()
    assert sim.http.get("/cart.asmx").status_code == 400


def test_auth_errors_are_documents_in_the_result_with_http_200(sim):
    status, doc = call(sim, "getOrderCount", startFrom="false", auth=False, storeUrl=STORE, userKey="x" * 32)
    assert (status, doc.tag, error_id(doc), doc.findtext("Description")) == (200, "Error", 17, "Login Error")
    assert error_id(call(sim, "getOrderCount", auth=False, storeUrl="other.example.com", userKey=KEY)[1]) == 17
    assert error_id(call(sim, "getOrderCount", auth=False, storeUrl=STORE)[1]) == 1
    sim.http.post("/_sim/settings", json={"api_enabled": False})
    assert error_id(call(sim, "getOrderCount", startFrom="false")[1]) == 18
    sim.http.post("/_sim/settings", json={"api_enabled": True, "allowed_ips": ["10.9.9.9"]})
    assert error_id(call(sim, "getOrderCount", startFrom="false")[1]) == 16
    sim.http.post("/_sim/settings", json={"allowed_ips": []})
    assert call(sim, "getOrderCount", startFrom="false")[1].findtext("Quantity") == "0"


def test_protocol_errors_are_soap_faults(sim):
    status, env = call(sim, "getOrderCount", action=f"{NS}getOrder", startFrom="false")
    assert status == 500 and "SOAPAction" in env.findtext(".//faultstring")
    r = sim.http.post("/cart.asmx", content=b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>',
                      headers={"SOAPAction": f'"{NS}getOrder"'})
    assert r.status_code == 500 and b"DTD" in r.content


def test_order_document_shape(sim):
    o = order(sim.store, price="1500.00", qty=2, shipping_cost=Decimal("5.99"))
    status, doc = call(sim, "getOrder", batchSize=10, startNum=1, startFrom="false")
    assert status == 200 and doc.tag == "GetOrdersResponse"
    el = doc.find("Order")
    assert el.findtext("InvoiceNumber") == f"AB-{o.number}"
    assert el.findtext("Total") == "3,005.99" and el.findtext("Shipping") == "5.99"
    assert el.findtext("OrderStatus") == "New"
    assert STAMP.match(el.findtext("LastUpdate")) and STAMP.match(el.findtext("DateStarted"))
    assert re.match(r"^\d{1,2}/\d{1,2}/\d{4}$", el.findtext("Date"))
    item = el.find("ShippingInformation/OrderItems/Item")
    assert (item.findtext("ProductID"), item.findtext("UnitPrice"), item.findtext("OptionPrice")) == \
        ("1003K", "1,500.00", "0.00")
    assert el.find("Transaction/Amount").text == "3,005.99"
    assert el.find("ShippingInformation/Shipment/TrackingCode") is not None


def test_admin_routes_place_orders_and_move_status_and_stock(sim):
    made = sim.http.post("/_sim/orders", json={"items": [{"sku": "1003K", "unit_price": "28.34", "quantity": 2}],
                                               "shipping": "5.00"}).json()
    assert made["invoice"] == "AB-1000" and made["total"] == "61.68"
    assert sim.http.post("/_sim/orders/AB-1000/status", json={"status_id": 6}).json()["status_text"] == "Hold"
    assert call(sim, "getOrderStatus", invoiceNum="AB-1000")[1].findtext("StatusText") == "Hold"
    assert sim.http.post("/_sim/orders/AB-1000/status", json={"status_id": 99}).status_code == 400
    assert sim.http.put("/_sim/products/1003K/stock", json={"stock": 4}).json()["stock"] == 4
    assert sim.http.post("/_sim/products", json={"sku": "1003K"}).status_code == 409
    assert sim.http.post("/_sim/settings", json={"statuses": {"4": "Sent"}}).json()["statuses"]["4"] == "Sent"
    assert error_id(call(sim, "updateOrderStatus", invoiceNum="AB-1000", newStatus="Shipped")[1]) == 39


def test_the_result_document_is_unqualified_on_the_wire(sim):
    order(sim.store)
    body = (f'<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            f'<getOrderCount xmlns="{NS}"><storeUrl>{STORE}</storeUrl><userKey>{KEY}</userKey>'
            f'<startFrom>false</startFrom></getOrderCount></soap:Body></soap:Envelope>')
    r = sim.http.post("/cart.asmx", content=body, headers={"SOAPAction": f'"{NS}getOrderCount"'})
    assert b'<getOrderCountResult><OrdersCountResponse xmlns=""><Quantity>1</Quantity>' in r.content


def test_get_order_paging_and_invoice_filters(sim):
    made = [order(sim.store) for _ in range(5)]
    first = made[0].number
    invoices = lambda doc: [e.findtext("InvoiceNumber") for e in doc.findall("Order")]  # noqa: E731
    assert invoices(call(sim, "getOrder", batchSize=2, startNum=3, startFrom="false")[1]) == \
        [f"AB-{first + 2}", f"AB-{first + 3}"]
    assert invoices(call(sim, "getOrder", batchSize=100, startNum=1, startFrom="true",
                         invoiceNum=f"AB-{first + 3}")[1]) == [f"AB-{first + 3}", f"AB-{first + 4}"]
    assert invoices(call(sim, "getOrder", batchSize=1, startNum=1, startFrom="false",
                         invoiceNum=f"AB-{first + 1}")[1]) == [f"AB-{first + 1}"]
    # past the end and no match: the order-not-found code, not an empty document
    assert error_id(call(sim, "getOrder", batchSize=10, startNum=6, startFrom="false")[1]) == 49
    assert error_id(call(sim, "getOrder", batchSize=10, startNum=1, startFrom="true",
                         invoiceNum=f"AB-{first + 5}")[1]) == 49
    # the invoice is the full string: a bare number is not this store's invoice
    assert error_id(call(sim, "getOrder", batchSize=10, startNum=1, startFrom="false", invoiceNum=str(first))[1]) == 35
    assert error_id(call(sim, "getOrder", batchSize=10, startNum=1, startFrom="true")[1]) == 7


@pytest.mark.parametrize("params, code", [
    ({"startNum": 1, "startFrom": "false"}, 5),
    ({"batchSize": 10, "startFrom": "false"}, 6),
    ({"batchSize": 0, "startNum": 1}, 33),
    ({"batchSize": 101, "startNum": 1}, 33),
    ({"batchSize": "ten", "startNum": 1}, 33),
    ({"batchSize": 10, "startNum": 0}, 34),
    ({"batchSize": 10, "startNum": 1, "startFrom": "maybe"}, 38),
    ({"batchSize": 10, "startNum": 1, "status": "Shipped-ish"}, 39),
    ({"batchSize": 10, "startNum": 1, "dateFrom": "2024-11-05"}, 36),
    ({"batchSize": 10, "startNum": 1, "dateFrom": "11/06/2024", "dateTo": "11/05/2024"}, 37),
])
def test_get_order_validation(sim, params, code):
    order(sim.store)
    assert error_id(call(sim, "getOrder", **params)[1]) == code


def test_get_order_by_status_and_store_local_date(sim):
    # 03:30 UTC on 6 Nov is 5 Nov in New York (the simulator's default zone)
    early = order(sim.store, created_at=datetime(2024, 11, 6, 3, 30, tzinfo=timezone.utc))
    late = order(sim.store, created_at=datetime(2024, 11, 6, 15, 0, tzinfo=timezone.utc), status_id=4)
    doc = call(sim, "getOrder", batchSize=10, startNum=1, dateFrom="11/05/2024", dateTo="11/05/2024")[1]
    assert [e.findtext("OrderID") for e in doc.findall("Order")] == [str(early.order_id)]
    doc = call(sim, "getOrder", batchSize=10, startNum=1, status="Shipped")[1]
    assert [e.findtext("OrderID") for e in doc.findall("Order")] == [str(late.order_id)]
    assert call(sim, "getOrderCount", dateFrom="11/05/2024", dateTo="11/06/2024")[1].findtext("Quantity") == "2"


def test_update_order_status_takes_the_text(sim):
    o = order(sim.store)
    inv = f"AB-{o.number}"
    before = call(sim, "getOrderStatus", invoiceNum=inv)[1]
    assert (before.findtext("StatusId"), before.findtext("StatusText")) == ("1", "New")
    sim.http.post("/_sim/clock", json={"advance_s": 120})
    assert error_id(call(sim, "updateOrderStatus", invoiceNum=inv, newStatus="shipped")[1]) == 39   # exact text
    assert error_id(call(sim, "updateOrderStatus", invoiceNum=inv, newStatus="4")[1]) == 39        # not the id
    assert error_id(call(sim, "updateOrderStatus", invoiceNum=inv)[1]) == 8
    assert error_id(call(sim, "updateOrderStatus", invoiceNum="AB-999999", newStatus="Shipped")[1]) == 49
    done = call(sim, "updateOrderStatus", invoiceNum=inv, newStatus="Shipped")[1]
    assert (done.tag, done.findtext("InvoiceNum"), done.findtext("NewStatus")) == \
        ("UpdateOrderStatusResponse", inv, "Shipped")
    assert call(sim, "getOrderStatus", invoiceNum=inv)[1].findtext("StatusId") == "4"
    assert o.last_update > o.created_at


def test_update_product_inventory_adds_unless_replace_is_true(sim):
    def inv():
        return call(sim, "getProductInventory", productId="1003K")[1].findtext("Inventory")
    assert inv() == "10"
    assert call(sim, "updateProductInventory", productId="1003K", quantity=5)[1].findtext("NewInventory") == "15"
    call(sim, "updateProductInventory", productId="1003K", quantity=5, replaceStock="false")
    assert inv() == "20"
    done = call(sim, "updateProductInventory", productId="1003K", quantity=7, replaceStock="true")[1]
    assert (done.tag, done.findtext("ProductID"), done.findtext("NewInventory")) == ("UpdateInventoryResponse", "1003K", "7")
    assert error_id(call(sim, "updateProductInventory", productId="1003K", quantity="1.5", replaceStock="true")[1]) == 32
    assert error_id(call(sim, "updateProductInventory", productId="1003K", replaceStock="true")[1]) == 4
    assert error_id(call(sim, "updateProductInventory", productId="NOPE", quantity=1, replaceStock="true")[1]) == 46
    assert error_id(call(sim, "getProductInventory")[1]) == 3
    writes = sim.http.get("/_sim/writes", params={"op": "updateProductInventory"}).json()
    assert [w["params"].get("replaceStock") for w in writes][:3] == [None, "false", "true"]
    assert all("userKey" not in w["params"] for w in writes)


def test_update_order_shipment(sim):
    single = order(sim.store)
    multi = order(sim.store, shipments=2)
    ok = call(sim, "updateOrderShipment", invoiceNum=f"AB-{single.number}", tracking="1Z999", shipmentDate="11/05/2024")[1]
    assert (ok.tag, ok.findtext("result")) == ("UpdateOrderShipmentResponse", "OK")
    assert single.shipments[0].tracking == "1Z999"
    assert error_id(call(sim, "updateOrderShipment", invoiceNum=f"AB-{multi.number}", tracking="X")[1]) == 43
    second = multi.shipments[1].shipment_id
    call(sim, "updateOrderShipment", invoiceNum=f"AB-{multi.number}", shipmentID=second, tracking="X2")
    assert [s.tracking for s in multi.shipments] == ["", "X2"]
    assert error_id(call(sim, "updateOrderShipment", invoiceNum=f"AB-{single.number}", tracking="Y",
                         shipmentDate="5 Nov")[1]) == 36


def test_customers_and_products(sim):
    doc = call(sim, "getCustomer", batchSize=10, startNum=1)[1]
    assert [c.findtext("BillingAddress/Email") for c in doc.findall("Customer")] == ["max@example.com", "john@example.com"]
    doc = call(sim, "getCustomer", batchSize=10, startNum=1, customersFilter="firstname=john")[1]
    assert [c.findtext("CustomerID") for c in doc.findall("Customer")] == ["2"]
    assert error_id(call(sim, "getCustomer", batchSize=10, startNum=3)[1]) == 47
    assert error_id(call(sim, "getCustomer", batchSize=10, startNum=1, customersFilter="id=1")[1]) == 43
    assert call(sim, "getCustomerCount")[1].findtext("CustomerCount") == "2"
    doc = call(sim, "getProduct", batchSize=10, startNum=1, productId="1003K")[1]
    assert doc.tag == "GetProductDetailsResponse" and doc.findtext("Product/Stock") == "10"
    assert error_id(call(sim, "getProduct", batchSize=10, startNum=1, productId="NOPE")[1]) == 46
    assert call(sim, "getProductCount")[1].findtext("ProductQuantity") == "1"


def test_faults_apply_to_the_service_and_faulted_writes_are_logged(sim):
    sim.http.post("/_sim/faults", json={"error_status": 503, "error_count": 1, "retry_after_s": 3})
    r = sim.http.post("/cart.asmx", content=b"<x/>", headers={"SOAPAction": f'"{NS}updateProductInventory"'})
    assert r.status_code == 503 and r.headers["retry-after"] == "3"
    sim.http.post("/_sim/faults", json={"rate_limit_count": 1})
    status, _ = call(sim, "updateProductInventory", productId="1003K", quantity=3, replaceStock="true")
    assert status == 429
    assert call(sim, "updateProductInventory", productId="1003K", quantity=3, replaceStock="true")[0] == 200
    writes = sim.http.get("/_sim/writes").json()
    assert [(w["op"], w["status"], w["ok"]) for w in writes] == \
        [("updateProductInventory", 429, False), ("updateProductInventory", 200, True)]
    assert sim.http.get("/_sim/state").json()["products"][0]["stock"] == 3


def test_credentials_come_from_the_environment_only(monkeypatch):
    monkeypatch.delenv("THREEDCART_STORE_URL", raising=False)
    monkeypatch.delenv("THREEDCART_USER_KEY", raising=False)
    with pytest.raises(SystemExit, match="THREEDCART_STORE_URL"):
        main(["--port", "9"])
    with pytest.raises(SystemExit):
        main(["--port", "9", "--user-key", KEY])        # no such option: never on argv


def test_a_late_commit_lands_after_the_client_gave_up(sim):
    sim.http.post("/_sim/faults", json={"commit_late_ms": 800, "commit_late_count": 1})
    body = (f'<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            f'<updateProductInventory xmlns="{NS}"><storeUrl>{STORE}</storeUrl><userKey>{KEY}</userKey>'
            f'<productId>1003K</productId><quantity>2</quantity><replaceStock>true</replaceStock>'
            f'</updateProductInventory></soap:Body></soap:Envelope>')
    with pytest.raises(httpx.ReadTimeout):
        sim.http.post("/cart.asmx", content=body, headers={"SOAPAction": f'"{NS}updateProductInventory"'}, timeout=0.2)
    deadline = time.monotonic() + 5
    while sim.store.products["1003K"].stock != 2:       # the positive signal: the write committed
        assert time.monotonic() < deadline, "the late write never landed"
        time.sleep(0.05)


def test_runs_as_a_module_with_env_credentials():
    port = free_port()
    env = {**os.environ, "THREEDCART_STORE_URL": STORE, "THREEDCART_USER_KEY": KEY}
    proc = subprocess.Popen([sys.executable, "-m", "sagebridge_sim.threedcart", "--port", str(port),
                             "--seed-products", "2", "--log-level", "warning"], env=env)
    try:
        assert KEY not in " ".join(proc.args)
        deadline = time.monotonic() + 20
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/cart.asmx?WSDL", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None, "simulator did not start"
                time.sleep(0.1)
        assert f'location="http://127.0.0.1:{port}/cart.asmx"' in r.text
        state = httpx.get(f"http://127.0.0.1:{port}/_sim/state").json()
        assert [p["sku"] for p in state["products"]] == ["SKU-00001", "SKU-00002"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
