"""ICITEM + ICPRIC rows of one item -> `erp.products.v1` (v2 Product), the whole product each time.

Both tables are kept per item in keyed state (same Kafka key: the item number), so a price change
emits the product with its current text and flags, and an item change with its current price.
Fields are the layout's logical ones (`item`, `descrip`, `category`, `price`, `status`, `weight`;
icpric `pcode`, `price`):
- sku: the item number through the pair's `mapping.items` rule backwards (`to_store`). Sage Pro
  keeps one item number (no formatted/unformatted pair as in Sage 300), so it is known at once.
- name: descrip (else the SKU); description: descrip when `catalogue.sync_description`, else null.
- price: the icpric row whose pcode is `mapping.prices.price_list`; no such row: the icitem price;
  neither field present: null (the store price is left alone). Sage Pro prices have no currency
  column: the pair's `currency`. `prices.price_type` (sale windows) has no Sage Pro column: not used.
- active: status other than "I" (inactive). Sage Pro has no "allow on web" flag, so
  `catalogue.disable_when_not_on_web` has nothing to read.
- categories: [the store name of the icitem category] when `catalogue.categories` maps it, else [].
- weight: the icitem weight (Decimal, scale 4), null when the layout has no weight field.
- An ICITEM delete: the product with deleted=true, active=false (its last known values), as the
  Sage 300 transform does.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sagebridge_common.events import Output, derived_metadata
from sagebridge_common.pairs import PairConfig
from sagebridge_common.topics import PRODUCTS

from ..sage300.products import SCHEMA
from ..sage300.row_state import Entity
from ..sage300.rows import dec, text

ITEM, PRICE = "ICITEM", "ICPRIC"
FOUR = Decimal("0.0001")
INACTIVE = "I"


def price(entity: Entity, pair: PairConfig, item: dict[str, Any], itemno: str) -> Decimal | None:
    """The store price: the kept icpric row of the pair's price list, else the icitem price."""
    price_list = pair.mapping.prices.price_list
    listed = [v for k, v in entity.live(PRICE).items() if (text(v, "pcode") or k.rpartition("|")[2]) == price_list]
    if listed:
        return dec(listed[0], "price", f"{PRICE} {itemno}|{price_list}").quantize(FOUR, ROUND_HALF_UP)
    if item.get("price") is None:
        return None
    return dec(item, "price", f"{ITEM} {itemno}").quantize(FOUR, ROUND_HALF_UP)


def product(entity: Entity, pair: PairConfig, sku: str, itemno: str, parent: dict[str, Any]) -> Output | None:
    """The Product of the item, or None while its ICITEM row has never been seen."""
    item = entity.one(ITEM)
    deleted = item is None
    values = item if item is not None else entity.last_values(ITEM)
    if values is None:
        return None
    catalogue = pair.mapping.catalogue
    category = text(values, "category")
    mapped = catalogue.categories.get(category) if category else None
    descrip = text(values, "descrip")
    where = f"{ITEM} {itemno}"
    value = {"metadata": derived_metadata(parent, "product.deleted" if deleted else "product.changed"),
             "sku": sku, "name": descrip or sku, "description": descrip if catalogue.sync_description else None,
             "price": price(entity, pair, values, itemno), "currency": pair.currency,
             "active": not deleted and (text(values, "status") or "").upper() != INACTIVE,
             "weight": dec(values, "weight", where).quantize(FOUR) if values.get("weight") is not None else None,
             "categories": [mapped] if mapped else [], "erp_item": itemno, "erp_category": category,
             "create_missing_categories": catalogue.create_missing_categories, "deleted": deleted,
             "source_version": entity.version(entity.positions(ITEM) + entity.positions(PRICE))}
    return Output(PRODUCTS, sku, SCHEMA, value)
