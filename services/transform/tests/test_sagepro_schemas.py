"""A Sage Pro company's life through the whole transform handler (make_handler, as the service
builds it): every canonical event encodes with its registered Avro schema and reads back field for
field (Decimals at scale 4, times in UTC), one topic per table."""
from __future__ import annotations

from decimal import Decimal

from sagebridge_common.avro_serde import SingleObjectSerde
from sagebridge_common.schemas import SchemaCatalog
from sagebridge_common.topics import ERP_CUSTOMERS, INVENTORY, ORDER_STATUS, PRODUCTS, SHIPMENTS

from .test_sagepro_raw import SagePro, arcust, iciloc, icitem, icpric, pairs_with, somast

SERDE = SingleObjectSerde(SchemaCatalog.load())


def test_every_output_round_trips_through_its_schema():
    sage = SagePro(pairs_with(erp_customers={"update_store": True}))
    outputs = (sage.row("ICILOC", iciloc()) + sage.row("ICITEM", icitem()) + sage.row("ICPRIC", icpric())
               + sage.row("ARCUST", arcust())
               + sage.row("SOMAST", somast(sostat="S", tracking="1Z999AA10123456784", shipdate="2026-12-01"))
               + sage.row("ICILOC", iciloc(), delete=True) + sage.row("ICITEM", {"item": "A100"}, delete=True))
    topics = []
    for out in outputs:
        name, back = SERDE.deserialize(SERDE.serialize(out.schema, out.value))
        assert name == out.schema
        assert {k: v for k, v in back.items() if k != "metadata"} == {
            k: v for k, v in out.value.items() if k != "metadata"}
        assert back["metadata"]["source_system"] == "sagepro" and back["source_version"]
        topics.append(out.topic)
    assert topics == [INVENTORY, PRODUCTS, PRODUCTS, ERP_CUSTOMERS, ORDER_STATUS, SHIPMENTS, INVENTORY, PRODUCTS]
    assert [o.value["price"] for o in outputs if o.topic == PRODUCTS] == [
        Decimal("11.0000"), Decimal("12.5000"), Decimal("12.5000")]
    assert [o.value["quantity"] for o in outputs if o.topic == INVENTORY] == [Decimal("8.0000"), Decimal("0.0000")]
