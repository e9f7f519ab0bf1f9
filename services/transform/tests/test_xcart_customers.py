"""Customers: from orders (registered always, guests only with guests: own_customer) and from raw
profile records; keyed by email_key; a repeat order of an unchanged customer emits no customer."""
from __future__ import annotations

import json

import pytest

from sagebridge_common.errors import PermanentError
from sagebridge_common.events import Event
from sagebridge_common.topics import CUSTOMERS, ORDERS
from sagebridge_transform.handler import make_handler

from .test_xcart_order import META, PAIRS, fresh_state, pairs_with, raw_event, xcart_order

NUMBER = PAIRS["xcart-sage300"].mapping.customer_number


def on(topic, outputs) -> list[dict]:
    return [o for o in outputs if o.topic == topic]


def test_a_registered_customers_order_gives_the_order_and_the_customer_keyed_by_email_key():
    outputs = make_handler(PAIRS, fresh_state())(raw_event(xcart_order(email=" Ann@Example.com ")))
    [order], [customer] = on(ORDERS, outputs), on(CUSTOMERS, outputs)
    c = customer.value
    assert customer.key == "ann@example.com" and customer.schema == "sagebridge.v2.Customer"
    assert (c["customer_id"], c["email"], c["email_key"], c["is_guest"]) == ("77", "Ann@Example.com",
                                                                          "ann@example.com", False)
    assert (c["first_name"], c["last_name"], c["phone"]) == ("Ann", "Lee", "555-0100")
    assert c["billing_address"] == order.value["billing_address"] and c["shipping_address"]["name"] == "Bob Lee"
    assert c["new_customer_number"] == NUMBER("ann@example.com") == order.value["customer"]["new_customer_number"]
    assert c["erp_customer_id"] is None and c["metadata"]["event_type"] == "customer.updated"
    assert c["created_at"] == order.value["ordered_at"]


def test_a_guest_goes_to_the_default_customer_and_gives_no_customer_event():
    outputs = make_handler(PAIRS, fresh_state())(raw_event(xcart_order(customer_id=None)))
    [order] = on(ORDERS, outputs)
    assert on(CUSTOMERS, outputs) == []
    c = order.value["customer"]
    assert (c["is_guest"], c["storefront_customer_id"], c["erp_customer_id"], c["new_customer_number"]) == (
        True, None, "WEBCUST", None)


def test_with_own_customer_a_guest_becomes_a_customer_of_its_own():
    outputs = make_handler(pairs_with(customers={"guests": "own_customer"}), fresh_state())(
        raw_event(xcart_order(customer_id=None, email="Guest@Example.com")))
    [order], [customer] = on(ORDERS, outputs), on(CUSTOMERS, outputs)
    assert order.value["customer"]["erp_customer_id"] is None
    assert order.value["customer"]["new_customer_number"] == NUMBER("guest@example.com")
    assert (customer.key, customer.value["customer_id"], customer.value["is_guest"]) == (
        "guest@example.com", "guest:guest@example.com", True)


def test_a_new_order_version_of_an_unchanged_customer_emits_no_customer_and_a_change_does():
    h = make_handler(PAIRS, fresh_state())
    assert len(on(CUSTOMERS, h(raw_event(xcart_order(), offset=1, source_version="20241105154500-aa")))) == 1
    again = raw_event(xcart_order(payment_status={"code": "C"}), offset=2, source_version="20241105154600-bb")
    outputs = h(again)
    assert len(on(ORDERS, outputs)) == 1 and on(CUSTOMERS, outputs) == []
    moved = xcart_order()
    moved["billing_address"] = {**moved["billing_address"], "street": "9 New Rd"}
    [c] = on(CUSTOMERS, h(raw_event(moved, offset=3, source_version="20241105154700-cc")))
    assert c.value["billing_address"]["line1"] == "9 New Rd"


def test_a_redelivered_record_emits_its_customer_again():
    h = make_handler(PAIRS, fresh_state())
    ev = raw_event(xcart_order(), offset=4, source_version="20241105154500-aa")
    assert len(on(CUSTOMERS, h(ev))) == 1
    assert len(on(CUSTOMERS, h(ev))) == 1        # its outputs may not have been acknowledged


# ---------------------------------------------------------------- profiles

PROFILE = {"profile_id": 77, "login": " Ann@Example.com", "added": 1730821330, "status": "E", "access_level": 0}
ADDRESSES = [
    {"id": 5, "is_billing": False, "is_shipping": True, "firstname": "Bob", "lastname": "Lee", "phone": "",
     "street": "2 Side St", "zipcode": "10002", "city": "New York", "country_code": "US", "state": None,
     "state_name": "NY", "custom_fields": []},
    {"id": 4, "is_billing": True, "is_shipping": False, "firstname": "Ann", "lastname": "Lee", "phone": "555-0100",
     "street": "1 Main St", "zipcode": "10001", "city": "New York", "country_code": "US", "state": 12,
     "state_name": "New York", "custom_fields": [{"name": "Company", "value": "Lee & Co"}]}]


def profile_event(profile=None, addresses=None, offset=0, **fields) -> Event:
    payload = json.dumps({"profile": profile or PROFILE, "addresses": ADDRESSES if addresses is None else addresses})
    value = {"metadata": {**META, "event_type": "customer.created", "source_entity_id": "77"}, "storefront": "xcart",
             "entity_type": "profile", "entity_id": "77", "trigger": "poll", "payload": payload,
             "fetched_at": META["recorded_at"], "source_version": ""} | fields
    return Event("storefront.raw.v1", 0, offset, b"77", "sagebridge.v1.RawStorefrontEvent", value, [], 0)


def test_a_profile_becomes_a_customer_with_its_billing_and_shipping_addresses():
    [customer, _gate] = make_handler(PAIRS, fresh_state())(profile_event(source_version="001730821330-ab"))
    c = customer.value
    assert (customer.topic, customer.key) == (CUSTOMERS, "ann@example.com")
    assert (c["customer_id"], c["email"], c["first_name"], c["last_name"], c["company"]) == (
        "77", "Ann@Example.com", "Ann", "Lee", "Lee & Co")
    assert c["billing_address"]["line1"] == "1 Main St" and c["billing_address"]["region_code"] == "NY"
    assert c["shipping_address"]["line1"] == "2 Side St" and c["shipping_address"]["phone"] is None
    assert c["created_at"].timestamp() == 1730821330 and c["source_version"] == "001730821330-ab"
    assert c["new_customer_number"] == NUMBER("ann@example.com") and c["is_guest"] is False


def test_a_profile_without_addresses_is_still_a_customer():
    [customer, _] = make_handler(PAIRS, fresh_state())(profile_event(addresses=[]))
    assert customer.value["billing_address"] is None and customer.value["first_name"] == ""


def test_a_repeated_profile_version_is_dropped_by_the_gate():
    h = make_handler(PAIRS, fresh_state())
    assert len(h(profile_event(offset=1, source_version="001730821330-ab"))) == 2
    assert h(profile_event(offset=2, source_version="001730821330-ab")) == []


def test_an_administrator_profile_is_not_a_customer():
    outputs = make_handler(PAIRS, fresh_state())(profile_event({**PROFILE, "access_level": 100}))
    assert on(CUSTOMERS, outputs) == []


@pytest.mark.parametrize("profile,reason", [({**PROFILE, "login": " "}, "invalid_profile"),
                                            ({"login": "a@b.c"}, "invalid_profile"),
                                            ({**PROFILE, "added": "someday"}, "invalid_profile"),
                                            ({**PROFILE, "access_level": "admin"}, "invalid_profile")])
def test_unusable_profiles_are_permanent(profile, reason):
    with pytest.raises(PermanentError) as e:
        make_handler(PAIRS, fresh_state())(profile_event(profile))
    assert e.value.reason == reason


def test_a_profile_payload_without_a_profile_object_is_malformed():
    ev = profile_event()
    bad = Event(ev.topic, 0, 0, None, ev.schema, {**ev.value, "payload": json.dumps({"addresses": []})}, [], 0)
    with pytest.raises(PermanentError) as e:
        make_handler(PAIRS, fresh_state())(bad)
    assert e.value.reason == "malformed_payload"
