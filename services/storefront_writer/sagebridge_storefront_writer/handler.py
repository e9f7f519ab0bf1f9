"""storefront_writer's handler: ERP-origin canonical events -> the pair's StorefrontSink -> WriteResults.

A plain function per input topic: read the canonical fields, skip a version already superseded
(versions.py), make the one sink call, and return the WriteResult plus the version record. The
version is remembered only after the sink call returned, and is the last output, so a crash
between the write and the changelog ack only means the (idempotent) write happens again.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, Mapping

from prometheus_client import Counter

from sagebridge_common.contracts import StorefrontSink, WriteOutcome
from sagebridge_common.errors import PermanentError
from sagebridge_common.events import Event, Output
from sagebridge_common.topics import ERP_CUSTOMERS, INVENTORY, ORDER_STATUS, PRODUCTS, SHIPMENTS

from .results import write_result
from .versions import VersionGate

TOPICS = [INVENTORY, PRODUCTS, SHIPMENTS, ORDER_STATUS, ERP_CUSTOMERS]
COALESCED_TOPICS = [INVENTORY, PRODUCTS, ORDER_STATUS, ERP_CUSTOMERS]   # states; every shipment counts
ENTITY = {INVENTORY: "inventory", PRODUCTS: "product", SHIPMENTS: "shipment", ORDER_STATUS: "order_status",
          ERP_CUSTOMERS: "customer"}

WRITES = Counter("sagebridge_storefront_writes_total", "Storefront writes by entity and outcome",
                 ["kind", "entity", "outcome"])


def _stock(sink: StorefrontSink, v: dict[str, Any]) -> WriteOutcome:
    quantity = v.get("quantity")
    if quantity is None:
        quantity = v.get("available")
    if quantity is None:
        raise PermanentError(f"inventory event for {v.get('sku')!r} has no quantity", reason="missing_quantity")
    return sink.set_stock(v["sku"], Decimal(quantity), v.get("location"))


def _shipment(sink: StorefrontSink, v: dict[str, Any]) -> WriteOutcome:
    if v.get("deleted"):
        return WriteOutcome("skipped", None, "shipment deleted in the ERP; the store keeps its tracking")
    if not (v.get("tracking_number") or "").strip():
        return WriteOutcome("skipped", None, "shipment without a tracking number")
    return sink.add_shipment(v["order_id"], v.get("carrier"), v["tracking_number"].strip())


def _status(sink: StorefrontSink, v: dict[str, Any]) -> WriteOutcome:
    """Every store code the event carries (X-Cart's shipping/payment, Shift4Shop/3dcart's single
    order status id from v3 on); the sink writes those its store has."""
    return sink.set_order_status(v["order_id"], shipping_status=v.get("shipping_status"),
                                 payment_status=v.get("payment_status"), order_status=v.get("order_status"))


WRITERS: dict[str, Callable[[StorefrontSink, dict[str, Any]], WriteOutcome]] = {
    INVENTORY: _stock,
    PRODUCTS: lambda sink, v: sink.update_product(v),
    SHIPMENTS: _shipment,
    ORDER_STATUS: _status,
    ERP_CUSTOMERS: lambda sink, v: sink.update_customer(v),
}


def _source_id(event: Event) -> str:
    return event.key.decode() if isinstance(event.key, bytes) else str(event.key or "")


def _subkey(event: Event) -> str | None:
    """Shipments of one order share its key; each shipment has its own version line."""
    return event.value.get("shipment_id") if event.topic == SHIPMENTS else None


def make_handler(sinks: Mapping[str, StorefrontSink], versions: VersionGate):
    """`sinks` by pair id. Returns the processor's handler and its failure-outputs builder."""

    def sink_for(value: dict[str, Any]) -> StorefrontSink:
        pair = (value.get("metadata") or {}).get("pair_id")
        if pair in sinks:
            return sinks[pair]
        if pair is None and len(sinks) == 1:
            return next(iter(sinks.values()))
        raise PermanentError(f"no store configured for pair {pair!r}", reason="unknown_pair")

    def handle(event: Event) -> list[Output]:
        writer = WRITERS.get(event.topic)
        if writer is None:
            raise PermanentError(f"storefront_writer does not handle {event.topic}", reason="unknown_topic")
        value, entity, source_id = event.value, ENTITY[event.topic], _source_id(event)
        sink = sink_for(value)
        version, subkey = value.get("source_version") or "", _subkey(event)
        last = versions.is_stale(event, version, subkey)
        if last is not None:
            WRITES.labels(sink.kind, entity, "skipped").inc()
            return [write_result(value, entity_type=entity, source_entity_id=source_id, target=sink.kind,
                                 reference=None, outcome="skipped",
                                 message=f"version {version} is not newer than {last}, already written")]
        done = writer(sink, value)
        WRITES.labels(sink.kind, entity, done.outcome).inc()
        result = write_result(value, entity_type=entity, source_entity_id=source_id, target=sink.kind,
                              reference=done.document_id, outcome=done.outcome, message=done.message)
        return [result, *versions.remember(event, version, subkey)]

    def on_failure(event: Event, exc: Exception) -> list[Output]:
        entity = ENTITY.get(event.topic)
        if entity is None:
            return []
        try:
            kind = sink_for(event.value).kind
        except PermanentError:
            kind = "unknown"
        WRITES.labels(kind, entity, "failed").inc()
        reason = getattr(exc, "reason", type(exc).__name__)
        return [write_result(event.value, entity_type=entity, source_entity_id=_source_id(event), target=kind,
                             reference=None, outcome="failed", message=f"{reason}: {exc}")]

    return handle, on_failure
