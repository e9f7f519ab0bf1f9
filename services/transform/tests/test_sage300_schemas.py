"""Every canonical event the Sage 300 mapping emits encodes with its registered Avro schema and
reads back field for field (Decimals at scale 4, times in UTC)."""
from __future__ import annotations

from decimal import Decimal

from sagebridge_common.avro_serde import SingleObjectSerde
from sagebridge_common.schemas import SchemaCatalog
from sagebridge_common.topics import ERP_CUSTOMERS, INVENTORY, ORDER_STATUS, PRODUCTS, SHIPMENTS

from .sage300_raw import Sage, icitem, iciloc, icpricp, price_key
from .test_sage300_customers import ARCUS
from .test_sage300_order_status import HEADER as ORDER
from .test_sage300_shipments import HEADER as SHIPMENT, line

SERDE = SingleObjectSerde(SchemaCatalog.load())


def test_every_output_round_trips_through_its_schema():
    sage = Sage()
    outputs = (sage.row("ICITEM", "WIDGET1", icitem()) + sage.row("ICILOC", "WIDGET1|1", iciloc())
               + sage.row("ICPRICP", price_key(), icpricp()) + sage.row("ARCUS", "1200", ARCUS)
               + sage.row("OESHIH", "7", {**SHIPMENT, "SHIPTRACK": "1Z"}) + sage.row("OESHID", "7|32", line(32, "WIDGET-1", "1"))
               + sage.row("OEORDH", "12", ORDER) + sage.row("ICITEM", "WIDGET1", None))
    topics = set()
    for out in outputs:
        name, back = SERDE.deserialize(SERDE.serialize(out.schema, out.value))
        assert name == out.schema
        assert {k: v for k, v in back.items() if k != "metadata"} == {
            k: v for k, v in out.value.items() if k != "metadata"}
        assert back["metadata"]["source_system"] == "sage300" and back["source_version"]
        topics.add(out.topic)
    assert topics == {INVENTORY, PRODUCTS, ERP_CUSTOMERS, SHIPMENTS, ORDER_STATUS}
    assert any(o.value.get("price") == Decimal("12.5000") for o in outputs)
