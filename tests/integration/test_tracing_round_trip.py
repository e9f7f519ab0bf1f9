"""One order's traces on the whole running stack (conftest `stack`, exporting to the OTLP test
collector `otlp`, a real OTLP/HTTP endpoint decoding the protobuf export):

- store -> ERP: one trace from ingest's `publish storefront.raw.v1` through transform to
  erp-writer's client span of the Sage 300 write (`sage300 ensure_order`);
- ERP -> store: the shipment entered in Sage 300 starts its own trace at erp-cdc (an office
  clerk, not the order record, caused it), and its `process erp.shipments.v1` span in
  storefront-writer, parent of the store write (`xcart add_shipment`), carries a span link to the
  order's trace (tracing.py, order_traces.py);
- every `process` / `publish` span has the OpenTelemetry messaging attributes;
- a dead-lettered order keeps its `traceparent`, which is the trace of its failed processing, and
  the DLQ browser turns it into a link with TRACE_URL_TEMPLATE.
"""
from __future__ import annotations

import pytest

from sagebridge_common import dlq_browse
from sagebridge_common.kafka_clients import consumer_config
from sagebridge_common.settings import Settings
from sagebridge_common.topics import ERP_RAW, ORDERS, SHIPMENTS, STOREFRONT_RAW

from .conftest import wait_until
from .test_erp_to_store_flows import ErpSide

SPAN_KIND_CLIENT, SPAN_KIND_PRODUCER, SPAN_KIND_CONSUMER = 3, 4, 5     # OTLP's Span.SpanKind
TEMPLATE = "https://tempo.example/trace/{trace_id}"


@pytest.fixture(scope="module")
def erp(stack, sims):
    return ErpSide(stack, sims)


def spans(otlp, **match) -> list[dict]:
    """Spans whose fields (or, for `key`, the messaging.kafka.message.key attribute) match."""
    key = match.pop("key", None)
    return [s for s in list(otlp.spans) if all(s[k] == v for k, v in match.items())
            and (key is None or s["attributes"].get("messaging.kafka.message.key") == key)]


def children(otlp, parent: dict, **match) -> list[dict]:
    return [s for s in spans(otlp, trace_id=parent["trace_id"], **match) if s["parent_span_id"] == parent["span_id"]]


def assert_messaging(span: dict, topic: str, operation_type: str, operation_name: str) -> None:
    a = span["attributes"]
    assert span["name"] == f"{operation_name} {topic}"
    assert a["messaging.system"] == "kafka" and a["messaging.destination.name"] == topic
    assert a["messaging.operation.type"] == operation_type and a["messaging.operation.name"] == operation_name
    assert a["messaging.kafka.message.key"]
    if operation_type == "process":
        assert span["kind"] == SPAN_KIND_CONSUMER
        assert isinstance(a["messaging.kafka.offset"], int) and a["messaging.consumer.group.name"]
        assert a["messaging.destination.partition.id"].isdigit()
    else:
        assert span["kind"] == SPAN_KIND_PRODUCER


def has_all(otlp, trace_id: str, wanted: set[tuple[str, str]], message: str) -> None:
    """Waits until the trace holds a span of each (service, name) in `wanted`."""
    wait_until(lambda: wanted <= {(s["service"], s["name"]) for s in spans(otlp, trace_id=trace_id)},
               timeout=30, message=message)


def write_traces(otlp, order_id: str) -> set[str]:
    """The traces holding a Sage write of the order."""
    return {p["trace_id"] for p in spans(otlp, service="sagebridge-erp-writer", name=f"process {ORDERS}", key=order_id)
            if children(otlp, p, name="sage300 ensure_order")}


def order_write(otlp, order_id: str) -> dict:
    """erp-writer's client span of the Sage write, under its `process commerce.orders.v1` of the order."""
    def found():
        for process in spans(otlp, service="sagebridge-erp-writer", name=f"process {ORDERS}", key=order_id):
            writes = children(otlp, process, name="sage300 ensure_order")
            if writes:
                return process, writes[0]
        return None
    return wait_until(found, timeout=30, message="the Sage write span of the order")


def test_one_trace_to_the_erp_write_and_a_link_back_from_the_store_write(stack, sims, erp, otlp):
    made = sims.order(items=[{"sku": "A1-400/0", "name": "Incandescent Bulb 60W", "price": "1.25", "amount": 4}])
    order_id, number = str(made["id"]), made["order_number"]
    sage = erp.in_sage(made)
    process, write = order_write(otlp, order_id)
    trace_id = write["trace_id"]
    assert write["kind"] == SPAN_KIND_CLIENT and write["attributes"]["sagebridge.target.system"] == "sage300"
    assert_messaging(process, ORDERS, "process", "process")

    # the order's trace reaches back to ingest, through transform
    # (each service exports on its own schedule: wait for the spans, they are not all there yet)
    has_all(otlp, trace_id, {("sagebridge-ingest", f"publish {STOREFRONT_RAW}"),
                             ("sagebridge-transform", f"process {STOREFRONT_RAW}"),
                             ("sagebridge-transform", f"publish {ORDERS}")}, "the order's trace from ingest")
    published = spans(otlp, trace_id=trace_id, name=f"publish {ORDERS}")[0]
    assert_messaging(published, ORDERS, "send", "publish")
    ingest = spans(otlp, trace_id=trace_id, service="sagebridge-ingest", name=f"publish {STOREFRONT_RAW}")
    assert_messaging(ingest[0], STOREFRONT_RAW, "send", "publish")

    # the way back: the shipment entered in Sage reaches the store in a trace linked to the order's
    erp.change("ship", order=sage["OrderNumber"], tracking="1ZTRACE000000001")

    def store_write():
        for p in spans(otlp, service="sagebridge-storefront-writer", name=f"process {SHIPMENTS}", key=number):
            writes = children(otlp, p, name="xcart add_shipment")
            if writes:
                return p, writes[0]
        return None
    shipment, add = wait_until(store_write, timeout=30, message="the store write span of the shipment")
    assert_messaging(shipment, SHIPMENTS, "process", "process")
    assert add["kind"] == SPAN_KIND_CLIENT
    # linked to a trace in which the order was written to Sage (the poll and the webhook both bring
    # the order; whichever got there first made the ERP order, and that is the trace linked)
    [linked] = [link["trace_id"] for link in shipment["links"]]
    assert linked in write_traces(otlp, order_id)
    assert shipment["trace_id"] != linked                         # caused by the ERP change, not by the order record
    has_all(otlp, shipment["trace_id"], {("sagebridge-erp-cdc", f"publish {ERP_RAW}"),
                                         ("sagebridge-transform", f"process {ERP_RAW}"),
                                         ("sagebridge-transform", f"publish {SHIPMENTS}")}, "the shipment's trace from erp-cdc")


def test_a_dead_lettered_order_keeps_its_trace_and_the_browser_links_to_it(stack, sims, otlp):
    bad = sims.order(items=[{"sku": "NO-SUCH-TRACED", "name": "Ghost", "price": "1.00", "amount": 1}])
    order_id = str(bad["id"])
    conf = consumer_config(Settings(kafka_bootstrap_servers=stack.bootstrap), group_id="sagebridge.dlq-browse")

    def record():
        rows = dlq_browse.list_records(conf, ORDERS + ".dlq", trace_url_template=TEMPLATE)
        return [r for r in rows if r["key"] == order_id]
    rows = wait_until(record, timeout=30, message="the DLQ record of the order")
    for row in rows:
        # the erp-writer span that failed the record is in the trace its DLQ copy names
        wait_until(lambda row=row: spans(otlp, trace_id=row["trace_id"], service="sagebridge-erp-writer",
                                 name=f"process {ORDERS}", key=order_id), timeout=30, message="the failed processing span")
        assert row["trace_url"] == f"https://tempo.example/trace/{row['trace_id']}"
        has_all(otlp, row["trace_id"], {("sagebridge-ingest", f"publish {STOREFRONT_RAW}")}, "the failed order's trace")
