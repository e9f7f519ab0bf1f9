"""A shipper SODOCUMENT (table SHIPPER) -> `erp.shipments.v1` (v2 Shipment, key = store order number).

Shipping an order in Intacct converts it to a document of the shipment definition
(`change_capture.shipment_definition`, "Shipper") CREATEDFROM the order, REFERENCENO copied.
- order: REFERENCENO minus the pair's prefix (another prefix: dropped quietly, logged).
- tracking_number: the config's `tracking_field` (TRACKINGNUMBER; often a custom field, so not
  fixed); a shipper without one says nothing the store can show: nothing is emitted (a later save
  that adds it emits then).
- carrier and service: the `carrier_field` (SHIPVIAKEY, the ship method's name).
- shipment_id: DOCID; order_number: CREATEDFROM (the order's DOCID); shipped_at: WHENCREATED (a
  date: UTC midnight; blank: the change time).
- lines: none (readByQuery of SODOCUMENT returns headers; the store needs only the tracking number).
Emitted again on each newer save with a tracking number: the store side keeps a number once.
"""
from __future__ import annotations

import logging
from typing import Any

from sagebridge_common.events import Output, derived_metadata
from sagebridge_common.pairs import PairConfig
from sagebridge_common.topics import SHIPMENTS

from ..sage300.references import store_order_number
from ..sage300.row_state import Entity
from ..sage300.rows import text
from .rows import capture_config, intacct_date

log = logging.getLogger(__name__)
SCHEMA = "sagebridge.v2.Shipment"
TABLE = "SHIPPER"


def shipment(entity: Entity, pair: PairConfig, parent: dict[str, Any]) -> Output | None:
    doc = entity.one(TABLE)
    if doc is None:
        return None
    cc = capture_config(pair)
    reference = text(doc, "REFERENCENO")
    order_id = store_order_number(reference, pair)
    if order_id is None:
        log.info("shipment of an order that is not this pair's: skipped",
                 extra={"shipment": text(doc, "DOCID"), "reference": reference})
        return None
    tracking = text(doc, cc.tracking_field)
    if tracking is None:
        log.info("shipper without a tracking number: nothing to show yet", extra={"shipment": text(doc, "DOCID")})
        return None
    carrier = text(doc, cc.carrier_field)
    value = {"metadata": derived_metadata(parent, "shipment.changed"), "order_id": order_id,
             "order_number": text(doc, "CREATEDFROM"),
             "shipment_id": text(doc, "DOCID") or entity.key.rpartition("/")[2],
             "carrier": carrier, "service": carrier, "tracking_number": tracking,
             "shipped_at": intacct_date(text(doc, "WHENCREATED")) or parent["occurred_at"], "lines": [],
             "reference": reference, "deleted": False,
             "source_version": entity.version(entity.positions(TABLE))}
    return Output(SHIPMENTS, order_id, SCHEMA, value)
