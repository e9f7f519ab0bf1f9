"""Transform of `erp.raw.v1` for Sage Intacct: a captured record -> the canonical ERP-origin
events it changes (issue 9 contract §6).

Routes by table to the entity the record belongs to (the Kafka key is the entity key): ITEM and
ITEMWAREHOUSEINFO -> the item (ITEMID: products, inventory), SODOCUMENT -> the order (DOCID: order
status), SHIPPER -> the shipment (DOCID). The record is kept in the entity's keyed state first
(older or equal positions dropped, as for Sage 300: `sage300.row_state`), then the entity's events
are computed from everything kept. Every output carries `source_version` and metadata derived
from the raw event's (source_system intacct, pair id, occurred_at, correlation id). Pure apart
from keyed state.
"""
from __future__ import annotations

import logging

from sagebridge_common.events import Event, Output
from sagebridge_common.pairs import PairConfig

from ..erp_rows import ErpRowTransform
from ..sage300.row_state import Entity
from ..sage300.rows import Row
from . import inventory, order_status, products, shipments
from .rows import parse

log = logging.getLogger(__name__)
ERP = "intacct"
KINDS = {"ITEM": "item", "ITEMWAREHOUSEINFO": "item", "SODOCUMENT": "order", "SHIPPER": "shipment"}


class IntacctTransform(ErpRowTransform):
    erp = ERP
    kinds = KINDS
    parse_row = staticmethod(parse)

    def _item(self, entity: Entity, row: Row, pair: PairConfig, event: Event) -> list[Output]:
        if row.entity in products.charge_items(pair):     # the hub's own order lines, not store products
            log.debug("charge item (mapping.order_charges): not a store product", extra={"item": row.entity})
            return []
        sku = pair.mapping.items.number_rule.to_store(row.entity)
        if row.table == products.TABLE:
            product = products.product(entity, pair, sku, row.metadata)
            return [product] if product is not None else []
        location = inventory.store_location_of(row, pair)
        if location is None:
            log.info("warehouse not mapped to a store location; ignored", extra={"row_key": row.key})
            return []
        return [inventory.level(entity, pair, location, sku, row.entity, row.metadata)]

    def _order(self, entity: Entity, row: Row, pair: PairConfig, event: Event) -> list[Output]:
        out = order_status.order_status(entity, pair, event, row.metadata)
        return [out] if out is not None else []

    def _shipment(self, entity: Entity, row: Row, pair: PairConfig, event: Event) -> list[Output]:
        out = shipments.shipment(entity, pair, row.metadata)
        return [out] if out is not None else []
