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

from .sage300.references import store_order_number
from .sage300.row_state import Entity
from .sage300.rows import text

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


def header_status(entity: Entity, pair: PairConfig, event: Event, parent: dict[str, Any], *, table: str,
                  reference_field: str, number_field: str, status_field: str,
                  statuses: dict[str, str]) -> Output | None:
    """The OrderStatus of an ERP whose order is one header row (Intacct SODOCUMENT, Sage Pro SOMAST):
    its reference names the store order, its status code maps through `statuses` (a code not listed
    says nothing); emitted only when the mapped status changed (remembered in the entity, save after)."""
    header = entity.one(table)
    if header is None:
        return None
    reference = text(header, reference_field)
    order_id = store_order_number(reference, pair)
    status = statuses.get(text(header, status_field) or "")
    before = last_emitted(entity, event)
    if order_id is None or status is None or status == before:
        return None
    return status_event(entity, pair, event, parent, order_id=order_id,
                        order_number=text(header, number_field) or entity.key.rpartition("/")[2], status=status,
                        before=before, reference=reference, source_version=entity.version(entity.positions(table)))
