"""The Shift4Shop sink's order, shipment, product, variant and customer writes, the ledger and the
registrations, against an in-memory store behind httpx.MockTransport (shift4shop.md §1.3, §1.4, §2)."""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from decimal import Decimal
from types import SimpleNamespace

from pathlib import Path

import httpx
import pytest

from sagebridge_common import registry
from sagebridge_common.errors import PermanentError
from sagebridge_common.pair_file import PairFileError
from sagebridge_common.pairs import load_pair_file
from sagebridge_connectors.shift4shop.config import Shift4ShopStorefrontConfig
from sagebridge_connectors.shift4shop.ledger import Shift4ShopLedger
from sagebridge_connectors.shift4shop.sink import Shift4ShopSink
from sagebridge_connectors.shift4shop.sink_orders import split_invoice


def ok(key: str, value) -> list[dict]:
    return [{"Key": key, "Value": str(value), "Status": "200", "Message": "updated successfully"}]


class Store:
    def __init__(self) -> None:
        self.orders = {47620: {"OrderID": 47620, "InvoiceNumberPrefix": "AB-", "InvoiceNumber": 1000,
                               "OrderStatusID": 1, "OrderDate": "2024-01-15T23:30:00", "OrderAmount": 25.5,
                               "TransactionList": [
                                   {"TransactionIndexID": 9, "TransactionType": "Sale", "TransactionAmount": 25.5},
                                   {"TransactionIndexID": 10, "TransactionType": "Authorize", "TransactionAmount": 25.5},
                                   {"TransactionIndexID": 11, "TransactionType": "capture", "TransactionAmount": 0}]}}
        self.shipments = {47620: [{"ShipmentID": 0, "ShipmentNumber": 1, "ShipmentTrackingCode": ""}]}
        self.products = {12: {"SKUInfo": {"CatalogID": 12, "SKU": "TSHIRT", "Price": 10.0, "Stock": 3},
                              "Description": "<p>old</p>", "Hide": False,
                              "CategoryList": [{"CategoryID": 1, "CategoryName": "Shirts"}],
                              "AdvancedOptionList": [{"AdvancedOptionCode": "390-493", "AdvancedOptionSufix": "TSHIRT-RED-L",
                                                      "AdvancedOptionStock": 1, "AdvancedOptionPrice": 12.0}]}}
        self.customers = {5: {"CustomerID": 5, "Email": "Ann@Example.test", "BillingFirstName": "Ann",
                              "BillingLastName": "Lee", "BillingAddress1": "1 Main St", "BillingCity": "Austin"}}
        self.requests: list[httpx.Request] = []

    def writes(self) -> list[tuple[str, str, object]]:
        return [(r.method, r.url.path.removeprefix("/3dCartWebAPI/v1"), json.loads(r.content))
                for r in self.requests if r.method == "PUT"]

    def handler(self, request: httpx.Request) -> httpx.Response:  # noqa: C901 - one fake store
        self.requests.append(request)
        path, p, m = request.url.path.removeprefix("/3dCartWebAPI/v1"), request.url.params, request.method
        body = json.loads(request.content) if request.content else None
        if path == "/Orders" and m == "GET":
            rows = [o for o in self.orders.values()
                    if ("invoicenumber" not in p or str(o["InvoiceNumber"]) == p["invoicenumber"])
                    and ("invoiceprefix" not in p or o["InvoiceNumberPrefix"] == p["invoiceprefix"])]
            if "datestart" in p:
                lo, hi = (datetime.strptime(p[k], "%m/%d/%Y %H:%M:%S") for k in ("datestart", "dateend"))
                rows = [o for o in rows if lo <= datetime.fromisoformat(o["OrderDate"]) <= hi]
            rows = rows[int(p.get("offset", 1)) - 1:][:int(p.get("limit", 10))]
            return httpx.Response(200, json=rows) if rows else httpx.Response(404, json=[])
        if mm := re.fullmatch(r"/Orders/(\d+)", path):
            oid = int(mm.group(1))
            if m == "PUT":
                self.orders[oid].update(body)
                return httpx.Response(200, json=ok("OrderID", oid))
            return httpx.Response(200, json=[self.orders[oid]])
        if mm := re.fullmatch(r"/Orders/(\d+)/Shipments(?:/(\d+))?", path):
            oid = int(mm.group(1))
            if m == "PUT":
                s = next(s for s in self.shipments[oid] if s["ShipmentID"] == int(mm.group(2)))
                s.update(body)
                return httpx.Response(200, json=ok("ShipmentID", s["ShipmentID"]))
            return httpx.Response(200, json=self.shipments[oid])
        if path == "/Products" and m == "GET":
            rows = [x for x in self.products.values() if "sku" not in p or x["SKUInfo"]["SKU"] == p["sku"]]
            rows = rows[int(p.get("offset", 1)) - 1:][:int(p.get("limit", 10))]
            return httpx.Response(200, json=rows) if rows else httpx.Response(404, json=[])
        if path == "/Products" and m == "PUT":
            for item in body:
                prod = self.products[item["SKUInfo"]["CatalogID"]]
                prod["SKUInfo"].update(item["SKUInfo"])
                prod.update({k: v for k, v in item.items() if k != "SKUInfo"})
            return httpx.Response(200, json=[ok("CatalogID", i["SKUInfo"]["CatalogID"])[0] for i in body])
        if mm := re.fullmatch(r"/Products/(\d+)", path):
            return httpx.Response(200, json=[self.products[int(mm.group(1))]])
        if mm := re.fullmatch(r"/Products/(\d+)/AdvancedOptions", path):
            opts = self.products[int(mm.group(1))]["AdvancedOptionList"]
            for item in body:
                next(o for o in opts if o["AdvancedOptionCode"] == item["AdvancedOptionCode"]).update(item)
            return httpx.Response(200, json=ok("AdvancedOptionCode", body[0]["AdvancedOptionCode"]))
        if path == "/Categories":
            cats = [{"CategoryID": 1, "CategoryName": "Shirts"}, {"CategoryID": 2, "CategoryName": "Sale"}]
            cats = cats[int(p.get("offset", 1)) - 1:][:int(p.get("limit", 10))]
            return httpx.Response(200, json=cats) if cats else httpx.Response(404, json=[])
        if path == "/Customers" and m == "GET":
            rows = [c for c in self.customers.values() if c["Email"].lower() == p.get("email", "").lower()]
            return httpx.Response(200, json=rows) if rows else httpx.Response(404, json=[])
        if mm := re.fullmatch(r"/Customers/(\d+)", path):
            self.customers[int(mm.group(1))].update(body)
            return httpx.Response(200, json=ok("CustomerID", mm.group(1)))
        return httpx.Response(404, json=[])


def cfg(**kw) -> Shift4ShopStorefrontConfig:
    base = {"kind": "shift4shop", "api_url": "https://s4s.test/3dCartWebAPI/v1", "private_key": "pk", "token": "tk",
            "rate_limit_per_s": 10000, "rate_limit_burst": 10000, "batch_wait_ms": 10}
    return Shift4ShopStorefrontConfig(**(base | kw))


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def sink(store) -> Shift4ShopSink:
    return Shift4ShopSink(cfg(), "America/Los_Angeles", transport=httpx.MockTransport(store.handler))


def test_invoice_numbers_split_into_prefix_and_number():
    assert split_invoice("AB-1000") == ("AB-", 1000)
    assert split_invoice("1000") == ("", 1000)
    assert split_invoice("X2Y-07") == ("X2Y-", 7)
    with pytest.raises(PermanentError):
        split_invoice("AB-")


def test_order_status_is_put_once_and_the_order_id_is_cached(store, sink):
    out = sink.set_order_status("AB-1000", order_status="4")
    assert out.outcome == "updated" and store.orders[47620]["OrderStatusID"] == 4
    finds = [r for r in store.requests if r.url.path.endswith("/Orders") and r.method == "GET"]
    assert len(finds) == 1 and finds[0].url.params["invoicenumber"] == "1000" and finds[0].url.params["invoiceprefix"] == "AB-"
    assert store.writes() == [("PUT", "/Orders/47620", {"OrderStatusID": 4})]
    assert sink.set_order_status("AB-1000", order_status="4").outcome == "already_present"
    assert len([r for r in store.requests if r.url.path.endswith("/Orders") and r.method == "GET"]) == 1


def test_shipping_or_payment_status_alone_is_skipped_and_an_unknown_order_is_permanent(store, sink):
    out = sink.set_order_status("AB-1000", shipping_status="S", payment_status="P")
    assert out.outcome == "skipped" and "shipping_status and payment_status" in out.message
    assert store.requests == []
    with pytest.raises(PermanentError) as e:
        sink.set_order_status("AB-9999", order_status="4")
    assert e.value.reason == "unknown_order"
    with pytest.raises(PermanentError) as e:
        sink.set_order_status("AB-1000", order_status="Shipped")
    assert e.value.reason == "refused_value"


def test_tracking_goes_on_the_first_free_shipment_with_a_store_local_date(store, sink):
    when = datetime(2024, 1, 16, 7, 30, tzinfo=timezone.utc)          # 15 Jan, 23:30 in Los Angeles
    out = sink.add_shipment("AB-1000", "UPS", " 1Z999 ", shipped_at=when)
    assert out.outcome == "updated"
    assert store.writes() == [("PUT", "/Orders/47620/Shipments/0",
                               {"ShipmentID": 0, "ShipmentTrackingCode": "1Z999", "ShipmentShippedDate": "1/15/2024"})]


def test_a_right_padded_recorded_code_is_already_present(store, sink):
    store.shipments[47620][0]["ShipmentTrackingCode"] = "1Z999        "
    assert sink.add_shipment("AB-1000", "UPS", "1Z999").outcome == "already_present"
    assert store.writes() == []
    with pytest.raises(PermanentError) as e:
        sink.add_shipment("AB-1000", "UPS", "OTHER")
    assert e.value.reason == "refused_value"


def test_update_product_sends_only_what_differs_in_one_batched_item(store, sink):
    out = sink.update_product({"sku": "TSHIRT", "price": Decimal("12.50"), "description": "<p>old</p>",
                               "active": True, "deleted": False, "categories": ["Shirts", "Sale", "Nope"]})
    assert out.outcome == "updated" and "category 'Nope' not in the store" in out.message
    assert store.writes() == [("PUT", "/Products", [{"SKUInfo": {"CatalogID": 12, "Price": 12.5},
                                                      "CategoryList": [{"CategoryID": 1, "CategoryName": "Shirts"},
                                                                       {"CategoryID": 2, "CategoryName": "Sale"}]}])]
    again = sink.update_product({"sku": "TSHIRT", "price": Decimal("12.5"), "description": "<p>old</p>",
                                 "active": True, "categories": ["Shirts", "Sale"]})
    assert again.outcome == "already_present" and len(store.writes()) == 1
    sink.update_product({"sku": "TSHIRT", "price": None, "active": False})
    assert store.writes()[-1][2] == [{"SKUInfo": {"CatalogID": 12}, "Hide": True}]


def test_a_variant_sku_is_found_through_advanced_options_and_written_there(store, sink):
    out = sink.set_stock("TSHIRT-RED-L", Decimal("-2"))
    assert out.outcome == "updated" and out.document_id == "12/390-493"
    assert store.writes() == [("PUT", "/Products/12/AdvancedOptions",
                               [{"AdvancedOptionCode": "390-493", "AdvancedOptionSufix": "TSHIRT-RED-L",
                                 "AdvancedOptionStock": -2}])]
    assert sink.update_product({"sku": "TSHIRT-RED-L", "price": Decimal("12")}).outcome == "already_present"
    assert sink.update_product({"sku": "TSHIRT-RED-L", "price": Decimal("13")}).outcome == "updated"
    assert store.products[12]["AdvancedOptionList"][0]["AdvancedOptionPrice"] == 13


def test_an_unknown_sku_is_permanent_and_the_catalogue_scan_is_not_repeated_within_the_ttl(store, sink):
    for _ in range(2):
        with pytest.raises(PermanentError) as e:
            sink.set_stock("NOPE", Decimal(1))
        assert e.value.reason == "unknown_sku"
    scans = [r for r in store.requests if r.url.path.endswith("/Products") and "sku" not in r.url.params]
    assert [r.url.params["offset"] for r in scans] == ["1", "2"]     # one walk: a page, then the 404


def test_update_customer_by_email_puts_only_differing_fields(store, sink):
    out = sink.update_customer({"email": "ann@example.test", "first_name": "Ann", "last_name": "Lee-Smith",
                                "billing_address": {"line1": "1 Main St", "city": "Dallas"}})
    assert out.outcome == "updated"
    assert store.writes() == [("PUT", "/Customers/5", {"CustomerID": 5, "BillingLastName": "Lee-Smith",
                                                       "BillingCity": "Dallas"})]
    assert sink.update_customer({"email": "nobody@example.test", "first_name": "X"}).outcome == "skipped"


def _pair(storefront, order_status=None):
    rule = lambda s, r: SimpleNamespace(status=s, ready_for_erp=r, fulfilment="unfulfilled")  # noqa: E731
    table = order_status if order_status is not None else {"1": rule("new", True), "default": rule("unknown", False)}
    return SimpleNamespace(pair="3dcart-sage300", storefront=storefront, store_time_zone="America/Los_Angeles",
                           currency="USD", mapping=SimpleNamespace(order_status=table))


def test_ledger_lists_orders_of_a_window_with_status_rule_and_payments(store):
    ledger = Shift4ShopLedger(_pair(cfg()), transport=httpx.MockTransport(store.handler))
    docs = list(ledger.orders(datetime(2024, 1, 16, 7, 0, tzinfo=timezone.utc), datetime(2024, 1, 16, 8, 0, tzinfo=timezone.utc)))
    assert [(d.number, d.total, d.status, d.ready_for_erp) for d in docs] == [("AB-1000", Decimal("25.50"), "new", True)]
    assert docs[0].created_at == datetime(2024, 1, 16, 7, 30, tzinfo=timezone.utc)
    assert [(p.transaction_id, p.amount) for p in docs[0].payments] == [("t9", Decimal("25.50"))]
    req = next(r for r in store.requests if "datestart" in r.url.params)
    assert req.url.params["datestart"] == "01/15/2024 23:00:00" and req.url.params["offset"] == "1"
    store.orders[47620]["OrderStatusID"] = 6
    assert list(ledger.orders(datetime(2024, 1, 16, 7, tzinfo=timezone.utc),
                              datetime(2024, 1, 16, 8, tzinfo=timezone.utc)))[0].status == "unknown"
    assert list(ledger.orders(datetime(2024, 1, 16, 7, 31, tzinfo=timezone.utc),
                              datetime(2024, 1, 16, 8, tzinfo=timezone.utc))) == []


def test_registrations_and_the_sink_factory_refuses_without_keys():
    assert registry.config_model("storefront", "shift4shop") is Shift4ShopStorefrontConfig
    with pytest.raises(PairFileError, match="SHIFT4SHOP_TOKEN"):
        registry.build("storefront_sink", _pair(cfg(token="")))
    with pytest.raises(PairFileError, match="SHIFT4SHOP_PRIVATE_KEY"):
        registry.build("storefront_sink", _pair(cfg(private_key="")))
    sink = registry.build("storefront_sink", _pair(cfg()))
    assert sink.kind == "shift4shop" and sink.zone.key == "America/Los_Angeles"
    source = registry.build("storefront_source", _pair(cfg()))
    assert source.streams() == ["order", "customer"] and source.zone.key == "America/Los_Angeles"
    assert registry.build("storefront_ledger", _pair(cfg())).kind == "shift4shop"


ISSUE_BLOCK = """storefront:
  kind: shift4shop
  instance: ${STORE_INSTANCE:-default}
  api_url: ${SHIFT4SHOP_API_URL:-https://apirest.3dcart.com/3dCartWebAPI/v1}
  secure_url: ${SHIFT4SHOP_SECURE_URL:-}
  private_key: ${SHIFT4SHOP_PRIVATE_KEY:-}
  token: ${SHIFT4SHOP_TOKEN:-}
  webhook_token: ${SHIFT4SHOP_WEBHOOK_TOKEN:-}
  webhook_allow_ips: []
  timeout_s: 20
  max_concurrency: 4
  poll_interval_s: ${POLL_INTERVAL_S:-5}
  page_size: 100
  overlap_s: 120
  start_at: ${POLL_START_AT:-}
  rate_limit_per_s: 5
  rate_limit_burst: 10
  batch_size: 100
  batch_wait_ms: 200
"""


def test_the_issue_s_storefront_block_loads_in_a_pair_file(tmp_path, monkeypatch):
    """The block exactly as issue 8 lists it, in the shipped X-Cart pair file's place."""
    shipped = (Path(__file__).resolve().parents[2] / "pairs" / "xcart-sage300.yaml").read_text()
    head, _, rest = shipped.partition("storefront:\n")
    lines = rest.splitlines(keepends=True)
    first_top = next(i for i, line in enumerate(lines) if line.strip() and not line.startswith((" ", "#")))
    (tmp_path / "p.yaml").write_text(head + ISSUE_BLOCK + "".join(lines[first_top:]))
    monkeypatch.setenv("SHIFT4SHOP_TOKEN", "merchant-token")
    monkeypatch.setenv("SHIFT4SHOP_PRIVATE_KEY", "app-key")
    pair = load_pair_file(tmp_path / "p.yaml")
    assert isinstance(pair.storefront, Shift4ShopStorefrontConfig)
    assert pair.storefront.token.get_secret_value() == "merchant-token" and pair.storefront.batch_size == 100
    assert "merchant-token" not in repr(pair.storefront)
