"""A SOMAST row with a tracking number -> `erp.shipments.v1` (v2 Shipment, key = store order number).

Sage Pro keeps one tracking number on the order header (layout field `tracking`, somast sotrack)
and no shipment table the hub knows of (reference sage300_sagepro.md §3), so a shipment is what
the header says once it has a tracking number:
- order: ponum minus the pair's prefix (another prefix, or none: not this pair's, logged).
- shipment_id: "<sono>/<tracking>": the same header saved again (a status change, a freight edit)
  is the same shipment, a new tracking number a new one.
- carrier and service: shipvia; shipped_at: shipdate (UTC midnight), blank: the row's read time.
- lines: none (the header does not say which lines went); the store needs the tracking number.
Emitted when the shipment differs from the last one emitted for the order (tracking, carrier or
ship date changed): SOMAST is re-read on every header change, and a status edit is no new
shipment. For the record at the offset that last emitted (a redelivery after a crash) the
comparison is against the shipment before it, so its event goes again.
"""
from __future__ import annotations

import logging
from typing import Any

from sagebridge_common.events import Event, Output, derived_metadata
from sagebridge_common.pairs import PairConfig
from sagebridge_common.topics import SHIPMENTS

from ..sage300.references import store_order_number
from ..sage300.row_state import Entity
from ..sage300.rows import text
from ..sage300.shipments import SCHEMA
from .rows import pro_date

log = logging.getLogger(__name__)
TABLE = "SOMAST"
MEMORY = "shipment"


def _last_emitted(entity: Entity, event: Event) -> list | None:
    memory = entity.extra(MEMORY) or {}
    return memory.get("before") if memory.get("offset") == event.offset else memory.get("shipment")


def shipment(entity: Entity, pair: PairConfig, event: Event, parent: dict[str, Any]) -> Output | None:
    """The Shipment of the order header when it has a new tracking, carrier or ship date; remembers
    it in the entity (the caller saves it after)."""
    header = entity.one(TABLE)
    tracking = text(header, "tracking") if header is not None else None
    if header is None or tracking is None:
        return None
    reference = text(header, "ponum")
    order_id = store_order_number(reference, pair)
    sono = text(header, "sono") or entity.key.rpartition("/")[2]
    if order_id is None:
        log.info("shipment of an order that is not this pair's: skipped", extra={"sono": sono, "reference": reference})
        return None
    carrier = text(header, "shipvia")
    shipped = pro_date(header, "shipdate", f"{TABLE} {sono}")
    signature = [tracking, carrier, shipped.isoformat() if shipped else None]
    before = _last_emitted(entity, event)
    if signature == before:
        return None
    value = {"metadata": derived_metadata(parent, "shipment.changed"), "order_id": order_id, "order_number": sono,
             "shipment_id": f"{sono}/{tracking}", "carrier": carrier, "service": carrier,
             "tracking_number": tracking, "shipped_at": shipped or parent["occurred_at"], "lines": [],
             "reference": reference, "deleted": False, "source_version": entity.version(entity.positions(TABLE))}
    entity.set_extra(MEMORY, {"shipment": signature, "before": before, "offset": event.offset})
    return Output(SHIPMENTS, order_id, SCHEMA, value)
