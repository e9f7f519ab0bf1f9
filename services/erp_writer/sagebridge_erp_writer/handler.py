"""erp_writer's handler: canonical events → the pair's ErpSink → WriteResults on erp.results.v1.

One processor consumes the four canonical topics and routes by topic to one writer per entity
(orders, customers, payments, refunds); each event goes to the sink of its pair
(metadata.pair_id), and the sink decides how to make the write exactly-once for its ERP
(`ErpSink.ensure_*`). Same-key records never run concurrently (the processor's per-key ordering);
what crosses keys - one shopper's orders, payments and refunds under different order ids - meets in
the customer resolver (customers.py).
"""
from __future__ import annotations

from typing import Any, Mapping

from sagebridge_common import metrics
from sagebridge_common.contracts import ErpSink
from sagebridge_common.errors import PermanentError
from sagebridge_common.events import Event, Output
from sagebridge_common.keyed_state import KeyedState
from sagebridge_common.topics import CUSTOMERS, ORDERS, PAYMENTS, REFUNDS

from .customers import CustomerResolver, CustomerWriter, Links
from .order_changes import CHANGE_KINDS
from .orders import OrderWriter
from .payments import PaymentWriter
from .pending import PendingOrders
from .refunds import RefundWriter
from .results import write_result
from .targets import Targets

TOPICS = [ORDERS, CUSTOMERS, PAYMENTS, REFUNDS]


def make_handler(sinks: Mapping[str, ErpSink], pairs: Mapping[str, Any], *, links: Links, order_state: KeyedState,
                 pending: PendingOrders | None = None):
    """`sinks` and `pairs` by pair id; `links` the customer link table; `order_state` keyed state on
    commerce.orders.v1; `pending` tracks orders not yet written (the order-stuck alert's gauge).
    Returns the processor's handler and its failure-outputs builder."""
    targets = Targets(sinks, pairs)
    pending = pending or PendingOrders()
    for pair_id, sink in sinks.items():      # at 0 from start, so the alert's increase() sees the first one
        for change in CHANGE_KINDS:
            metrics.ERP_NEEDS_ATTENTION.labels(sink.kind, pair_id, change)
        pending.export(sink.kind, pair_id)
    resolver = CustomerResolver(links)
    orders = OrderWriter(resolver, order_state, pending)
    writers = {ORDERS: orders, CUSTOMERS: CustomerWriter(resolver),
               PAYMENTS: PaymentWriter(resolver), REFUNDS: RefundWriter(resolver)}

    def writer_for(event: Event):
        try:
            return writers[event.topic]
        except KeyError:
            raise PermanentError(f"erp_writer does not handle {event.topic}", reason="unknown_topic") from None

    def handle(event: Event) -> list[Output]:
        return writer_for(event).write(event, targets.route(event.value))

    def on_failure(event: Event, exc: Exception) -> list[Output]:
        if event.topic not in writers:
            return []
        writer, value = writers[event.topic], event.value
        target = targets.find(value)
        if writer is orders and target is not None and "order_id" in value:
            pending.finished(target.pair_id, orders.key(value, target))     # dead-lettered: the DLQ alert's
        try:
            reference = writer.reference(value, target.pair) if target else writer.source_id(value)
        except (KeyError, TypeError):
            reference = writer.source_id(value)
        return [write_result(value, entity_type=writer.entity_type, source_entity_id=writer.source_id(value),
                             target=target.kind if target else "unknown", reference=reference,
                             outcome="failed", message=str(exc))]

    return handle, on_failure
