"""erp_writer's handler: canonical order → at most one Sage 300 sales order, and a result event.

Idempotent by lookup: the storefront order number is in OrderReference, so a redelivered event (a
crash between the POST and the offset commit) finds the order and reports `already_present`
instead of creating a second one. Same-key records never run concurrently (the processor's
per-key ordering), so lookup-then-create cannot race itself.
"""
from __future__ import annotations

from sagebridge_common.events import Event, Output, derived_metadata
from sagebridge_common.topics import ERP_RESULTS

from .sage300.oe_order import order_payload
from .sage300.web_api import Sage300Client

RESULT_SCHEMA = "sagebridge.v1.WriteResult"


def result(order: dict, outcome: str, document: str | None = None, message: str | None = None) -> Output:
    value = {"metadata": derived_metadata(order["metadata"], f"erp.order.{outcome}"), "target_system": "sage300",
             "entity_type": "order", "source_entity_id": order["order_id"], "reference": order["order_number"],
             "outcome": outcome, "target_document_id": document, "message": message, "attempts": 1}
    return Output(ERP_RESULTS, order["order_id"], RESULT_SCHEMA, value)


def make_handler(client: Sage300Client, *, shipping_charge_code: str):
    def handle(event: Event) -> list[Output]:
        order = event.value
        if not order["ready_for_erp"]:
            return [result(order, "skipped", message=f"status {order['status']} is not exported")]
        existing = client.find_order_by_reference(order["order_number"])
        if existing:
            return [result(order, "already_present", str(existing.get("OrderNumber")))]
        created = client.create_order(order_payload(order, shipping_charge_code=shipping_charge_code))
        return [result(order, "created", str(created.get("OrderNumber")))]

    def on_failure(event: Event, exc: Exception) -> list[Output]:
        return [result(event.value, "failed", message=str(exc)[:500])]

    return handle, on_failure
