"""OEORDH + OEORDH1 rows of one order (ORDUNIQ) -> `erp.order_status.v1` (v3 OrderStatus, key = store order number).

Derived status (reference §4: TYPE 4 = quote, ONHOLD, COMPLETE >= 3 = complete, shipments by
OEORDH1.NUMSHPMENT), in this order: TYPE 4 -> quote (never emitted: a quote is no store order's
state); ONHOLD 1 -> on_hold (hold_reason = OEORDH1.HOLDREASON); COMPLETE >= 3 -> complete;
NUMSHPMENT > 0 -> partially_shipped; else open. The store codes come from `mapping.erp_order_status`:
X-Cart's shipping and payment status codes, or the single order status id of Shift4Shop/3dcart
(`order_status`); whichever the pair's table leaves unset is null (the store keeps its own).

Both rows are kept per ORDUNIQ in keyed state; an event is emitted only when the derived status
differs from the last one emitted (a re-save of the order, a new invoice number, says nothing new
to the store). For the record at the offset that last emitted (a redelivery after a crash), the
comparison is against the status before it, so its event goes again.
"""
from __future__ import annotations

from typing import Any

from sagebridge_common.events import Event, Output, derived_metadata
from sagebridge_common.pairs import PairConfig
from sagebridge_common.topics import ORDER_STATUS

from .references import store_order_number
from .row_state import Entity
from .rows import integer, text

SCHEMA = "sagebridge.v3.OrderStatus"
QUOTE = 4
FULFILMENT = {"complete": "fulfilled", "partially_shipped": "partially_fulfilled", "shipped": "fulfilled"}


def derive(header: dict[str, Any], extra: dict[str, Any] | None) -> str:
    extra = extra or {}
    if integer(header, "TYPE") == QUOTE:
        return "quote"
    if integer(header, "ONHOLD") == 1:
        return "on_hold"
    if integer(header, "COMPLETE") >= 3:
        return "complete"
    if integer(extra, "NUMSHPMENT") > 0:
        return "partially_shipped"
    return "open"


def _last_emitted(entity: Entity, event: Event) -> str | None:
    memory = entity.extra("status") or {}
    if memory.get("offset") == event.offset:
        return memory.get("before")
    return memory.get("status")


def order_status(entity: Entity, pair: PairConfig, event: Event, parent: dict[str, Any]) -> Output | None:
    """The OrderStatus when the derived status changed; remembers it in the entity (save after)."""
    header = entity.one("OEORDH")
    if header is None:
        return None                             # OEORDH1 before its header, or a deleted order
    order_id = store_order_number(text(header, "REFERENCE"), pair)
    status = derive(header, entity.one("OEORDH1"))
    before = _last_emitted(entity, event)
    if order_id is None or status == "quote" or status == before:
        return None
    extra = entity.one("OEORDH1") or {}
    codes = pair.mapping.store_status_codes(status)
    value = {"metadata": derived_metadata(parent, "order_status.changed"), "order_id": order_id,
             "order_number": text(header, "ORDNUMBER") or "", "status": status,
             "fulfilment_status": FULFILMENT.get(status, "unfulfilled"), "changed_at": parent["occurred_at"],
             "shipping_status": codes.shipping_status, "payment_status": codes.payment_status,
             "order_status": codes.order_status,
             "hold_reason": text(extra, "HOLDREASON") if status == "on_hold" else None,
             "reference": text(header, "REFERENCE"),
             "source_version": max(entity.positions("OEORDH") + entity.positions("OEORDH1"), default="")}
    entity.set_extra("status", {"status": status, "before": before, "offset": event.offset})
    return Output(ORDER_STATUS, order_id, SCHEMA, value)
