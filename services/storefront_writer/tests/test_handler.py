"""The handler with a recording sink: one sink call per event, the WriteResult, and source versions
(an event at or below the last written version of its key is skipped)."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from sagebridge_common.contracts import WriteOutcome
from sagebridge_common.errors import PermanentError
from sagebridge_common.events import Event
from sagebridge_common.settings import Settings
from sagebridge_common.topics import (ERP_CUSTOMERS, INVENTORY, ORDER_STATUS, PRODUCTS, STOREFRONT_RESULTS,
                                      STOREFRONT_WRITER_VERSIONS_CHANGELOG, SHIPMENTS)
from sagebridge_connectors.xcart.sink_customers import wanted_address
from sagebridge_storefront_writer.handler import TOPICS, make_handler
from sagebridge_storefront_writer.versions import VersionGate


class RecordingSink:
    kind = "xcart"

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def set_stock(self, sku, quantity, location=None):
        if sku == "NOPE":
            raise PermanentError("no such sku", reason="unknown_sku")
        self.calls.append(("stock", sku, quantity, location))
        return WriteOutcome("updated", "41", f"amount {quantity}")

    def update_product(self, product):
        self.calls.append(("product", product["sku"]))
        return WriteOutcome("already_present", "41")

    def set_order_status(self, order_number, *, shipping_status=None, payment_status=None, order_status=None):
        self.calls.append(("status", order_number, shipping_status, payment_status, order_status))
        return WriteOutcome("updated", "101")

    def add_shipment(self, order_number, carrier, tracking_number):
        self.calls.append(("shipment", order_number, carrier, tracking_number))
        return WriteOutcome("updated", "101")

    def update_customer(self, customer):
        self.calls.append(("customer", customer["email"]))
        return WriteOutcome("updated", "7")


META = {"event_id": "e1", "event_type": "x", "occurred_at": datetime(2026, 1, 1, tzinfo=timezone.utc),
        "recorded_at": datetime(2026, 1, 1, tzinfo=timezone.utc), "source_system": "sage300",
        "source_instance": "SAMINC", "source_entity_id": "k", "pair_id": "p1", "correlation_id": "e1"}


def event(topic: str, key: str, **value) -> Event:
    return Event(topic=topic, partition=0, offset=0, key=key.encode(), schema="x",
                 value={"metadata": META, **value}, headers=[], timestamp_ms=0)


@pytest.fixture
def setup():
    sink = RecordingSink()
    handle, on_failure = make_handler({"p1": sink}, VersionGate(Settings(), TOPICS))
    return sink, handle, on_failure


def test_each_topic_makes_its_one_sink_call_and_a_result(setup):
    sink, handle, _ = setup
    outs = handle(event(INVENTORY, "A1|default", sku="A1", location="default", quantity=Decimal("-3"),
                        source_version="0002"))
    result, version = outs
    assert sink.calls == [("stock", "A1", Decimal("-3"), "default")]
    assert result.topic == STOREFRONT_RESULTS and result.value["entity_type"] == "inventory"
    assert (result.value["outcome"], result.value["reference"], result.value["source_entity_id"]) == (
        "updated", "41", "A1|default")
    assert version.topic == STOREFRONT_WRITER_VERSIONS_CHANGELOG and version.value == b'"0002"'
    handle(event(PRODUCTS, "A1", sku="A1", source_version="1"))
    handle(event(ORDER_STATUS, "00042", order_id="00042", shipping_status="S", payment_status=None,
                 source_version="1"))
    handle(event(SHIPMENTS, "00042", order_id="00042", shipment_id="9", carrier="UPS", tracking_number=" 1Z ",
                 deleted=False, source_version="1"))
    handle(event(ERP_CUSTOMERS, "C1", email="ann@example.com", source_version="1"))
    assert sink.calls[1:] == [("product", "A1"), ("status", "00042", "S", None, None),
                              ("shipment", "00042", "UPS", "1Z"),
                              ("customer", "ann@example.com")]


def test_an_older_or_equal_version_is_skipped_a_newer_one_written(setup):
    sink, handle, _ = setup
    handle(event(INVENTORY, "A1|default", sku="A1", quantity=Decimal("5"), source_version="0005"))
    for old in ("0005", "0004"):
        (result,) = handle(event(INVENTORY, "A1|default", sku="A1", quantity=Decimal("1"), source_version=old))
        assert result.value["outcome"] == "skipped" and "not newer than 0005" in result.value["message"]
    handle(event(INVENTORY, "A1|default", sku="A1", quantity=Decimal("6"), source_version="0006"))
    handle(event(INVENTORY, "A2|default", sku="A2", quantity=Decimal("1"), source_version="0001"))  # own key
    assert [c[2] for c in sink.calls] == [Decimal("5"), Decimal("6"), Decimal("1")]


def test_each_shipment_of_an_order_has_its_own_version_line(setup):
    sink, handle, _ = setup
    handle(event(SHIPMENTS, "00042", order_id="00042", shipment_id="2", tracking_number="T2", source_version="0009"))
    handle(event(SHIPMENTS, "00042", order_id="00042", shipment_id="1", tracking_number="T1", source_version="0008"))
    assert [c[3] for c in sink.calls] == ["T2", "T1"]


def test_a_shipment_without_tracking_is_skipped(setup):
    sink, handle, _ = setup
    (result, _v) = handle(event(SHIPMENTS, "00042", order_id="00042", shipment_id="1", tracking_number=None,
                                source_version="1"))
    assert result.value["outcome"] == "skipped" and sink.calls == []


def test_a_failure_result_names_the_reason(setup):
    _sink, handle, on_failure = setup
    ev = event(INVENTORY, "NOPE|default", sku="NOPE", quantity=Decimal("1"), source_version="1")
    with pytest.raises(PermanentError) as e:
        handle(ev)
    (result,) = on_failure(ev, e.value)
    assert result.value["outcome"] == "failed" and result.value["message"].startswith("unknown_sku:")


def test_an_erp_customer_maps_to_the_stores_address_fields():
    assert wanted_address({"first_name": "Ann", "last_name": "Lee", "phone": "555",
                           "billing_address": {"line1": "1 Main St", "line2": "Suite 2", "city": "Austin",
                                               "postal_code": "78701", "country": "US", "region": "Texas",
                                               "phone": None}}) == {
        "firstname": "Ann", "lastname": "Lee", "street": "1 Main St Suite 2", "city": "Austin",
        "zipcode": "78701", "country_code": "US", "state_name": "Texas", "phone": "555"}


def test_two_pairs_with_the_same_key_keep_their_own_versions():
    """Two stores share the topics; order 00042 of one must not make the other's 00042 look stale."""
    one, other = RecordingSink(), RecordingSink()
    handle, _ = make_handler({"p1": one, "p2": other}, VersionGate(Settings(), TOPICS))
    handle(event(ORDER_STATUS, "00042", order_id="00042", shipping_status="S", source_version="0009"))
    late = event(ORDER_STATUS, "00042", order_id="00042", shipping_status="P", source_version="0001")
    late.value["metadata"] = {**META, "pair_id": "p2"}
    (result, _version) = handle(late)
    assert result.value["outcome"] == "updated" and other.calls == [("status", "00042", "P", None, None)]


def test_a_store_order_status_id_reaches_the_sink(setup):
    """v3 OrderStatus of a Shift4Shop/3dcart pair: only the single status id is set."""
    sink, handle, _ = setup
    result, _version = handle(event(ORDER_STATUS, "AB-1000", order_id="AB-1000", shipping_status=None,
                                    payment_status=None, order_status="4", source_version="1"))
    assert sink.calls == [("status", "AB-1000", None, None, "4")] and result.value["outcome"] == "updated"
