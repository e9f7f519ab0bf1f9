"""SODOCUMENT -> erp.order_status.v1 and SHIPPER -> erp.shipments.v1, field by field: the STATE
table, emitted only when the status changes (a repeated STATE is not re-emitted, a redelivery is),
orders of another prefix dropped, a shipper without tracking says nothing, and every output
round-trips through its Avro schema."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from sagebridge_common.avro_serde import SingleObjectSerde
from sagebridge_common.errors import PermanentError
from sagebridge_common.schemas import SchemaCatalog
from sagebridge_common.topics import INVENTORY, ORDER_STATUS, PRODUCTS, SHIPMENTS, TRANSFORM_ERP_CHANGELOG

from .test_intacct_raw import T0, Intacct, item, order, pairs_with, shipper, stock, values

SERDE = SingleObjectSerde(SchemaCatalog.load())


def statuses(out):
    return [(s["status"], s["shipping_status"], s["payment_status"]) for s in values(out, ORDER_STATUS)]


@pytest.mark.parametrize("state, status, fulfilment, shipping", [
    ("Draft", "open", "unfulfilled", None),
    ("Pending", "open", "unfulfilled", None),
    ("Partially Converted", "partially_shipped", "partially_fulfilled", "P"),
    ("Converted", "shipped", "fulfilled", "S"),
    ("Closed", "complete", "fulfilled", "S"),
])
def test_state_maps_through_the_configured_table(state, status, fulfilment, shipping):
    out = Intacct().row("SODOCUMENT", order(state=state), recordno=3)
    [s] = values(out, ORDER_STATUS)
    assert [o.key for o in out] == ["1001"] and out[0].schema == "sagebridge.v3.OrderStatus"
    assert (s["order_id"], s["order_number"], s["reference"]) == ("1001", "Sales Order-SO-00001", "XI1-1001")
    assert (s["status"], s["fulfilment_status"], s["shipping_status"]) == (status, fulfilment, shipping)
    assert s["payment_status"] is None and s["order_status"] is None and s["hold_reason"] is None
    assert s["changed_at"] == T0.replace(second=1) and s["source_version"].partition("#")[0].endswith("|000000000003")
    assert s["metadata"]["event_type"] == "order_status.changed" and s["metadata"]["source_system"] == "intacct"


def test_a_state_not_in_the_table_is_ignored():
    intacct = Intacct(pairs_with(erp={"order_states": {"Converted": "shipped"}}))
    assert intacct.row("SODOCUMENT", order(state="Pending")) == []
    assert statuses(intacct.row("SODOCUMENT", order(state="Converted"))) == [("shipped", "S", None)]


def test_a_repeated_state_is_not_emitted_again_a_new_one_is():
    intacct = Intacct()
    assert statuses(intacct.row("SODOCUMENT", order(state="Pending"))) == [("open", None, None)]
    assert intacct.row("SODOCUMENT", order(state="Pending", TOTAL="26.00")) == []     # re-saved, same state
    assert intacct.row("SODOCUMENT", order(state="Draft")) == []                       # another state, same status
    assert statuses(intacct.row("SODOCUMENT", order(state="Partially Converted"))) == [("partially_shipped", "P", None)]
    assert statuses(intacct.row("SODOCUMENT", order(state="Converted"))) == [("shipped", "S", None)]
    assert intacct.row("SODOCUMENT", order(state="Converted")) == []


def test_a_redelivered_record_emits_its_status_again():
    intacct = Intacct()
    event = intacct.event("SODOCUMENT", order(state="Converted"))
    assert statuses(intacct.send(event)) == [("shipped", "S", None)]
    assert statuses(intacct.send(event)) == [("shipped", "S", None)]


def test_an_older_state_arriving_late_is_dropped():
    intacct = Intacct()
    intacct.row("SODOCUMENT", order(state="Converted"), second=20)
    assert intacct.row("SODOCUMENT", order(state="Pending"), second=19) == []


@pytest.mark.parametrize("reference", ["XC1-1001", "1001", "XI1-", ""])
def test_orders_of_another_prefix_or_none_are_dropped(reference):
    assert Intacct().row("SODOCUMENT", order(REFERENCENO=reference, state="Converted")) == []


def test_a_store_order_status_id_comes_from_the_pairs_table():
    intacct = Intacct(pairs_with(erp_order_status={"shipped": {"order_status": "4"}, "open": {}}))
    [s] = values(intacct.row("SODOCUMENT", order(state="Converted")), ORDER_STATUS)
    assert s["order_status"] == "4" and s["shipping_status"] is None


def test_a_shipper_with_tracking_is_a_shipment_of_the_store_order():
    out = Intacct().row("SHIPPER", shipper(), recordno=9)
    [s] = values(out, SHIPMENTS)
    assert [o.key for o in out] == ["1001"] and out[0].schema == "sagebridge.v2.Shipment"
    assert (s["order_id"], s["order_number"], s["shipment_id"]) == ("1001", "Sales Order-SO-00001", "Shipper-SH-00001")
    assert (s["carrier"], s["service"], s["tracking_number"]) == ("UPS Ground", "UPS Ground", "1Z999")
    assert s["shipped_at"] == datetime(2026, 12, 2, tzinfo=timezone.utc) and s["lines"] == []
    assert s["reference"] == "XI1-1001" and s["deleted"] is False and s["source_version"].partition("#")[0].endswith("|000000000009")
    assert s["metadata"]["event_type"] == "shipment.changed"


def test_a_shipper_without_tracking_says_nothing_until_it_has_one():
    intacct = Intacct()
    assert intacct.row("SHIPPER", shipper(tracking="")) == []
    assert intacct.row("SHIPPER", shipper(tracking="  ")) == []
    [s] = values(intacct.row("SHIPPER", shipper(tracking="1Z1", SHIPVIAKEY="", WHENCREATED="")), SHIPMENTS)
    assert s["tracking_number"] == "1Z1" and s["carrier"] is None and s["shipped_at"] == T0.replace(second=3)


def test_the_configured_tracking_and_carrier_fields_are_read():
    intacct = Intacct(pairs_with(erp={"tracking_field": "MESSAGE", "carrier_field": "CUSTVENDID"}))
    [s] = values(intacct.row("SHIPPER", shipper(tracking="", MESSAGE="TRK-7")), SHIPMENTS)
    assert s["tracking_number"] == "TRK-7" and s["carrier"] == "W1"


def test_a_shipper_of_another_prefix_is_dropped():
    assert Intacct().row("SHIPPER", shipper(prefix="XC1-")) == []


def test_records_of_an_unknown_table_are_skipped_and_the_erp_routes():
    intacct = Intacct()
    event = intacct.event("ITEM", item())
    event.value["table"] = "CUSTOMER"
    assert intacct.send(event) == []
    event.value["erp"] = "acumatica"
    with pytest.raises(PermanentError) as e:
        intacct.send(event)
    assert e.value.reason == "unsupported_erp" and "intacct, sage300, sagepro" in str(e.value)


def test_a_sage_300_pair_refuses_intacct_records():
    from .sage300_raw import PAIRS as SAGE_PAIRS
    intacct = Intacct({**SAGE_PAIRS})
    event = intacct.event("ITEM", item())
    event.value["metadata"]["pair_id"] = "xcart-sage300"
    with pytest.raises(PermanentError) as e:
        intacct.send(event)
    assert e.value.reason == "erp_mismatch"


def test_the_state_write_is_the_last_output():
    out = Intacct().handler(Intacct().event("SODOCUMENT", order()))
    assert out[-1].topic == TRANSFORM_ERP_CHANGELOG and out[0].topic == ORDER_STATUS


def test_every_output_round_trips_through_its_schema():
    intacct = Intacct(pairs_with(catalogue={"categories": {"PL": "Tools"}}))
    outputs = (intacct.row("ITEM", item(PRODUCTLINEID="PL")) + intacct.row("ITEMWAREHOUSEINFO", stock(on_hold="2"))
               + intacct.row("SODOCUMENT", order(state="Converted")) + intacct.row("SHIPPER", shipper()))
    assert {o.topic for o in outputs} == {PRODUCTS, INVENTORY, ORDER_STATUS, SHIPMENTS}
    for out in outputs:
        name, back = SERDE.deserialize(SERDE.serialize(out.schema, out.value))
        assert name == out.schema
        assert {k: v for k, v in back.items() if k != "metadata"} == {
            k: v for k, v in out.value.items() if k != "metadata"}
        assert back["metadata"]["source_system"] == "intacct" and back["source_version"]
