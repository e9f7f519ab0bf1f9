"""An ERP status change reaches the store sink with the store's order status id: Sage OEORDH row ->
transform -> v3 OrderStatus bytes (the real catalogue, as on the topic) -> storefront_writer's
handler -> StorefrontSink.set_order_status(order_status=...). And v2 bytes written before the
upgrade still arrive, with no order status."""
from __future__ import annotations

from sagebridge_common.avro_serde import SingleObjectSerde
from sagebridge_common.contracts import WriteOutcome
from sagebridge_common.events import Event
from sagebridge_common.schemas import SchemaCatalog
from sagebridge_common.settings import Settings
from sagebridge_common.topics import ORDER_STATUS
from sagebridge_storefront_writer.handler import TOPICS, make_handler
from sagebridge_storefront_writer.versions import VersionGate

from .sage300_raw import PAIR_ID, Sage, pairs_with
from .test_sage300_order_status import EXTRA, HEADER

SERDE = SingleObjectSerde(SchemaCatalog.load())
TABLE = {"shipped": {"order_status": "4"}, "complete": {"order_status": "4"},
         "partially_shipped": {"order_status": "3"}, "on_hold": {"order_status": "6"}, "open": {}}


class StatusSink:
    kind = "shift4shop"

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def set_order_status(self, order_number, *, shipping_status=None, payment_status=None, order_status=None):
        self.calls.append((order_number, shipping_status, payment_status, order_status))
        return WriteOutcome("updated", "77")


def _through_the_topic(outputs, offset: int) -> Event:
    [out] = [o for o in outputs if o.topic == ORDER_STATUS]
    name, value = SERDE.deserialize(SERDE.serialize(out.schema, out.value))
    return Event(ORDER_STATUS, 0, offset, out.key.encode(), name, value, [], 0)


def test_the_store_status_id_flows_from_sage_to_the_sink():
    sage, sink = Sage(pairs_with(erp_order_status=TABLE)), StatusSink()
    handle, _ = make_handler({PAIR_ID: sink}, VersionGate(Settings(), TOPICS))
    sage.row("OEORDH", "12", HEADER)                                              # open: nothing to set
    shipped = _through_the_topic(sage.row("OEORDH1", "12", {**EXTRA, "NUMSHPMENT": 1}), 1)
    assert shipped.schema == "sagebridge.v3.OrderStatus"
    result, _version = handle(shipped)
    complete = _through_the_topic(sage.row("OEORDH", "12", {**HEADER, "COMPLETE": 3}), 2)
    handle(complete)
    assert sink.calls == [("1051", None, None, "3"), ("1051", None, None, "4")]
    assert result.value["outcome"] == "updated" and result.value["entity_type"] == "order_status"


def test_v2_statuses_from_before_the_upgrade_arrive_without_one():
    sage, sink = Sage(), StatusSink()
    handle, _ = make_handler({PAIR_ID: sink}, VersionGate(Settings(), TOPICS))
    [out] = [o for o in sage.row("OEORDH", "12", {**HEADER, "COMPLETE": 3}) if o.topic == ORDER_STATUS]
    v2 = {k: v for k, v in out.value.items() if k != "order_status"}
    name, value = SERDE.deserialize(SERDE.serialize("sagebridge.v2.OrderStatus", v2))
    assert name == "sagebridge.v2.OrderStatus" and value["order_status"] is None      # read with the v3 reader
    handle(Event(ORDER_STATUS, 0, 1, out.key.encode(), name, value, [], 0))
    assert sink.calls == [("1051", "S", None, None)]
