"""X-Cart 5.5 order JSON (shape from X-Cart's 5.5.1 admin API docs) → canonical v3 order, field by field:
customer, addresses, lines and item numbers, charges by placement, tax modes, coupons."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from sagebridge_common.errors import PermanentError
from sagebridge_common.events import Event
from sagebridge_common.keyed_state import KeyedState
from sagebridge_common.pair_mapping import MappingTables
from sagebridge_common.pairs import PairConfig
from sagebridge_common.settings import Settings
from sagebridge_common.topics import STOREFRONT_RAW, TRANSFORM_VERSIONS_CHANGELOG
from sagebridge_transform.config import TransformSettings
from sagebridge_transform.handler import make_handler
from sagebridge_transform.main import load_served_pairs

PAIRS = load_served_pairs(TransformSettings(pairs_path=str(Path(__file__).resolve().parents[3] / "pairs")))
META = {"event_id": "e1", "event_type": "order.created", "occurred_at": datetime(2024, 11, 5, tzinfo=timezone.utc),
        "recorded_at": datetime(2024, 11, 5, tzinfo=timezone.utc), "source_system": "xcart",
        "source_instance": "shop", "source_entity_id": "1051", "pair_id": "xcart-sage300", "correlation_id": "e1"}


def xcart_order(**over) -> dict:
    order = {
        "id": 1051, "order_number": "00042", "create_date": "2024-11-05T15:42:10+0000",
        "update_date": "2024-11-05T15:45:00+0000", "total": 38.3, "sub_total": 35.0, "currency": "USD",
        "payment_status": {"id": 4, "code": "P", "name": "Paid", "customer_name": "Paid"},
        "shipping_status": {"id": 1, "code": "N", "name": "New", "customer_name": "New"},
        "email": "ann@example.com", "customer_id": 77, "order_profile_id": 901,
        "billing_address": {"id": 1, "is_billing": True, "is_shipping": False, "is_work": False, "type": "R",
                            "title": "", "firstname": "Ann", "lastname": "Lee", "phone": "555-0100",
                            "street": "1 Main St", "zipcode": "10001", "city": "New York", "country_code": "US",
                            "state": 12, "state_name": "New York", "custom_fields": []},
        "shipping_address": {"id": 2, "is_billing": False, "is_shipping": True, "is_work": False, "type": "R",
                             "title": "", "firstname": "Bob", "lastname": "Lee", "phone": None,
                             "street": "2 Side St", "zipcode": "10002", "city": "New York", "country_code": "us",
                             "state": None, "state_name": "NY", "custom_fields": []},
        "shipping_id": 3, "shipping_method_name": "UPS Ground", "notes": "leave at door", "admin_notes": "",
        "stock_status": "reduced",
        "items": [
            {"id": 1, "product_id": 5, "sku": "WIDGET-1", "update_date": "2024-11-05T15:42:10+0000", "name": "Widget",
             "price": 12.5, "item_net_price": 12.5, "discounted_subtotal": 25.0, "amount": 2, "backordered_amount": 0,
             "surcharges": []},
            {"id": 2, "product_id": 6, "sku": "A1-105/0", "update_date": "2024-11-05T15:42:10+0000", "name": "Gadget",
             "price": 10.0, "item_net_price": 10.0, "discounted_subtotal": 10.0, "amount": 1, "backordered_amount": 0,
             "surcharges": []}],
        "surcharges": [
            {"id": 1, "type": "shipping", "code": "SHIPPING", "class": "", "include": False, "available": True,
             "value": 5.0, "name": "Shipping cost", "weight": 0},
            {"id": 2, "type": "discount", "code": "DCOUPON", "class": "", "include": False, "available": True,
             "value": -1.8, "name": "Coupon discount", "weight": 0},
            {"id": 3, "type": "tax", "code": "CDEV.STAX.1", "class": "", "include": False, "available": True,
             "value": 0.1, "name": "Sales tax", "weight": 0},
            {"id": 4, "type": "tax", "code": "CDEV.STAX.2", "class": "", "include": True, "available": True,
             "value": 9.99, "name": "VAT (included)", "weight": 0}],
        "tracking_numbers": [], "used_coupons": [{"id": 1, "code": "SAVE", "value": 1.8, "type": "$", "coupon_id": 3}],
    }
    order.update(over)
    return order


def fresh_state() -> KeyedState:
    """Keyed state used without a processor: starts empty, as a fresh store would."""
    return KeyedState(Settings(), "versions", STOREFRONT_RAW, TRANSFORM_VERSIONS_CHANGELOG)


def raw_event(order: dict, txns=None, offset: int = 0, **fields) -> Event:
    payload = json.dumps({"order": order, "payment_transactions": txns if txns is not None else [
        {"id": 9, "public_id": "X1", "public_txn_id": "", "method_id": 2, "type": "sale",
         "date": "2024-11-05T15:42:10+0000", "status": "S", "name": "Credit Card", "local_name": "Credit Card",
         "currency": "USD", "value": 38.3, "note": "", "data": [], "backend_transactions": []}]})
    value = {"metadata": META, "storefront": "xcart", "entity_type": "order", "entity_id": str(order["id"]),
             "trigger": "poll", "payload": payload, "fetched_at": META["recorded_at"], "source_version": ""} | fields
    return Event("storefront.raw.v1", 0, offset, b"1051", "sagebridge.v1.RawStorefrontEvent", value, [], 0)


def handle(event, pairs=None):
    """A fresh handler per call: these tests are about mapping, not about repeated deliveries."""
    return make_handler(pairs or PAIRS, fresh_state())(event)[:1]


def pairs_with(**mapping) -> dict[str, PairConfig]:
    """The shipped pair with some `mapping:` keys replaced (validated as the pair file would be)."""
    pair = PAIRS["xcart-sage300"]
    tables = MappingTables.model_validate({**pair.mapping.model_dump(), **mapping})
    return {pair.pair: pair.model_copy(update={"mapping": tables})}


def mapped(order: dict | None = None, **mapping) -> dict:
    """The canonical order of `order` (default: the sample) under the shipped mapping with overrides."""
    return handle(raw_event(order or xcart_order()), pairs_with(**mapping) if mapping else None)[0].value


def test_order_maps_field_by_field():
    [out] = handle(raw_event(xcart_order()))
    o = out.value
    assert out.topic == "commerce.orders.v1" and out.key == "1051" and out.schema == "sagebridge.v3.Order"
    assert o["order_id"] == "1051" and o["order_number"] == "00042"          # number distinct from id
    assert o["status"] == "paid" and o["fulfilment_status"] == "new" and o["ready_for_erp"] is True
    assert o["ordered_at"] == datetime(2024, 11, 5, 15, 42, 10, tzinfo=timezone.utc)   # +0000 offset parsed
    assert o["updated_at"] == datetime(2024, 11, 5, 15, 45, tzinfo=timezone.utc)
    assert o["customer"] == {"storefront_customer_id": "77", "email": "ann@example.com", "email_key": "ann@example.com",
                             "first_name": "Ann", "last_name": "Lee", "phone": "555-0100", "is_guest": False,
                             "erp_customer_id": None,        # a registered customer: the writer resolves it
                             "new_customer_number": PAIRS["xcart-sage300"].mapping.customer_number("ann@example.com")}
    assert o["shipping_address"]["name"] == "Bob Lee" and o["shipping_address"]["country"] == "US"
    assert o["billing_address"]["region"] == "New York" and o["billing_address"]["region_code"] == "NY"
    l1, l2 = o["lines"]
    assert (l1["sku"], l1["quantity"], l1["unit_price"], l1["line_total"]) == ("WIDGET-1", 2, Decimal("12.5"), 25)
    assert l2["sku"] == "A1-105/0" and l2["location_code"] == "1"
    assert (l1["item_number"], l2["item_number"]) == ("WIDGET-1", "A1-105/0")        # rule as_is
    assert all(isinstance(v, Decimal) for v in (l1["quantity"], l1["unit_price"], o["total"], o["tax_total"]))
    assert o["subtotal"] == Decimal("35") and o["total"] == Decimal("38.3")
    assert o["shipping_total"] == Decimal("5") and o["discount_total"] == Decimal("1.8")
    assert o["tax_total"] == Decimal("0.1")          # the included VAT is not added again
    assert o["tax_included"] is True
    assert o["ship_via_code"] == "UPSGRD" and o["shipping_method"] == "UPS Ground"
    assert o["payment_method"] == "Credit Card" and o["payment_method_code"] == "CC"
    assert o["subtotal"] - o["discount_total"] + o["shipping_total"] + o["tax_total"] == o["total"]
    assert o["charges"] == [
        {"kind": "shipping", "code": "FRT", "placement": "line", "amount": Decimal("5"), "description": "Shipping cost"},
        {"kind": "discount", "code": None, "placement": "header", "amount": Decimal("1.8"),
         "description": "Coupon discount"}]
    assert (o["tax_mode"], o["rate_type"], o["coupon_codes"]) == ("store", None, ["SAVE"])


def test_the_v3_order_encodes_with_its_schema():
    from sagebridge_common.avro_serde import SingleObjectSerde
    from sagebridge_common.schemas import SchemaCatalog
    [out] = handle(raw_event(xcart_order()))
    serde = SingleObjectSerde(SchemaCatalog.load())
    name, value = serde.deserialize(serde.serialize(out.schema, out.value))
    assert name == "sagebridge.v3.Order" and value["charges"][1]["amount"] == Decimal("1.8000")


def _surcharge(type_: str, value, code: str = "X", name: str | None = None, include: bool = False) -> dict:
    return {"id": 9, "type": type_, "code": code, "class": "", "include": include, "available": True,
            "value": value, "name": name or code, "weight": 0}


def test_each_surcharge_kind_goes_where_the_template_places_it():
    surcharges = [_surcharge("shipping", 5.0, "SHIPPING"), _surcharge("handling", 2.5, "HANDLING"),
                  _surcharge("discount", -3.0, "DCOUPON"), _surcharge("giftwrap", 1.25, "WRAP", "Gift wrap"),
                  _surcharge("tax", 0.7, "CDEV.STAX.1"), _surcharge("shipping", 0, "FREE")]
    o = mapped(xcart_order(surcharges=surcharges), order_charges={
        "shipping": {"placement": "line", "code": "FRT"}, "handling": {"placement": "line", "code": "HAND"},
        "discount": {"placement": "line", "code": "DISC"}, "surcharge": {"placement": "line", "code": "MISC"}})
    assert [(c["kind"], c["code"], c["placement"], c["amount"]) for c in o["charges"]] == [
        ("shipping", "FRT", "line", Decimal("5")), ("handling", "HAND", "line", Decimal("2.5")),
        ("discount", "DISC", "line", Decimal("3")), ("surcharge", "MISC", "line", Decimal("1.25"))]
    assert o["charges"][3]["description"] == "Gift wrap"
    assert o["tax_total"] == Decimal("0.7")            # tax is never a charge, and a zero surcharge is no line


def test_handling_and_other_surcharges_default_to_the_shipping_rule_and_discounts_to_the_header():
    surcharges = [_surcharge("handling", 2.5), _surcharge("giftwrap", 1), _surcharge("discount", -4)]
    o = mapped(xcart_order(surcharges=surcharges), order_charges={"shipping": {"placement": "line", "code": "SHP"}})
    assert [(c["kind"], c["code"], c["placement"]) for c in o["charges"]] == [
        ("handling", "SHP", "line"), ("surcharge", "SHP", "line"), ("discount", None, "header")]


@pytest.mark.parametrize("mode", ["store", "erp"])
def test_tax_mode_is_the_templates_and_the_store_tax_is_kept_either_way(mode):
    o = mapped(tax=mode)
    assert o["tax_mode"] == mode and o["tax_total"] == Decimal("0.1")   # the writer sends or omits it


def test_included_tax_is_not_added_and_marks_the_order():
    o = mapped(xcart_order(surcharges=[_surcharge("tax", 9.99, include=True)]))
    assert (o["tax_total"], o["tax_included"], o["charges"]) == (0, True, [])


def test_rate_type_comes_from_the_template():
    assert mapped(currency_rate_type="SP")["rate_type"] == "SP"


def test_coupons_are_the_used_coupon_codes_trimmed():
    coupons = [{"id": 1, "code": " SAVE10 ", "value": 1, "type": "$"}, {"id": 2, "code": "", "value": 1}]
    assert mapped(xcart_order(used_coupons=coupons))["coupon_codes"] == ["SAVE10"]
    assert mapped(xcart_order(used_coupons=None))["coupon_codes"] == []


def test_item_numbers_by_the_formatted_rule():
    order = xcart_order()
    order["items"][0]["sku"], order["items"][1]["sku"] = "WID001", "A14000"
    o = mapped(order, items={"rule": "formatted", "structure": "XX-XXX/X"})
    assert [(line["sku"], line["item_number"]) for line in o["lines"]] == [("WID001", "WI-D00/1"),
                                                                           ("A14000", "A1-400/0")]


def test_item_numbers_by_table_and_an_unmapped_sku_is_permanent():
    table = {"WIDGET-1": "WID-0001", "A1-105/0": "GAD-0002"}
    assert [line["item_number"] for line in mapped(items={"rule": "table", "table": table})["lines"]] == [
        "WID-0001", "GAD-0002"]
    with pytest.raises(PermanentError) as e:
        mapped(items={"rule": "table", "table": {"WIDGET-1": "WID-0001"}})
    assert e.value.reason == "sku_not_mapped" and "A1-105/0" in str(e.value)


def test_a_sku_that_does_not_fit_the_item_structure_is_permanent():
    with pytest.raises(PermanentError) as e:
        mapped(items={"rule": "formatted", "structure": "XX-XXX/X"})
    assert e.value.reason == "sku_not_in_item_structure"


def test_float_money_is_exact_decimal():
    order = xcart_order(total=0.3, sub_total=0.1)
    order["items"][0]["price"] = 0.1
    [out] = handle(raw_event(order))
    assert out.value["lines"][0]["unit_price"] == Decimal("0.1")
    assert out.value["total"] == Decimal("0.3")


@pytest.mark.parametrize("code,status,ready", [("Q", "awaiting_payment", True), ("C", "cancelled", False),
                                                ("D", "declined", False), ("ZZ", "unknown", False)])
def test_payment_status_table_and_unknown_codes(code, status, ready):
    order = xcart_order(payment_status={"id": 1, "code": code, "name": code, "customer_name": code})
    [out] = handle(raw_event(order))
    assert (out.value["status"], out.value["ready_for_erp"]) == (status, ready)


def test_shipping_codes_are_keyed_by_kind():
    # `P` is Paid as a payment status but Processing as a shipping status
    order = xcart_order(shipping_status={"id": 2, "code": "P", "name": "Processing", "customer_name": "x"})
    [out] = handle(raw_event(order))
    assert out.value["status"] == "paid" and out.value["fulfilment_status"] == "processing"
    blocked = xcart_order(shipping_status={"id": 5, "code": "WND", "name": "Will not deliver", "customer_name": "x"})
    assert handle(raw_event(blocked))[0].value["ready_for_erp"] is False


def test_unmapped_values_fall_back_to_template_defaults():
    [out] = handle(raw_event(xcart_order(shipping_method_name="Carrier pigeon"), txns=[]))
    assert out.value["ship_via_code"] is None
    assert out.value["payment_method"] is None and out.value["payment_method_code"] == "WEB"


@pytest.mark.parametrize("change", [{"items": []}, {"email": ""}, {"create_date": "yesterday"}])
def test_unusable_orders_are_permanent_errors(change):
    with pytest.raises(PermanentError):
        handle(raw_event(xcart_order(**change)))


def test_malformed_payload_is_permanent():
    ev = raw_event(xcart_order())
    bad = Event(ev.topic, 0, 0, None, ev.schema, {**ev.value, "payload": "{truncated"}, [], 0)
    with pytest.raises(PermanentError) as e:
        handle(bad)
    assert e.value.reason == "malformed_payload"


