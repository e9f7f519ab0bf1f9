"""ICITEM + ICPRICP rows of one item -> `erp.products.v1` (v2 Product), the whole product each time.

Both tables are kept per item in keyed state (same Kafka key: the ITEMNO), so a price change emits
the product with its current text and flags, and an item change emits it with its current price.
- name and description: ICITEM DESC ("Description", 60 characters in Sage). The writer writes the
  description; with `catalogue.sync_description: false` it is null and the store's own long
  description is left alone.
- price: the ICPRICP rows of the pair's price list and currency (erp_cdc captures only those, the
  filter is repeated here); `base` takes DPRICETYPE 1, `sale` takes DPRICETYPE 2 when the change
  date is inside SALESTART..SALEEND (0 = open end), else the base price. Among several units the
  row in ICITEM's STOCKUNIT wins, else the first by key. No row: price null (left alone).
  The sale window is evaluated at the raw change's date: a sale that starts later with no Sage
  change on that day is not picked up until the item or its price changes again.
- active: not INACTIVE, and ALLOWONWEB unless `catalogue.disable_when_not_on_web` is false.
- categories: [the store name of the ICITEM CATEGORY] when the pair maps it, else [].
- An ICITEM delete: the product with deleted=true, active=false (its last known values).
"""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sagebridge_common.events import Output, derived_metadata
from sagebridge_common.pairs import PairConfig
from sagebridge_common.topics import PRODUCTS

from .row_state import Entity
from .rows import dec, integer, text

SCHEMA = "sagebridge.v2.Product"
BASE, SALE = 1, 2
FOUR = Decimal("0.0001")


def _sale_applies(values: dict[str, Any], on: date) -> bool:
    today = on.year * 10000 + on.month * 100 + on.day
    start, end = integer(values, "SALESTART"), integer(values, "SALEEND")
    return (not start or start <= today) and (not end or today <= end)


def price(entity: Entity, pair: PairConfig, stock_unit: str | None, on: date) -> Decimal | None:
    """The store price from the item's kept ICPRICP rows, per the pair's price list and type."""
    prices = pair.mapping.prices
    rows = [v for v in entity.live("ICPRICP").values()
            if text(v, "CURRENCY") == pair.currency and text(v, "PRICELIST") == prices.price_list]

    def best(kind: int) -> dict[str, Any] | None:
        of_kind = [v for v in rows if integer(v, "DPRICETYPE") == kind]
        in_unit = [v for v in of_kind if stock_unit and text(v, "QTYUNIT") == stock_unit]
        return (in_unit or of_kind or [None])[0]

    chosen = None
    if prices.price_type == "sale":
        sale = best(SALE)
        chosen = sale if sale is not None and _sale_applies(sale, on) else None
    chosen = chosen or best(BASE)
    return None if chosen is None else dec(chosen, "UNITPRICE").quantize(FOUR, ROUND_HALF_UP)


def is_active(item: dict[str, Any], pair: PairConfig) -> bool:
    if integer(item, "INACTIVE") == 1:
        return False
    return not (pair.mapping.catalogue.disable_when_not_on_web and integer(item, "ALLOWONWEB") == 0)


def product(entity: Entity, pair: PairConfig, sku: str, itemno: str, parent: dict[str, Any]) -> Output | None:
    """The Product of the item, or None while its ICITEM row has never been seen."""
    item = entity.one("ICITEM")
    deleted = item is None
    values = item if item is not None else entity.last_values("ICITEM")
    if values is None:
        return None
    catalogue = pair.mapping.catalogue
    category = text(values, "CATEGORY")
    mapped = catalogue.categories.get(category) if category else None
    occurred = parent["occurred_at"]
    value = {"metadata": derived_metadata(parent, "product.deleted" if deleted else "product.changed"),
             "sku": sku, "name": text(values, "DESC") or sku,
             "description": (text(values, "DESC") or None) if catalogue.sync_description else None,
             "price": price(entity, pair, text(values, "STOCKUNIT"), occurred.date()),
             "currency": pair.currency, "active": False if deleted else is_active(values, pair),
             "weight": dec(values, "UNITWGT").quantize(FOUR) if values.get("UNITWGT") is not None else None,
             "categories": [mapped] if mapped else [], "erp_item": itemno, "erp_category": category,
             "create_missing_categories": catalogue.create_missing_categories, "deleted": deleted,
             "source_version": entity.version(entity.positions("ICITEM") + entity.positions("ICPRICP"))}
    return Output(PRODUCTS, sku, SCHEMA, value)
