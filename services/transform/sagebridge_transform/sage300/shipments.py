"""OESHIH + OESHID rows of one shipment (SHIUNIQ) -> `erp.shipments.v1` (v2 Shipment, key = store order number).

Header and lines are captured separately (detail tables are polled on their own stamps, reference
§2.1), so both are kept per SHIUNIQ in keyed state and the whole shipment is emitted whenever one
changes, once the header is known and it has a tracking number or lines (a header alone, no
tracking yet, says nothing the store can show).
- order: the header REFERENCE minus the pair's `reference_prefix` is the store order number; a
  reference without the prefix is another pair's or a Sage-only order: dropped quietly (logged).
- tracking_number: OESHIH.SHIPTRACK; carrier: VIADESC, else the SHIPVIA code; service: SHIPVIA.
- shipped_at: SHIDATE (UTC midnight; blank: the change time).
- lines: OESHID ITEM (formatted number) -> SKU through the pair's item rule, QTYSHIPPED.
- A deleted header: the shipment again with deleted=true (its last known values).
"""
from __future__ import annotations

import logging
from typing import Any

from sagebridge_common.events import Output, derived_metadata
from sagebridge_common.pairs import PairConfig
from sagebridge_common.topics import SHIPMENTS

from .references import store_order_number
from .row_state import Entity
from .rows import dec, integer, sage_date, text
from .skus import sku_of_line

log = logging.getLogger(__name__)
SCHEMA = "sagebridge.v2.Shipment"


def _lines(entity: Entity, pair: PairConfig) -> list[dict[str, Any]]:
    rule = pair.mapping.items.number_rule
    out = []
    for key, v in sorted(entity.live("OESHID").items(), key=lambda kv: integer(kv[1], "LINENUM")):
        item = text(v, "ITEM")
        if item is None:
            continue
        out.append({"sku": sku_of_line(rule, item), "quantity": dec(v, "QTYSHIPPED", f"OESHID {key}")})
    return out


def shipment(entity: Entity, pair: PairConfig, parent: dict[str, Any]) -> Output | None:
    header = entity.one("OESHIH")
    deleted = header is None
    values = header if header is not None else entity.last_values("OESHIH")
    if values is None:
        return None                             # lines before their header: wait for it
    reference = text(values, "REFERENCE")
    order_id = store_order_number(reference, pair)
    if order_id is None:
        log.info("shipment of an order that is not this pair's: skipped",
                 extra={"shipment": text(values, "SHINUMBER"), "reference": reference})
        return None
    tracking = text(values, "SHIPTRACK")
    lines = [] if deleted else _lines(entity, pair)
    if not deleted and tracking is None and not lines:
        return None
    value = {"metadata": derived_metadata(parent, "shipment.deleted" if deleted else "shipment.changed"),
             "order_id": order_id, "order_number": text(values, "ORDNUMBER"),
             "shipment_id": text(values, "SHINUMBER") or entity.key.rpartition("/")[2],
             "carrier": text(values, "VIADESC") or text(values, "SHIPVIA"), "service": text(values, "SHIPVIA"),
             "tracking_number": tracking,
             "shipped_at": sage_date(integer(values, "SHIDATE")) or parent["occurred_at"], "lines": lines,
             "reference": reference, "deleted": deleted,
             "source_version": entity.version(entity.positions("OESHIH") + entity.positions("OESHID"))}
    return Output(SHIPMENTS, order_id, SCHEMA, value)
