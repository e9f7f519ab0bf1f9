"""commerce.orders.v1 → one ERP sales order for the order's real customer, then follow-up only by
reporting: a later version of an order already written is compared with what was written
(`order_changes.py`) instead of being posted again.

The state key is `<pair>|<order id>`; the input key is the order id, so every version of an order
lands in the same partition and its state is there (keyed_state.py's rule).
"""
from __future__ import annotations

from typing import Any

from sagebridge_common import metrics
from sagebridge_common.events import Event, Output
from sagebridge_common.keyed_state import KeyedState

from . import order_changes
from .customers import CustomerResolver, with_customer
from .pending import PendingOrders
from .results import write_result
from .targets import Target

WRITTEN = frozenset({"created", "already_present", "created_with_mismatch"})   # an ERP document exists


class OrderWriter:
    entity_type = "order"

    def __init__(self, resolver: CustomerResolver, state: KeyedState, pending: PendingOrders | None = None) -> None:
        self.resolver = resolver
        self.state = state
        self.pending = pending or PendingOrders()

    def key(self, order: dict, target: Target) -> str:
        return f"{target.pair_id}|{order['order_id']}"

    def source_id(self, order: dict) -> str:
        return order["order_id"]

    def reference(self, order: dict, pair: Any) -> str:
        return pair.reference(order["order_number"])

    def _result(self, order: dict, target: Target, outcome: str, document: str | None = None,
                message: str | None = None) -> Output:
        return write_result(order, entity_type=self.entity_type, source_entity_id=order["order_id"],
                            target=target.kind, reference=self.reference(order, target.pair), outcome=outcome,
                            document=document, message=message)

    def write(self, event: Event, target: Target) -> list[Output]:
        order = event.value
        view = self.state.for_event(event)
        key = self.key(order, target)
        written = view.get(key)
        if written is not None:
            self.pending.finished(target.pair_id, key)
            return self._after_written(order, target, view, key, written)
        if not order.get("ready_for_erp"):
            self.pending.finished(target.pair_id, key)
            return [self._result(order, target, "skipped", message=f"status {order['status']} is not exported")]
        self.pending.started(target.pair_id, key, event)     # until a result: retries keep it pending
        outputs = self._write_new(order, target, view, key)
        self.pending.finished(target.pair_id, key)
        return outputs

    def _write_new(self, order: dict, target: Target, view, key: str) -> list[Output]:
        number, outputs = self.resolver.resolve(target, order, order["customer"], order.get("billing_address"),
                                                order.get("shipping_address"))
        done = target.sink.ensure_order(with_customer(order, number))
        outputs.append(self._result(order, target, done.outcome, done.document_id, done.message))
        if done.outcome in WRITTEN:
            outputs.append(view.set(key, order_changes.snapshot(order, done.document_id)))     # last: nothing raises after
        return outputs

    def _after_written(self, order: dict, target: Target, view, key: str, written: dict) -> list[Output]:
        found = order_changes.changes(written, order)
        if not found:
            return [self._result(order, target, "already_present", written["document"])]
        message = "; ".join(text for _kind, text in found)
        outputs = [self._result(order, target, "needs_attention", written["document"], message)]
        if written.get("reported") != message:        # a repeat of the same change is not counted again
            for kind, _text in found:
                metrics.ERP_NEEDS_ATTENTION.labels(target.kind, target.pair_id, kind).inc()
            outputs.append(view.set(key, {**written, "reported": message}))
        return outputs
