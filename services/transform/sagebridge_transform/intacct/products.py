"""An ITEM record -> `erp.products.v1` (v2 Product), the whole product each time it changes.

- sku: ITEMID through the pair's `mapping.items` rule backwards (`to_store`; `as_is`: the same).
- name: NAME (else the SKU); description: EXTENDED_DESCRIPTION when `catalogue.sync_description`
  (blank or false: null, the store's own text is left alone).
- price: BASEPRICE (decimal text, scale 4); blank: null (the store price is left alone).
- active: STATUS == active (Intacct's values are active / inactive).
- categories: [the store name of PRODUCTLINEID] when `catalogue.categories` maps it, else [].
Intacct has no item delete in capture (an item is made inactive instead), so `deleted` is false.
The pair's charge items (`mapping.order_charges` line codes: FRT, HAND, MISC) are Intacct items the
hub writes on orders, not store products: none is emitted for them.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sagebridge_common.events import Output, derived_metadata
from sagebridge_common.pairs import PairConfig
from sagebridge_common.topics import PRODUCTS

from ..sage300.row_state import Entity
from ..sage300.rows import dec, text

SCHEMA = "sagebridge.v2.Product"
TABLE = "ITEM"
FOUR = Decimal("0.0001")


def charge_items(pair: PairConfig) -> set[str]:
    """Checked by the handler before an item's product or stock is computed."""
    charges = pair.mapping.order_charges
    return {r.code for r in (charges.rule(k) for k in ("shipping", "handling", "discount", "surcharge"))
            if r.placement == "line" and r.code}


def product(entity: Entity, pair: PairConfig, sku: str, parent: dict[str, Any]) -> Output | None:
    item = entity.one(TABLE)
    if item is None:
        return None
    itemid = text(item, "ITEMID") or sku
    catalogue = pair.mapping.catalogue
    line = text(item, "PRODUCTLINEID")
    mapped = catalogue.categories.get(line) if line else None
    price = text(item, "BASEPRICE")
    value = {"metadata": derived_metadata(parent, "product.changed"), "sku": sku, "name": text(item, "NAME") or sku,
             "description": text(item, "EXTENDED_DESCRIPTION") if catalogue.sync_description else None,
             "price": dec(item, "BASEPRICE", f"ITEM {itemid}").quantize(FOUR, ROUND_HALF_UP) if price else None,
             "currency": pair.currency, "active": (text(item, "STATUS") or "").lower() == "active",
             "weight": None, "categories": [mapped] if mapped else [], "erp_item": itemid, "erp_category": line,
             "create_missing_categories": catalogue.create_missing_categories, "deleted": False,
             "source_version": entity.version(entity.positions(TABLE))}
    return Output(PRODUCTS, sku, SCHEMA, value)
