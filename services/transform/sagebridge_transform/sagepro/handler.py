"""Transform of `erp.raw.v1` for Sage Pro: a captured row -> the canonical ERP-origin events it
changes (issue 10 contract, wire format of capture -> transform).

Routes by table to the entity the row belongs to (the Kafka key is the entity key, the layout's
ENTITY_FIELD): ICITEM / ICILOC / ICPRIC -> the item (products, inventory), ARCUST -> the customer,
SOMAST -> the order (order status and its shipment). The row is kept in the entity's keyed state
first (older or equal positions dropped, `sage300.row_state`), then the entity's events are
computed from everything kept. Every output carries `source_version` and metadata derived from
the raw event's (source_system sagepro, pair id, occurred_at = the read time, correlation id).
The pair's charge items (`mapping.order_charges` line codes, HANDLING / MISC) are items the hub
writes on order lines, not store products: no product or stock is emitted for them. Pure apart
from keyed state.
"""
from __future__ import annotations

import logging

from sagebridge_common.events import Event, Output
from sagebridge_common.pairs import PairConfig

from ..erp_rows import ErpRowTransform
from ..intacct.products import charge_items
from ..sage300.row_state import Entity
from ..sage300.rows import Row
from . import customers, inventory, order_status, products, shipments
from .rows import parse

log = logging.getLogger(__name__)
ERP = "sagepro"
KINDS = {"ICITEM": "item", "ICILOC": "item", "ICPRIC": "item", "ARCUST": "customer", "SOMAST": "order"}


class SageProTransform(ErpRowTransform):
    erp = ERP
    kinds = KINDS
    parse_row = staticmethod(parse)

    def _item(self, entity: Entity, row: Row, pair: PairConfig, event: Event) -> list[Output]:
        itemno = row.entity
        if itemno in charge_items(pair):
            log.debug("charge item (mapping.order_charges): not a store product", extra={"item": itemno})
            return []
        sku = pair.mapping.items.number_rule.to_store(itemno)
        if row.table != inventory.TABLE:
            product = products.product(entity, pair, sku, itemno, row.metadata)
            return [product] if product is not None else []
        stock = pair.mapping.inventory
        location = stock.store_location(inventory.location_of(row.key))
        if location is None:
            log.info("iciloc location not mapped to a store location; ignored", extra={"row_key": row.key})
            return []
        return [inventory.level(entity, stock, location, sku, itemno, row.metadata)]

    def _customer(self, entity: Entity, row: Row, pair: PairConfig, event: Event) -> list[Output]:
        out = customers.customer(row, pair)
        return [out] if out is not None else []

    def _order(self, entity: Entity, row: Row, pair: PairConfig, event: Event) -> list[Output]:
        if row.deleted:
            log.info("SOMAST row deleted in Sage Pro: nothing to tell the store", extra={"row_key": row.key})
            return []
        status = order_status.order_status(entity, pair, event, row.metadata)
        shipment = shipments.shipment(entity, pair, event, row.metadata)
        return [out for out in (status, shipment) if out is not None]
