"""OpenTelemetry tracing with W3C trace context carried in Kafka headers.

One trace runs from the webhook to the ERP write: each service continues the trace found in the
record's `traceparent` header (`process <topic>` spans) and injects its own context into what it
produces (`publish <topic>` spans). Spans are exported over OTLP/HTTP only when
`OTEL_EXPORTER_OTLP_ENDPOINT` is set; otherwise tracing costs next to nothing.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind

Headers = list[tuple[str, bytes | None]]
_TRACE_HEADERS = ("traceparent", "tracestate")


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


@contextmanager
def process_span(topic: str, headers: Headers | None, **attributes) -> Iterator[trace.Span]:
    with tracer().start_as_current_span(f"process {topic}", context=extract(headers), kind=SpanKind.CONSUMER,
                                        attributes={"messaging.system": "kafka",
                                                    "messaging.destination.name": topic,
                                                    "messaging.operation.name": "process", **attributes}) as span:
        yield span


@contextmanager
def publish_span(topic: str) -> Iterator[trace.Span]:
    with tracer().start_as_current_span(f"publish {topic}", kind=SpanKind.PRODUCER,
                                        attributes={"messaging.system": "kafka",
                                                    "messaging.destination.name": topic,
                                                    "messaging.operation.name": "publish"}) as span:
        yield span
