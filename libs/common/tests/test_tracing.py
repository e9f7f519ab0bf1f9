"""tracing.py's own rules: messaging attributes, the link to an order's trace, client spans around
sink calls, and the trace link of a DLQ record. Spans go to the SDK's in-memory exporter."""
from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from sagebridge_common import tracing

PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
ORDER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.fixture(scope="module")
def exporter():
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    return memory


def finished(exporter, name: str):
    return [s for s in exporter.get_finished_spans() if s.name == name]


def test_a_process_span_continues_the_producer_and_carries_the_messaging_attributes(exporter):
    with tracing.process_span("t.process", [("traceparent", PARENT.encode())], key=b"1051", partition=2,
                              **{"messaging.kafka.offset": 42, "messaging.consumer.group.name": "g"}):
        with tracing.publish_span("t.out", b"1051", None):
            headers = tracing.inject([("traceparent", b"stale"), ("x", b"1")])
    [span] = finished(exporter, "process t.process")
    assert span.kind == SpanKind.CONSUMER and span.context.trace_id == int(PARENT.split("-")[1], 16)
    assert dict(span.attributes) == {
        "messaging.system": "kafka", "messaging.destination.name": "t.process", "messaging.operation.type": "process",
        "messaging.operation.name": "process", "messaging.kafka.message.key": "1051",
        "messaging.destination.partition.id": "2", "messaging.kafka.offset": 42, "messaging.consumer.group.name": "g"}
    [out] = finished(exporter, "publish t.out")
    assert out.kind == SpanKind.PRODUCER and out.parent.span_id == span.context.span_id
    assert out.attributes["messaging.operation.type"] == "send" and "messaging.destination.partition.id" not in out.attributes
    carried = dict(headers)
    assert carried["x"] == b"1" and tracing.trace_id_of(carried["traceparent"].decode()) == PARENT.split("-")[1]


def test_the_link_header_links_the_span_to_the_order_trace_and_garbage_is_no_link(exporter):
    with tracing.process_span("t.linked", [(tracing.LINK_HEADER, ORDER.encode())]):
        pass
    with tracing.process_span("t.garbage", [(tracing.LINK_HEADER, b"not-a-traceparent")]):
        pass
    [linked] = finished(exporter, "process t.linked")
    assert [format(link.context.trace_id, "032x") for link in linked.links] == [ORDER.split("-")[1]]
    assert linked.context.trace_id != int(ORDER.split("-")[1], 16)       # its own trace, linked
    [garbage] = finished(exporter, "process t.garbage")
    assert list(garbage.links) == []


class Sink:
    kind = "sage300"
    concurrency_hint = 4

    def ensure_order(self, order: dict) -> str:
        return order["id"]

    def ping(self) -> tuple[bool, str]:
        return True, "ok"


def test_sink_calls_are_client_spans_and_plain_attributes_pass_through(exporter):
    sink = tracing.traced({"p": Sink()})["p"]
    with tracing.process_span("t.sink", None):
        assert sink.ensure_order({"id": "7"}) == "7"
        assert sink.ping() == (True, "ok") and sink.kind == "sage300" and sink.concurrency_hint == 4
    [call] = finished(exporter, "sage300 ensure_order")
    [process] = finished(exporter, "process t.sink")
    assert call.kind == SpanKind.CLIENT and call.parent.span_id == process.context.span_id
    assert finished(exporter, "sage300 ping") == []


@pytest.mark.parametrize("traceparent, url", [
    (ORDER, "https://tempo.example/trace/4bf92f3577b34da6a3ce929d0e0e4736"),
    ("00-abc-def-01", None), (None, None)])
def test_trace_url_of_a_traceparent(traceparent, url):
    assert tracing.trace_url("https://tempo.example/trace/{trace_id}", traceparent) == url
    assert tracing.trace_url(None, traceparent) is None
