"""erp_writer's handler: canonical order → the pair's ErpSink → a WriteResult on erp.results.v1.

The handler only routes: each order goes to the sink of its pair (metadata.pair_id), and the sink
decides how to make the write exactly-once for its ERP (`ErpSink.ensure_order`). Same-key records
never run concurrently (the processor's per-key ordering), so a sink's lookup-then-create cannot
race itself.
"""
from __future__ import annotations

from typing import Any, Mapping

from sagebridge_common.contracts import ErpSink, WriteOutcome
from sagebridge_common.errors import PermanentError
from sagebridge_common.events import Event, Output, derived_metadata
from sagebridge_common.topics import ERP_RESULTS

RESULT_SCHEMA = "sagebridge.v1.WriteResult"


def result(order: dict, target: str, reference: str, outcome: str, document: str | None = None,
           message: str | None = None) -> Output:
    value = {"metadata": derived_metadata(order["metadata"], f"erp.order.{outcome}"), "target_system": target,
             "entity_type": "order", "source_entity_id": order["order_id"], "reference": reference,
             "outcome": outcome, "target_document_id": document, "message": message, "attempts": 1}
    return Output(ERP_RESULTS, order["order_id"], RESULT_SCHEMA, value)


def make_handler(sinks: Mapping[str, ErpSink], pairs: Mapping[str, Any]):
    """`sinks` and `pairs` by pair id."""

    def route(order: dict) -> tuple[ErpSink, str]:
        pair_id = order["metadata"]["pair_id"]
        if pair_id not in sinks:
            raise PermanentError(f"no ERP sink for pair {pair_id!r} (serving {', '.join(sorted(sinks))})",
                                 reason="unknown_pair")
        return sinks[pair_id], pairs[pair_id].reference(order["order_number"])

    def handle(event: Event) -> list[Output]:
        order = event.value
        sink, reference = route(order)
        if not order["ready_for_erp"]:
            return [result(order, sink.kind, reference, "skipped", message=f"status {order['status']} is not exported")]
        done: WriteOutcome = sink.ensure_order(order)
        return [result(order, sink.kind, reference, done.outcome, done.document_id, done.message)]

    def on_failure(event: Event, exc: Exception) -> list[Output]:
        order = event.value
        pair_id = order["metadata"]["pair_id"]
        if pair_id in sinks:
            target, reference = sinks[pair_id].kind, pairs[pair_id].reference(order["order_number"])
        else:
            target, reference = "unknown", order["order_number"]
        return [result(order, target, reference, "failed", message=str(exc)[:500])]

    return handle, on_failure
