"""Store SKU <-> ERP item number, by the pair file's `mapping.items` rule, in both directions.

Sage 300 keeps an item's *unformatted* number (ICITEM.ITEMNO) and shows it through the item
structure (ICITEM.FMTITEMNO: segments joined by separators such as "-" or "/"); the Web API's
OE order lines take the formatted number. A store that holds the unformatted number as its SKU
needs the separators inserted; a store whose SKUs are unrelated needs a table. The ERP -> store
direction (stock and shipments, issue 7) applies the same rule backwards, so one module owns both.

Rules:
- `as_is`: the SKU is the item number.
- `formatted`: the structure is a pattern where `X` stands for one character of the unformatted
  number and anything else is a separator: SKU "A14000" with "XX-XXX/X" is "A1-400/0". A SKU
  with a different number of characters than the structure's `X`s cannot be placed:
  PermanentError `sku_not_in_item_structure`.
- `table`: a one-to-one SKU -> item number table; an unknown SKU is PermanentError `sku_not_mapped`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Mapping

from .errors import PermanentError

Rule = Literal["as_is", "formatted", "table"]
PLACEHOLDER = "X"


def check_structure(structure: str) -> str:
    """The structure itself, or ValueError when it has no character positions."""
    if PLACEHOLDER not in structure:
        raise ValueError(f"item structure {structure!r} has no {PLACEHOLDER} (one per character of the number)")
    if structure.startswith(PLACEHOLDER) is False or structure.endswith(PLACEHOLDER) is False:
        raise ValueError(f"item structure {structure!r} must start and end with {PLACEHOLDER} "
                         "(separators go between segments)")
    return structure


@dataclass(frozen=True)
class ItemNumberRule:
    rule: Rule = "as_is"
    structure: str | None = None
    table: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.rule == "formatted":
            if not self.structure:
                raise ValueError("rule formatted needs a structure, e.g. XX-XXX/X")
            check_structure(self.structure)
        if self.rule == "table":
            seen: dict[str, str] = {}
            for sku, item in self.table.items():
                if item in seen:
                    raise ValueError(f"table maps both {seen[item]!r} and {sku!r} to {item!r}; "
                                     "it must be one-to-one (the ERP -> store direction reads it backwards)")
                seen[item] = sku
            object.__setattr__(self, "_inverse", seen)

    @property
    def width(self) -> int:
        return (self.structure or "").count(PLACEHOLDER)

    def to_erp(self, sku: str) -> str:
        """The ERP item number of a store SKU."""
        if self.rule == "as_is":
            return sku
        if self.rule == "table":
            try:
                return self.table[sku]
            except KeyError:
                raise PermanentError(f"SKU {sku!r} is not in mapping.items.table",
                                     reason="sku_not_mapped") from None
        if len(sku) != self.width:
            raise PermanentError(f"SKU {sku!r} has {len(sku)} characters; item structure {self.structure!r} "
                                 f"takes {self.width}", reason="sku_not_in_item_structure")
        chars = iter(sku)
        return "".join(next(chars) if c == PLACEHOLDER else c for c in self.structure or "")

    def to_store(self, item_number: str) -> str:
        """The store SKU of an ERP item number (the rule backwards)."""
        if self.rule == "as_is":
            return item_number
        if self.rule == "table":
            try:
                return self._inverse[item_number]  # type: ignore[attr-defined]
            except KeyError:
                raise PermanentError(f"item number {item_number!r} is not in mapping.items.table",
                                     reason="item_not_mapped") from None
        structure = self.structure or ""
        fits = len(item_number) == len(structure) and all(
            c == PLACEHOLDER or item_number[i] == c for i, c in enumerate(structure))
        if not fits:
            raise PermanentError(f"item number {item_number!r} does not follow item structure {structure!r}",
                                 reason="item_not_in_item_structure")
        return "".join(ch for ch, c in zip(item_number, structure) if c == PLACEHOLDER)
