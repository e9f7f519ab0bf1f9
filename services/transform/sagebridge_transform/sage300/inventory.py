"""ICILOC rows of one item -> `erp.inventory.v1` (v2 InventoryLevel), one per store location.

Reference §2.2: QTYONHAND is the quantity on hand as of the last Day End; receipts, adjustments and
shipments since then sit in QTYRENOCST / QTYADNOCST / QTYSHNOCST until costed, so the live on-hand
is QTYONHAND + QTYRENOCST + QTYADNOCST - QTYSHNOCST, and available is live on-hand - QTYCOMMIT.
The pair maps Sage locations to store locations (`mapping.inventory.locations`); several Sage
locations on one store location are summed or the first listed that has the item is picked.

Every location row of the item is kept in keyed state, so a change of one location re-emits the
store location's whole sum. A deleted ICILOC row drops out of the sum (a store location with no
row left shows 0). `source_version` is the entity's version (`row_state.Entity.version`) over the
store location's rows, tombstones included: a delete is a newer state, and its level must not look
older than the one it replaces; a location row read one poll after a newer one (a transfer
between two locations committing while the poll pages) still makes a newer version.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Iterable

from sagebridge_common.events import Output, derived_metadata
from sagebridge_common.pair_mapping_erp import InventoryMapping
from sagebridge_common.topics import INVENTORY

from .row_state import Entity
from .rows import Row, dec

SCHEMA = "sagebridge.v2.InventoryLevel"
TABLE = "ICILOC"
FOUR = Decimal("0.0001")


def live_on_hand(values: dict[str, Any], where: str = "") -> Decimal:
    return (dec(values, "QTYONHAND", where) + dec(values, "QTYRENOCST", where) + dec(values, "QTYADNOCST", where)
            - dec(values, "QTYSHNOCST", where))


def location_of(row_key: str) -> str:
    """ICILOC key "ITEMNO|LOCATION" -> LOCATION."""
    return row_key.rpartition("|")[2]


def store_locations_of(row: Row, mapping: InventoryMapping) -> list[str]:
    """The store location an ICILOC row feeds ([] when its Sage location is not mapped)."""
    store = mapping.store_location(location_of(row.key))
    return [store] if store is not None else []


def _contributing(mapping: InventoryMapping, store_location: str,
                  live: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    by_location = {location_of(k): v for k, v in live.items()}
    present = [(s, by_location[s]) for s in mapping.sage_locations(store_location) if s in by_location]
    return present[:1] if mapping.combine == "pick" else present


def level(entity: Entity, mapping: InventoryMapping, store_location: str, sku: str, itemno: str,
          parent: dict[str, Any]) -> Output:
    """The InventoryLevel of one SKU at one store location, from the item's kept ICILOC rows."""
    sage_locations = set(mapping.sage_locations(store_location))
    kept = {k: v for k, v in entity.rows(TABLE).items() if location_of(k) in sage_locations}
    rows = _contributing(mapping, store_location, entity.live(TABLE))
    on_hand = sum((live_on_hand(v, f"ICILOC {itemno}|{s}") for s, v in rows), Decimal(0))
    committed = sum((dec(v, "QTYCOMMIT") for _s, v in rows), Decimal(0))
    return level_event(parent, mapping, sku, store_location, itemno, on_hand, committed, kept,
                       [loc for loc, _v in rows], entity.version(v["position"] for v in kept.values()))


def level_event(parent: dict, mapping: InventoryMapping, sku: str, store_location: str, erp_item: str,
                on_hand: Decimal, committed: Decimal, kept: dict, erp_locations: list[str],
                source_version: str) -> Output:
    """The InventoryLevel output from the summed quantities (shared by every ERP's transform):
    available = on hand - committed; `mapping.quantity` picks what the store shows; as_of is the
    newest change time of the kept rows, `source_version` the entity's version over them."""
    available = on_hand - committed
    quantity = available if mapping.quantity == "available" else on_hand
    as_of = max((v["at"] for v in kept.values()), default=None)
    value = {"metadata": derived_metadata(parent, "inventory.changed"), "sku": sku, "location": store_location,
             "on_hand": on_hand.quantize(FOUR), "committed": committed.quantize(FOUR),
             "available": available.quantize(FOUR), "quantity": quantity.quantize(FOUR),
             "as_of": datetime.fromisoformat(as_of) if as_of else parent["occurred_at"], "erp_item": erp_item,
             "erp_locations": erp_locations,
             "source_version": source_version}
    return Output(INVENTORY, f"{sku}|{store_location}", SCHEMA, value)


def levels(entity: Entity, mapping: InventoryMapping, store_locations: Iterable[str], sku: str, itemno: str,
           parent: dict[str, Any]) -> list[Output]:
    return [level(entity, mapping, loc, sku, itemno, parent) for loc in dict.fromkeys(store_locations)]


def known_store_locations(entity: Entity, mapping: InventoryMapping) -> list[str]:
    """Store locations fed by any kept ICILOC row of the item (when the SKU becomes known)."""
    found = [mapping.store_location(location_of(k)) for k in entity.rows(TABLE)]
    return [s for s in dict.fromkeys(found) if s is not None]
