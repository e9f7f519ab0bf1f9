"""OpenTelemetry tracing with W3C trace context carried in Kafka headers.

One trace runs from the webhook to the ERP write: each service continues the trace found in the
record's `traceparent` header (`process <topic>` spans) and injects its own context into what it
produces (`publish <topic>` spans). Calls to a store or an ERP are `client_span`s under the
`process` span, so the ERP write and the store write are in the record's trace.

Attributes follow the OpenTelemetry messaging semantic conventions (Kafka): messaging.system,
messaging.destination.name, messaging.operation.type (`process` / `send`) and .name (the span
name's verb), messaging.kafka.message.key, messaging.kafka.offset, messaging.consumer.group.name,
messaging.destination.partition.id (a string).

The way back (an ERP change about an order: its shipment, its status) is not caused by the record
that carried the order, so it starts its own trace at the ERP change, and, as the conventions
recommend for asynchronous causality, carries a span *link* to the order's trace: the order's
`traceparent` travels in the `sagebridge.link.traceparent` header (`LINK_HEADER`), and every
`process` span of a record with that header links to it.

Spans are exported over OTLP/HTTP only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; otherwise
tracing costs next to nothing.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Link, SpanKind

Headers = list[tuple[str, bytes | None]]
_TRACE_HEADERS = ("traceparent", "tracestate")
LINK_HEADER = "sagebridge.link.traceparent"


def exporting() -> bool:
    """True when spans leave the process; without an exporter, per-request span machinery (such as
    FastAPI's own request spans) is pure cost."""
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def setup_tracing(service: str) -> None:
    global _tracer
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    _tracer = None
    provider = TracerProvider(resource=Resource.create({"service.name": f"sagebridge-{service}"}))
    if exporting():
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


_tracer: trace.Tracer | None = None


def tracer() -> trace.Tracer:
    """One tracer per process (looking it up per record is measurable on the webhook path)."""
    global _tracer
    if _tracer is None:
        _tracer = trace.get_tracer("sagebridge")
    return _tracer


def extract(headers: Headers | None) -> context.Context:
    carrier = {k: v.decode() for k, v in headers or [] if k in _TRACE_HEADERS and v}
    return propagate.extract(carrier)


def inject(headers: Headers | None = None) -> Headers:
    """Current trace context as Kafka headers, replacing any stale ones."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    kept = [(k, v) for k, v in headers or [] if k not in _TRACE_HEADERS]
    return kept + [(k, v.encode()) for k, v in carrier.items()]


def current_traceparent() -> str | None:
    """The W3C traceparent of the current span (None outside a recording trace)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


def trace_id_of(traceparent: str | None) -> str | None:
    """The 32-hex trace id of a traceparent value, None when it is not one."""
    parts = (traceparent or "").split("-")
    return parts[1] if len(parts) == 4 and len(parts[1]) == 32 else None


def trace_url(template: str | None, traceparent: str | None) -> str | None:
    """The trace viewer's address of a record's trace (`TRACE_URL_TEMPLATE` with `{trace_id}`)."""
    trace_id = trace_id_of(traceparent)
    return template.format(trace_id=trace_id) if template and trace_id else None


def _links(headers: Headers | None) -> list[Link]:
    """A link to the trace named in LINK_HEADER (the order's trace on the way back)."""
    for k, v in headers or []:
        if k == LINK_HEADER and v:
            linked = trace.get_current_span(propagate.extract({"traceparent": v.decode()})).get_span_context()
            if linked.is_valid:
                return [Link(linked, {"sagebridge.link": "order"})]
    return []


def _key(key: bytes | str | None) -> dict:
    if key is None:
        return {}
    return {"messaging.kafka.message.key": key.decode(errors="replace") if isinstance(key, bytes) else str(key)}


@contextmanager
def process_span(topic: str, headers: Headers | None, *, key: bytes | str | None = None,
                 partition: int | None = None, **attributes) -> Iterator[trace.Span]:
    attrs = {"messaging.system": "kafka", "messaging.destination.name": topic,
             "messaging.operation.type": "process", "messaging.operation.name": "process", **_key(key), **attributes}
    if partition is not None:
        attrs["messaging.destination.partition.id"] = str(partition)
    with tracer().start_as_current_span(f"process {topic}", context=extract(headers), kind=SpanKind.CONSUMER,
                                        links=_links(headers), attributes=attrs) as span:
        yield span


@contextmanager
def publish_span(topic: str, key: bytes | str | None = None, partition: int | None = None) -> Iterator[trace.Span]:
    attrs = {"messaging.system": "kafka", "messaging.destination.name": topic,
             "messaging.operation.type": "send", "messaging.operation.name": "publish", **_key(key)}
    if partition is not None:
        attrs["messaging.destination.partition.id"] = str(partition)
    with tracer().start_as_current_span(f"publish {topic}", kind=SpanKind.PRODUCER, attributes=attrs) as span:
        yield span


@contextmanager
def client_span(name: str, system: str, **attributes) -> Iterator[trace.Span]:
    """A call to a store or an ERP (`<system> <operation>`, e.g. `sage300 create_order`)."""
    with tracer().start_as_current_span(name, kind=SpanKind.CLIENT,
                                        attributes={"sagebridge.target.system": system, **attributes}) as span:
        yield span


class Traced:
    """A store or ERP sink whose calls are client spans `<kind> <method>`: the connector call is
    where a record's trace meets the outside system (the ERP write, the store write)."""

    _untraced = frozenset({"ping", "close"})

    def __init__(self, sink) -> None:
        self._sink = sink

    def __getattr__(self, name: str):
        attr = getattr(self._sink, name)
        if name.startswith("_") or name in self._untraced or not callable(attr):
            return attr
        kind = getattr(self._sink, "kind", type(self._sink).__name__)

        def call(*args, **kwargs):
            with client_span(f"{kind} {name}", str(kind)):
                return attr(*args, **kwargs)
        return call


def traced(sinks: dict) -> dict:
    """Each sink of a pair → sink mapping, traced."""
    return {pair_id: Traced(sink) for pair_id, sink in sinks.items()}
