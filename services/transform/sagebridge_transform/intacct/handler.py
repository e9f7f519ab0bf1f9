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

from sagebridge_common.errors import PermanentError
from sagebridge_common.events import Event, Output
from sagebridge_common.keyed_state import KeyedState
from sagebridge_common.pairs import PairConfig

from ..sage300.row_state import Entity, EntityStore
from ..sage300.rows import Row
from . import inventory, order_status, products, shipments
from .rows import parse

log = logging.getLogger(__name__)
ERP = "intacct"
KINDS = {"ITEM": "item", "ITEMWAREHOUSEINFO": "item", "SODOCUMENT": "order", "SHIPPER": "shipment"}


class IntacctTransform:
    def __init__(self, pairs: dict[str, PairConfig], state: KeyedState) -> None:
        self.pairs = pairs
        self.store = EntityStore(state)

    def __call__(self, event: Event) -> list[Output]:
        raw = event.value
        if not event.schema.endswith(".RawErpChange"):
            raise PermanentError(f"transform cannot handle {event.schema} on {event.topic}", reason="unexpected_schema")
        if raw.get("erp") != ERP:
            raise PermanentError(f"not an Intacct record (erp {raw.get('erp')!r})", reason="unsupported_erp")
        pair = self._pair_of(raw)
        kind = KINDS.get(str(raw.get("table") or "").upper())
        if kind is None:
            log.info("erp table not mapped; skipped", extra={"table": raw.get("table")})
            return []
        entity_id = (event.key or b"").decode() or raw["metadata"]["source_entity_id"]
        row = parse(raw, entity_id)
        entity = self.store.load(event, f"{pair.pair}/{kind}/{entity_id}")
        if not self.store.gate(entity, row, event):
            return []
        entity.put(row, event.offset)
        outputs = getattr(self, "_" + kind)(entity, row, pair, event)
        return outputs + [self.store.save(event, entity)]      # state write last: nothing after it can raise

    def _pair_of(self, raw: dict) -> PairConfig:
        pair_id = raw["metadata"]["pair_id"]
        pair = self.pairs.get(pair_id)
        if pair is None:
            raise PermanentError(f"no pair file defines pair {pair_id!r} (served: {', '.join(sorted(self.pairs))})",
                                 reason="unknown_pair")
        if pair.erp.kind != ERP:
            raise PermanentError(f"event from ERP {ERP}, but pair {pair_id!r} is a {pair.erp.kind} pair",
                                 reason="erp_mismatch")
        return pair

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
