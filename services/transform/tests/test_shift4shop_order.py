"""Shift4Shop REST order (shape of GET /Orders/{id}, shift4shop.md §2.1) → canonical v3 order through
Transform: number, status by id, variant SKU and option prices, totals and their invariant, store-local
dates, customer, addresses, charges; every unusable order a PermanentError with its reason."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from sagebridge_common.errors import PermanentError
from sagebridge_common.events import Event
from sagebridge_common.keyed_state import KeyedState
from sagebridge_common.pair_mapping import MappingTables
from sagebridge_common.pairs import ConnectorConfig, PairConfig
from sagebridge_common.settings import Settings
from sagebridge_common.topics import CUSTOMERS, ORDERS, PAYMENTS, STOREFRONT_RAW, TRANSFORM_VERSIONS_CHANGELOG
from sagebridge_transform.handler import make_handler

# the `mapping:` of a 3dcart pair file: no X-Cart payment/shipping codes, the shipped order_status default
MAPPING = {
    "payment_methods": {"Online Credit Card": "CC", "PayPal": "PAYPAL", "default": "WEB"},
    "ship_via": {"UPS Ground": "UPSGRD", "default": None},
    "order_charges": {"shipping": {"placement": "line", "code": "FRT"}, "discount": {"placement": "header"}},
    "payments": {"methods": {"PAYPAL": {"bank_code": "PAYPAL", "receipt_type": "Prepayment"},
                             "default": {"bank_code": "SEATAC", "receipt_type": "Prepayment"}}},
    "default_customer": "WEBCUST", "default_location": "1",
}


def make_pair(kind: str = "shift4shop", pair_id: str = "3dcart-sage300", **mapping) -> PairConfig:
    return PairConfig.model_validate({
        "pair": pair_id, "reference_prefix": "3D1-", "store_time_zone": "America/Los_Angeles", "currency": "USD",
        "storefront": ConnectorConfig(kind=kind), "erp": ConnectorConfig(kind="sage300"),
        "mapping": MappingTables.model_validate({**MAPPING, **mapping})})


def pairs(kind: str = "shift4shop", **mapping) -> dict[str, PairConfig]:
    pair = make_pair(kind, "3dcart-sage300" if kind == "shift4shop" else "3dcartsoap-sage300", **mapping)
    return {pair.pair: pair}


def meta(pair_id: str = "3dcart-sage300", source: str = "shift4shop", entity_id: str = "47620",
         event_type: str = "order.updated") -> dict:
    at = datetime(2024, 1, 16, 8, 0, tzinfo=timezone.utc)
    return {"event_id": "e1", "event_type": event_type, "occurred_at": at, "recorded_at": at, "source_system": source,
            "source_instance": "shop", "source_entity_id": entity_id, "pair_id": pair_id, "correlation_id": "e1"}


def rest_order(**over) -> dict:
    """Field names and value shapes as the REST API returns them (recorded v1 traffic, §2.1)."""
    order = {
        "InvoiceNumberPrefix": "AB-", "InvoiceNumber": 1000, "OrderID": 47620, "CustomerID": 12,
        "OrderDate": "2013-09-15T20:12:52", "OrderStatusID": 1, "LastUpdate": "2013-09-16T08:00:00",
        "UserID": "", "SalesPerson": "", "ContinueURL": "",
        "BillingFirstName": "Ann", "BillingLastName": "Lee", "BillingCompany": "Lee Ltd", "BillingAddress": "1 Main St",
        "BillingAddress2": "Suite 4", "BillingCity": "Los Angeles", "BillingState": "CA", "BillingZipCode": "90001",
        "BillingCountry": "US", "BillingPhoneNumber": "555-0100", "BillingEmail": "Ann@Example.com",
        "BillingPaymentMethod": "Online Credit Card", "BillingOnLinePayment": True, "BillingPaymentMethodID": "1",
        "ShipmentList": [{
            "ShipmentID": 0, "ShipmentLastUpdate": "2013-09-15T20:12:52", "ShipmentBoxes": 1,
            "ShipmentInternalComment": "", "ShipmentOrderStatus": 1, "ShipmentAddress": "2 Side St",
            "ShipmentAddress2": "", "ShipmentAlias": "", "ShipmentCity": "San Diego", "ShipmentCompany": "",
            "ShipmentCost": 7.5, "ShipmentCountry": "US", "ShipmentEmail": "", "ShipmentFirstName": "Bob",
            "ShipmentLastName": "Lee", "ShipmentMethodID": 3, "ShipmentMethodName": "UPS Ground",
            "ShipmentShippedDate": "", "ShipmentPhone": "555-0101", "ShipmentState": "California",
            "ShipmentZipCode": "92101", "ShipmentTax": 0, "ShipmentWeight": 2, "ShipmentTrackingCode": "  ",
            "ShipmentUserID": "", "ShipmentNumber": 1, "ShipmentAddressTypeID": 0}],
        "OrderItemList": [
            {"CatalogID": 101, "ItemIndexID": 1, "ItemID": "SHIRT-RED-L", "ItemShipmentID": 0, "ItemQuantity": 2,
             "ItemWarehouseID": 0, "ItemDescription": "Shirt<br><b>Color:</b>&nbsp;Red", "ItemUnitPrice": 20.0,
             "ItemWeight": 0.5, "ItemOptionPrice": 2.5, "ItemAdditionalField1": "", "ItemPageAdded": "",
             "ItemDateAdded": "2013-09-15T20:10:00", "ItemUnitCost": 8, "ItemUnitStock": -2,
             "ItemOptions": ",390,493", "ItemCatalogIDOptions": ""},
            {"CatalogID": 102, "ItemIndexID": 2, "ItemID": "MUG", "ItemShipmentID": 0, "ItemQuantity": 1,
             "ItemWarehouseID": 0, "ItemDescription": "Mug", "ItemUnitPrice": 9.99, "ItemWeight": 1,
             "ItemOptionPrice": 0, "ItemOptions": "", "ItemCatalogIDOptions": ""}],
        "PromotionList": [{"PromotionID": 3, "PromotionName": "Five off", "Coupon": "FIVE", "DiscountAmount": 5}],
        "OrderDiscount": 5.0, "OrderDiscountCoupon": 5.0, "OrderDiscountPromotion": 0,
        "SalesTax": 3.1, "SalesTax2": 0.5, "SalesTax3": 0.25, "OrderAmount": 61.34, "AffiliateCommission": 0,
        "TransactionList": [
            {"TransactionIndexID": 555, "OrderID": 47620, "TransactionID": "ch_1",
             "TransactionDateTime": "2013-09-15T20:13:10", "TransactionType": "Sale",
             "TransactionMethod": "Credit Card", "TransactionAmount": 61.34, "TransactionApproval": "OK",
             "TransactionReference": "", "TransactionGatewayID": 1, "TransactionCVV2": "", "TransactionAVS": "",
             "TransactionResponseText": "Approved", "TransactionResponseCode": "1", "TransactionCaptured": 0}],
        "CardType": "", "CardNumber": "", "QuestionList": [], "Referer": "", "IP": "",
        "CustomerComments": "Leave at the door", "InternalComments": "", "ExternalComments": "",
    }
    order.update(over)
    return order


def fresh_state() -> KeyedState:
    return KeyedState(Settings(), "versions", STOREFRONT_RAW, TRANSFORM_VERSIONS_CHANGELOG)


def raw_event(payload: dict | str, entity_type: str = "order", entity_id: str = "47620", offset: int = 0,
              kind: str = "shift4shop", source_version: str = "") -> Event:
    pair_id = "3dcart-sage300" if kind == "shift4shop" else "3dcartsoap-sage300"
    value = {"metadata": meta(pair_id, kind, entity_id), "storefront": kind, "entity_type": entity_type,
             "entity_id": entity_id, "trigger": "poll",
             "payload": payload if isinstance(payload, str) else json.dumps(payload),
             "fetched_at": datetime(2024, 1, 16, 8, 0, tzinfo=timezone.utc), "source_version": source_version}
    return Event(STOREFRONT_RAW, 0, offset, entity_id.encode(), "sagebridge.v2.RawStorefrontEvent", value, [], 0)


def on(topic: str, outputs) -> list:
    return [o for o in outputs if o.topic == topic]


def mapped(order: dict | None = None, **mapping) -> dict:
    outputs = make_handler(pairs(**mapping), fresh_state())(raw_event({"order": order or rest_order()}))
    [out] = on(ORDERS, outputs)
    return out.value


def refused(order: dict, **mapping) -> PermanentError:
    with pytest.raises(PermanentError) as e:
        mapped(order, **mapping)
    return e.value


def test_a_rest_order_maps_field_by_field():
    outputs = make_handler(pairs(), fresh_state())(raw_event({"order": rest_order()}))
    [out] = on(ORDERS, outputs)
    o = out.value
    assert (out.key, out.schema) == ("47620", "sagebridge.v3.Order")
    assert (o["order_id"], o["order_number"]) == ("47620", "AB-1000")       # prefix + invoice number
    assert (o["status"], o["fulfilment_status"], o["ready_for_erp"]) == ("new", "new", True)
    # 20:12:52 in Los Angeles (PDT, UTC-7 in September) is 03:12:52 UTC the next day
    assert o["ordered_at"] == datetime(2013, 9, 16, 3, 12, 52, tzinfo=timezone.utc)
    assert o["updated_at"] == datetime(2013, 9, 16, 15, 0, tzinfo=timezone.utc)
    shirt, mug = o["lines"]
    assert (shirt["line_id"], shirt["sku"], shirt["item_number"]) == ("1", "SHIRT-RED-L", "SHIRT-RED-L")
    assert shirt["unit_price"] == Decimal("22.5") and shirt["quantity"] == 2 and shirt["line_total"] == Decimal("45")
    assert shirt["name"] == "Shirt Color: Red" and shirt["discount"] == 0 and shirt["location_code"] == "1"
    assert mug["unit_price"] == Decimal("9.99") and mug["line_total"] == Decimal("9.99")
    assert (o["subtotal"], o["discount_total"], o["shipping_total"], o["tax_total"], o["total"]) == (
        Decimal("54.99"), Decimal("5"), Decimal("7.5"), Decimal("3.85"), Decimal("61.34"))
    assert all(isinstance(v, Decimal) for v in (o["subtotal"], o["total"], shirt["unit_price"], shirt["quantity"]))
    assert o["charges"] == [
        {"kind": "shipping", "code": "FRT", "placement": "line", "amount": Decimal("7.5"), "description": "UPS Ground"},
        {"kind": "discount", "code": None, "placement": "header", "amount": Decimal("5"), "description": "Discount"}]
    assert o["customer"] == {"storefront_customer_id": "12", "email": "Ann@Example.com", "email_key": "ann@example.com",
                             "first_name": "Ann", "last_name": "Lee", "phone": "555-0100", "is_guest": False,
                             "erp_customer_id": None,
                             "new_customer_number": make_pair().mapping.customer_number("ann@example.com")}
    b, s = o["billing_address"], o["shipping_address"]
    assert (b["name"], b["company"], b["line1"], b["line2"], b["region_code"], b["country"]) == (
        "Ann Lee", "Lee Ltd", "1 Main St", "Suite 4", "CA", "US")
    assert (s["name"], s["city"], s["region"], s["region_code"], s["email"]) == (
        "Bob Lee", "San Diego", "California", "CA", "Ann@Example.com")
    assert (o["shipping_method"], o["ship_via_code"]) == ("UPS Ground", "UPSGRD")
    assert (o["payment_method"], o["payment_method_code"]) == ("Online Credit Card", "CC")
    assert (o["notes"], o["coupon_codes"], o["currency"], o["tax_included"], o["tax_mode"]) == (
        "Leave at the door", ["FIVE"], "USD", False, "store")
    assert len(on(CUSTOMERS, outputs)) == 1 and [p.value["transaction_id"] for p in on(PAYMENTS, outputs)] == ["t555"]


def test_the_order_encodes_with_the_v3_schema():
    from sagebridge_common.avro_serde import SingleObjectSerde
    from sagebridge_common.schemas import SchemaCatalog
    serde = SingleObjectSerde(SchemaCatalog.load())
    name, value = serde.deserialize(serde.serialize("sagebridge.v3.Order", mapped()))
    assert name == "sagebridge.v3.Order" and value["lines"][0]["unit_price"] == Decimal("22.5000")


def test_an_order_at_2330_store_time_in_winter_is_the_next_utc_day_and_keeps_its_store_date():
    from sagebridge_connectors.sage300.documents import local_date
    o = mapped(rest_order(OrderDate="2024-01-15T23:30:00", LastUpdate="2024-01-15T23:31:00"))
    assert o["ordered_at"] == datetime(2024, 1, 16, 7, 30, tzinfo=timezone.utc)     # PST = UTC-8
    assert local_date(make_pair(), o["ordered_at"]) == date(2024, 1, 15)          # the Sage order date


@pytest.mark.parametrize("status_id,status,ready,fulfilment", [
    (1, "new", True, "new"), ("2", "processing", True, "processing"), (4, "shipped", True, "shipped"),
    (5, "cancelled", False, "will_not_deliver"), (6, "on_hold", False, "on_hold"),
    (11, "awaiting_payment", False, "new"), (9, "unknown", False, "unknown")])
def test_status_comes_from_the_status_id_by_the_shipped_table(status_id, status, ready, fulfilment):
    o = mapped(rest_order(OrderStatusID=status_id))
    assert (o["status"], o["ready_for_erp"], o["fulfilment_status"]) == (status, ready, fulfilment)


def test_a_merchants_own_status_table_maps_a_custom_id():
    table = {"8": {"status": "awaiting_stock", "ready_for_erp": True, "fulfilment": "backordered"},
             "default": {"status": "unknown", "ready_for_erp": False, "fulfilment": "unknown"}}
    o = mapped(rest_order(OrderStatusID=8), order_status=table)
    assert (o["status"], o["ready_for_erp"], o["fulfilment_status"]) == ("awaiting_stock", True, "backordered")


def test_a_total_off_by_more_than_the_tolerance_is_a_totals_mismatch_naming_both_sums():
    e = refused(rest_order(OrderAmount=61.36))
    assert e.reason == "totals_mismatch" and "61.36" in str(e) and "61.34" in str(e)
    assert mapped(rest_order(OrderAmount=61.35))["total"] == Decimal("61.35")          # within the 0.01 default
    assert mapped(rest_order(OrderAmount=61.40), order_total_tolerance="0.10")["total"] == Decimal("61.4")


def test_a_guest_order_goes_to_the_default_customer_and_implies_no_customer_event():
    outputs = make_handler(pairs(), fresh_state())(raw_event({"order": rest_order(CustomerID=0)}))
    [order] = on(ORDERS, outputs)
    c = order.value["customer"]
    assert (c["is_guest"], c["storefront_customer_id"], c["erp_customer_id"]) == (True, None, "WEBCUST")
    assert on(CUSTOMERS, outputs) == []


def test_an_invoice_number_0_is_refused_when_the_status_exports_it_and_the_order_id_otherwise():
    assert refused(rest_order(InvoiceNumber=0)).reason == "invalid_order"
    assert mapped(rest_order(InvoiceNumber=0, OrderStatusID=7))["order_number"] == "47620"


def test_a_shipment_with_a_name_but_no_place_is_no_shipping_address():
    empty = {k: "" for k in rest_order()["ShipmentList"][0] if k.startswith("Shipment") and isinstance(
        rest_order()["ShipmentList"][0][k], str)}
    shipment = {**rest_order()["ShipmentList"][0], **empty, "ShipmentFirstName": "Ann", "ShipmentMethodName": ""}
    o = mapped(rest_order(ShipmentList=[shipment]))
    assert o["shipping_address"] is None and o["shipping_method"] is None and o["shipping_total"] == Decimal("7.5")


def _item(**over) -> dict:
    return {**rest_order()["OrderItemList"][1], **over}


@pytest.mark.parametrize("item,words", [(_item(ItemID=" "), "no SKU"), (_item(ItemQuantity=0), "quantity"),
                                        (_item(ItemUnitPrice=-10.0), "negative price"),
                                        (_item(ItemUnitPrice="ten"), "not a number")])
def test_unusable_lines_are_invalid_orders(item, words):
    e = refused(rest_order(OrderItemList=[item], OrderAmount=0))
    assert e.reason == "invalid_order" and words in str(e)


@pytest.mark.parametrize("change", [{"OrderItemList": []}, {"BillingEmail": ""}, {"OrderDate": "yesterday"},
                                    {"OrderStatusID": None}, {"BillingCountry": "USA"}, {"OrderID": None},
                                    {"OrderItemList": [["not", "an", "item"]]},
                                    {"ShipmentList": [{"ShipmentCost": {}}]}])
def test_unusable_orders_are_permanent_errors(change):
    e = refused(rest_order(**change))
    assert e.reason in ("invalid_order", "invalid_address")


@pytest.mark.parametrize("payload", ["{truncated", json.dumps({"order": [rest_order()]}), json.dumps([rest_order()])])
def test_a_malformed_payload_is_a_permanent_malformed_payload(payload):
    with pytest.raises(PermanentError) as e:
        make_handler(pairs(), fresh_state())(raw_event(payload))
    assert e.value.reason == "malformed_payload"


def test_a_product_record_gives_no_output():
    product = {"SKUInfo": {"CatalogID": 101, "SKU": "SHIRT", "Name": "Shirt", "Price": 20, "Stock": 3}}
    assert make_handler(pairs(), fresh_state())(raw_event({"product": product}, "product", "101")) == []


def test_a_payload_of_an_unexpected_shape_is_permanent_not_a_crash():
    from sagebridge_transform.shift4shop.values import malformed_is_permanent

    @malformed_is_permanent("test record", "invalid_order")
    def read(doc):
        return doc["order"]["OrderItemList"][0]["ItemID"]
    for doc in ({}, {"order": None}, {"order": {"OrderItemList": []}}):
        with pytest.raises(PermanentError) as e:
            read(doc)
        assert e.value.reason == "invalid_order" and "test record of an unexpected shape" in str(e.value)
