"""ICILOC rows of one item -> `erp.inventory.v1` (v2 InventoryLevel), one per store location.

Sage Pro keeps one row per item and location (iciloc: `item`, `loctid`, `on_hand`, `committed`
in the layout's logical names; reference sage300_sagepro.md §3 names lonhand, the committed
column is a layout default a site may correct). Quantities are Decimal from the captured text:
available = on_hand - committed (a layout without `committed`: 0), and `mapping.inventory.quantity`
picks what the store shows (the shared `sage300.inventory.level_event`).

The pair maps loctid -> store location (`mapping.inventory.locations`; locations not listed are
ignored); several on one store location are summed (`combine: sum`) or the first listed with a row
is picked (`pick`). Every location row of the item is kept in keyed state, so a change at one
location re-emits its store location from all of them. A deleted ICILOC row means the location
holds nothing: it drops out of the sum (a store location with no row left shows 0), as in the
Sage 300 transform. as_of: the newest read time among the store location's kept rows;
source_version: the entity's version over them (`row_state.Entity.version`), tombstones included,
so a delete's level never looks older than the one it replaces.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sagebridge_common.events import Output
from sagebridge_common.pair_mapping_erp import InventoryMapping

from ..sage300.inventory import level_event, location_of
from ..sage300.row_state import Entity
from ..sage300.rows import dec

TABLE = "ICILOC"


def level(entity: Entity, mapping: InventoryMapping, store_location: str, sku: str, itemno: str,
          parent: dict[str, Any]) -> Output:
    """The InventoryLevel of one SKU at one store location, from the item's kept ICILOC rows."""
    locations = mapping.sage_locations(store_location)
    kept = {k: v for k, v in entity.rows(TABLE).items() if location_of(k) in locations}
    live = {location_of(k): v for k, v in entity.live(TABLE).items()}
    rows = [(loc, live[loc]) for loc in locations if loc in live]
    rows = rows[:1] if mapping.combine == "pick" else rows
    on_hand = sum((dec(v, "on_hand", f"{TABLE} {itemno}|{loc}") for loc, v in rows), Decimal(0))
    committed = sum((dec(v, "committed", f"{TABLE} {itemno}|{loc}") for loc, v in rows), Decimal(0))
    return level_event(parent, mapping, sku, store_location, itemno, on_hand, committed, kept,
                       [loc for loc, _v in rows], entity.version(v["position"] for v in kept.values()))
