"""Transform of `erp.raw.v1` for Sage 300: a raw row -> the canonical ERP-origin events it changes.

Routes by table to the entity the row belongs to (the Kafka key is the entity key, see
row_state): ICITEM / ICILOC / ICPRICP -> the item (products, inventory), ARCUS -> the customer,
OEORDH / OEORDH1 -> the order (order status), OESHIH / OESHID -> the shipment. The row is kept in
the entity's keyed state first (older or equal positions dropped), then the entity's events are
computed from everything kept, so the events do not depend on the order detail and header rows
arrive in. Every output carries `source_version` and metadata derived from the raw event's
(source_system sage300, pair id, occurred_at, correlation id). Pure apart from keyed state.
"""
from __future__ import annotations

import logging

from sagebridge_common.events import Event, Output
from sagebridge_common.pairs import PairConfig

from ..erp_rows import ErpRowTransform
from . import customers, inventory, order_status, products, shipments
from .row_state import Entity
from .rows import Row, parse, text
from .skus import sku_of_item

log = logging.getLogger(__name__)
ERP = "sage300"
KINDS = {"ICITEM": "item", "ICILOC": "item", "ICPRICP": "item", "ARCUS": "customer",
         "OEORDH": "order", "OEORDH1": "order", "OESHIH": "shipment", "OESHID": "shipment"}


class Sage300Transform(ErpRowTransform):
    erp = ERP
    kinds = KINDS
    parse_row = staticmethod(parse)

    def _item(self, entity: Entity, row: Row, pair: PairConfig, event: Event) -> list[Output]:
        itemno = row.entity
        item = entity.last_values("ICITEM")
        sku = sku_of_item(pair.mapping.items.number_rule, itemno, text(item, "FMTITEMNO") if item else None)
        if sku is None:
            log.info("item not seen in ICITEM yet: its SKU is not known, row kept", extra={
                "table": row.table, "row_key": row.key})
            return []
        outputs: list[Output] = []
        if row.table in ("ICITEM", "ICPRICP"):
            product = products.product(entity, pair, sku, itemno, row.metadata)
            outputs += [product] if product is not None else []
        stock = pair.mapping.inventory
        if row.table == "ICILOC":
            outputs += inventory.levels(entity, stock, inventory.store_locations_of(row, stock), sku, itemno,
                                        row.metadata)
        elif self._sku_is_new(entity, sku, event):       # levels kept while the SKU was unknown (or changed)
            outputs += inventory.levels(entity, stock, inventory.known_store_locations(entity, stock), sku, itemno,
                                        row.metadata)
        return outputs

    @staticmethod
    def _sku_is_new(entity: Entity, sku: str, event: Event) -> bool:
        memory = entity.extra("sku") or {}
        before = memory.get("before") if memory.get("offset") == event.offset else memory.get("sku")
        if before != sku:
            entity.set_extra("sku", {"sku": sku, "before": before, "offset": event.offset})
        return before != sku

    def _customer(self, entity: Entity, row: Row, pair: PairConfig, event: Event) -> list[Output]:
        out = customers.customer(row, pair)
        return [out] if out is not None else []

    def _order(self, entity: Entity, row: Row, pair: PairConfig, event: Event) -> list[Output]:
        out = order_status.order_status(entity, pair, event, row.metadata)
        return [out] if out is not None else []

    def _shipment(self, entity: Entity, row: Row, pair: PairConfig, event: Event) -> list[Output]:
        out = shipments.shipment(entity, pair, row.metadata)
        return [out] if out is not None else []
