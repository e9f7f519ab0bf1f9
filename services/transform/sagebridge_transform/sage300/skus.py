"""Sage item numbers -> store SKUs, through the pair's `mapping.items` rule (`ItemNumberRule.to_store`).

The rule reads *formatted* item numbers (what OE order lines carry and what the store-side
direction sends: SKU "WIDGET-1" is OE item "WIDGET-1" under `as_is`; SKU "A14000" is "A1-400/0"
under `formatted`). OESHID.ITEM holds the formatted number (reference §2.2, OEORDD/OESHID ITEM),
but ICILOC and ICPRICP key on the *unformatted* ITEMNO ("WIDGET1"), so the formatted number comes
from the item's ICITEM row (FMTITEMNO), which transform keeps in the item's keyed state.

When ICITEM has not been seen yet for an ITEMNO:
- rule `formatted`: the unformatted number is laid into the structure (`to_erp`), which is exactly
  FMTITEMNO when the number fits the structure; a number of the wrong length is PermanentError
  `sku_not_in_item_structure`.
- rules `as_is` and `table`: the formatted number cannot be guessed (separators are the item
  structure's), so no SKU yet: the row is kept in state and nothing is emitted for it; when the
  ICITEM row arrives (same Kafka key, same partition), the pending stock levels are emitted then.
"""
from __future__ import annotations

from sagebridge_common.item_numbers import ItemNumberRule


def sku_of_item(rule: ItemNumberRule, itemno: str, fmtitemno: str | None) -> str | None:
    """The store SKU of an unformatted ITEMNO; None while it cannot be known (see the module doc).
    PermanentError (`item_not_mapped`, `item_not_in_item_structure`) when the rule has no SKU for it."""
    if fmtitemno:
        return rule.to_store(fmtitemno)
    if rule.rule == "formatted":
        return rule.to_store(rule.to_erp(itemno))
    return None


def sku_of_line(rule: ItemNumberRule, item: str) -> str:
    """The store SKU of a formatted item number on an OE shipment line."""
    return rule.to_store(item)
