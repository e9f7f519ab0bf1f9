"""The `erp.order_status.v1` event every ERP's transform emits, and its "only when it changes" memory.

Each ERP derives its canonical status its own way (Sage 300 from OEORDH flags, Intacct from the
sales order's STATE); what follows is the same: compare with the status last emitted for the
order (kept in the entity, so a redelivery of the same record sees the status before it), map it
to the store's codes with the pair's `erp_order_status` table, and remember it.
"""
from __future__ import annotations

from typing import Any

from sagebridge_common.events import Event, Output, derived_metadata
from sagebridge_common.pairs import PairConfig
from sagebridge_common.topics import ORDER_STATUS

from .sage300.row_state import Entity

SCHEMA = "sagebridge.v3.OrderStatus"
FULFILMENT = {"complete": "fulfilled", "partially_shipped": "partially_fulfilled", "shipped": "fulfilled"}


def last_emitted(entity: Entity, event: Event) -> str | None:
    """The status last emitted for this order; for a redelivered record, the one before it."""
    memory = entity.extra("status") or {}
    if memory.get("offset") == event.offset:
        return memory.get("before")
    return memory.get("status")


def status_event(entity: Entity, pair: PairConfig, event: Event, parent: dict[str, Any], *, order_id: str,
                 order_number: str, status: str, before: str | None, reference: str, source_version: str,
                 hold_reason: str | None = None) -> Output:
    """The OrderStatus output; remembers `status` in the entity (the caller saves it after)."""
    codes = pair.mapping.store_status_codes(status)
    value = {"metadata": derived_metadata(parent, "order_status.changed"), "order_id": order_id,
             "order_number": order_number, "status": status,
             "fulfilment_status": FULFILMENT.get(status, "unfulfilled"), "changed_at": parent["occurred_at"],
             "shipping_status": codes.shipping_status, "payment_status": codes.payment_status,
             "order_status": codes.order_status, "hold_reason": hold_reason, "reference": reference,
             "source_version": source_version}
    entity.set_extra("status", {"status": status, "before": before, "offset": event.offset})
    return Output(ORDER_STATUS, order_id, SCHEMA, value)
