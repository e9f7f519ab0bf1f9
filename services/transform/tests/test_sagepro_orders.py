"""SOMAST -> erp.order_status.v1 and erp.shipments.v1: only this pair's orders (ponum prefix), sostat
through the pair's codes, emitted when the status or the shipment changes, deletes ignored."""
from __future__ import annotations

from datetime import datetime, timezone

from sagebridge_common.topics import ORDER_STATUS, SHIPMENTS

from .test_sagepro_raw import SagePro, at, pairs_with, position, somast, values


def test_somast_row_becomes_the_order_status_field_by_field():
    out = SagePro().row("SOMAST", somast(sostat="S"), second=4)
    [s] = values(out, ORDER_STATUS)
    assert [(o.key, o.schema) for o in out] == [("1051", "sagebridge.v3.OrderStatus")]
    assert (s["order_id"], s["order_number"], s["status"], s["fulfilment_status"], s["reference"]) == (
        "1051", "1001", "shipped", "fulfilled", "XP1-1051")
    assert (s["shipping_status"], s["payment_status"], s["order_status"], s["hold_reason"]) == ("S", None, None, None)
    assert s["changed_at"] == at(4) and s["source_version"].partition("#")[0] == position(4, "1001")
    assert (s["metadata"]["source_system"], s["metadata"]["event_type"]) == ("sagepro", "order_status.changed")


def test_each_sostat_code_maps_through_the_pairs_table():
    sage = SagePro()
    got = [values(sage.row("SOMAST", somast(sostat=code)), ORDER_STATUS)[0]["status"]
           for code in ("", "H", "P", "S", "C", "X")]
    assert got == ["open", "on_hold", "partially_shipped", "shipped", "complete", "cancelled"]


def test_an_unchanged_status_is_not_sent_again_and_unlisted_codes_are_ignored():
    sage = SagePro()
    assert values(sage.row("SOMAST", somast(sostat="P")), ORDER_STATUS)[0]["status"] == "partially_shipped"
    assert sage.row("SOMAST", somast(sostat="P", freight="7.00")) == []
    assert sage.row("SOMAST", somast(sostat="Z")) == []
    [s] = values(sage.row("SOMAST", somast(sostat="S")), ORDER_STATUS)
    assert (s["status"], s["shipping_status"]) == ("shipped", "S")


def test_the_pairs_own_codes_table_is_read():
    sage = SagePro(pairs_with(erp={"order_status_codes": {"": "open", "V": "shipped"}}))
    assert sage.row("SOMAST", somast(sostat="S")) == []
    assert values(sage.row("SOMAST", somast(sostat="V")), ORDER_STATUS)[0]["status"] == "shipped"


def test_orders_of_another_pair_or_keyed_in_sage_pro_are_not_this_pairs():
    sage = SagePro()
    assert sage.row("SOMAST", somast(prefix="XC1-", sostat="S", tracking="1Z999")) == []
    assert sage.row("SOMAST", somast(sono="1002", ponum="", sostat="S", tracking="1Z999")) == []
    assert sage.row("SOMAST", somast(sono="1003", ponum="XP1-", sostat="S")) == []


def test_a_tracking_number_becomes_one_shipment_field_by_field():
    sage = SagePro()
    out = sage.row("SOMAST", somast(sostat="S", tracking="1Z999AA10123456784", shipdate="2026-12-01"), second=6)
    [sh] = values(out, SHIPMENTS)
    assert [(o.topic, o.key) for o in out] == [(ORDER_STATUS, "1051"), (SHIPMENTS, "1051")]
    assert out[1].schema == "sagebridge.v2.Shipment"
    assert (sh["order_id"], sh["order_number"], sh["shipment_id"], sh["tracking_number"]) == (
        "1051", "1001", "1001/1Z999AA10123456784", "1Z999AA10123456784")
    assert (sh["carrier"], sh["service"], sh["lines"], sh["reference"], sh["deleted"]) == (
        "UPS-GROUND", "UPS-GROUND", [], "XP1-1051", False)
    assert sh["shipped_at"] == datetime(2026, 12, 1, tzinfo=timezone.utc)
    assert sh["source_version"].partition("#")[0] == position(6, "1001")
    assert (sh["metadata"]["source_system"], sh["metadata"]["event_type"]) == ("sagepro", "shipment.changed")


def test_no_tracking_no_shipment_and_a_blank_ship_date_is_the_read_time():
    sage = SagePro()
    assert values(sage.row("SOMAST", somast(sostat="P")), SHIPMENTS) == []
    [sh] = values(sage.row("SOMAST", somast(sostat="P", tracking="1Z1"), second=9), SHIPMENTS)
    assert sh["shipped_at"] == at(9) and sh["shipped_at"].tzinfo is not None


def test_a_resaved_header_is_the_same_shipment_and_a_new_tracking_number_a_new_one():
    sage = SagePro()
    [first] = values(sage.row("SOMAST", somast(sostat="P", tracking="1Z1")), SHIPMENTS)
    out = sage.row("SOMAST", somast(sostat="S", tracking="1Z1"))
    assert values(out, SHIPMENTS) == [] and values(out, ORDER_STATUS)[0]["status"] == "shipped"
    [second] = values(sage.row("SOMAST", somast(sostat="S", tracking="1Z2")), SHIPMENTS)
    assert (first["shipment_id"], second["shipment_id"]) == ("1001/1Z1", "1001/1Z2")


def test_a_redelivered_record_produces_its_events_again():
    sage = SagePro()
    event = sage.event("SOMAST", somast(sostat="S", tracking="1Z1"))
    first = sage.send(event)
    again = sage.send(event)                         # crash before the offset commit: same offset again
    assert [(o.topic, o.value["status"] if o.topic == ORDER_STATUS else o.value["shipment_id"]) for o in again] == [
        (o.topic, o.value["status"] if o.topic == ORDER_STATUS else o.value["shipment_id"]) for o in first]
    assert len(again) == 2


def test_a_deleted_order_header_is_ignored_and_stays_deleted():
    sage = SagePro()
    sage.row("SOMAST", somast(sostat="P"), second=1)
    assert sage.row("SOMAST", somast(), delete=True, second=2) == []
    assert sage.row("SOMAST", somast(sostat="S", tracking="1Z1"), second=1) == []   # older than the delete
