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

from sagebridge_common.events import Event, Output
from sagebridge_common.pairs import PairConfig

from ..erp_status import last_emitted, status_event
from .references import store_order_number
from .row_state import Entity
from .rows import integer, text

QUOTE = 4


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


def order_status(entity: Entity, pair: PairConfig, event: Event, parent: dict[str, Any]) -> Output | None:
    """The OrderStatus when the derived status changed; remembers it in the entity (save after)."""
    header = entity.one("OEORDH")
    if header is None:
        return None                             # OEORDH1 before its header, or a deleted order
    order_id = store_order_number(text(header, "REFERENCE"), pair)
    status = derive(header, entity.one("OEORDH1"))
    before = last_emitted(entity, event)
    if order_id is None or status == "quote" or status == before:
        return None
    extra = entity.one("OEORDH1") or {}
    return status_event(entity, pair, event, parent, order_id=order_id, order_number=text(header, "ORDNUMBER") or "",
                        status=status, before=before, reference=text(header, "REFERENCE"),
                        hold_reason=text(extra, "HOLDREASON") if status == "on_hold" else None,
                        source_version=entity.version(entity.positions("OEORDH") + entity.positions("OEORDH1")))
