"""ITEMWAREHOUSEINFO records of one item -> `erp.inventory.v1` (v2 InventoryLevel), one per store location.

The pair maps Intacct warehouses to store locations (`mapping.inventory.locations`: WAREHOUSEID ->
store location; warehouses not listed are ignored). Every warehouse record of the item is kept in
keyed state (they share the item's Kafka key, ITEMID), so a change at one warehouse re-emits its
store location from all of them: `combine: sum` adds the mapped warehouses, `pick` takes the first
listed that has a record for the item.
- on_hand: the config's `change_capture.on_hand_field` (QTYONHAND; the name is not confirmed by
  Sage, intacct.md §6); committed: `on_hold_field` (QTYONHOLD; unset: 0);
  available = on_hand - on hold; quantity = available or on_hand per `inventory.quantity`.
- as_of: the newest change time among the store location's records; source_version: the entity's
  version over them (`row_state.Entity.version`).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sagebridge_common.events import Output
from sagebridge_common.pairs import PairConfig

from ..sage300.inventory import level_event
from ..sage300.row_state import Entity
from ..sage300.rows import Row, dec
from .rows import capture_config

TABLE = "ITEMWAREHOUSEINFO"


def warehouse_of(row_key: str) -> str:
    """Key "ITEMID|WAREHOUSEID" -> WAREHOUSEID."""
    return row_key.rpartition("|")[2]


def store_location_of(row: Row, pair: PairConfig) -> str | None:
    return pair.mapping.inventory.store_location(warehouse_of(row.key))


def level(entity: Entity, pair: PairConfig, store_location: str, sku: str, itemid: str,
          parent: dict[str, Any]) -> Output:
    cc = capture_config(pair)
    mapping = pair.mapping.inventory
    warehouses = mapping.sage_locations(store_location)
    kept = {warehouse_of(k): v for k, v in entity.rows(TABLE).items() if warehouse_of(k) in warehouses}
    live = {warehouse_of(k): v for k, v in entity.live(TABLE).items()}
    rows = [(w, live[w]) for w in warehouses if w in live]
    rows = rows[:1] if mapping.combine == "pick" else rows
    where = f"{TABLE} {itemid}"
    on_hand = sum((dec(v, cc.on_hand_field, where) for _w, v in rows), Decimal(0))
    on_hold = sum((dec(v, cc.on_hold_field, where) for _w, v in rows), Decimal(0)) if cc.on_hold_field else Decimal(0)
    return level_event(parent, mapping, sku, store_location, itemid, on_hand, on_hold, kept, [w for w, _v in rows],
                       entity.version(v["position"] for v in kept.values()))
