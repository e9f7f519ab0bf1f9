"""The Sage Pro table layout: which tables and columns the hub writes and reads, with their types,
widths and padding, as data a site can correct (`default_layout.yaml`, overridden key by key by the
pair file's `erp.layout`).

Why data and not code: Sage publishes no data dictionary for Sage Pro (reference
sage300_sagepro.md §3 "sources are thin", §5 "Could NOT confirm": the exact field names of iciloc and
sotran). Every name below is a default; the writer validates the live layout against it at start
(`layout_check.py`) and stops naming the first table or column that differs.

Logical field names (the keys of `columns`) are what the rest of the hub speaks: the writer fills
them, change capture emits them in `erp.raw.v1` (`after` keys), the transform reads them. Only the
physical `column` names, types and widths change from site to site.
"""
from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DEFAULT_LAYOUT_FILE = Path(__file__).with_name("default_layout.yaml")
IDENT = r"^[A-Za-z_][A-Za-z0-9_]*$"

# The logical fields each logical table must keep (a site may rename their columns, never drop them).
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "order_header": ("sono", "custno", "ordate", "ordamt"),
    "order_line": ("sono", "tranlineno", "item", "qtyord", "price"),
    "order_address": ("sono",),
    "customer": ("custno", "email", "name"),
    "item": ("item",),
    "item_location": ("item", "loctid", "on_hand"),
    "price": ("item", "pcode", "price"),
}
# Tables change capture can read (logical name -> the `table` value of its erp.raw.v1 records).
CAPTURE_TABLES: dict[str, str] = {"item_location": "ICILOC", "item": "ICITEM", "price": "ICPRIC",
                                  "customer": "ARCUST", "order_header": "SOMAST"}
# The logical field whose value keys a captured row's Kafka record (rows the transform combines
# share a partition: an item's ICITEM, ICILOC and ICPRIC rows by item).
ENTITY_FIELD: dict[str, str] = {"item_location": "item", "item": "item", "price": "item",
                                "customer": "custno", "order_header": "sono"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Strict):
    column: str = Field(pattern=IDENT, description="The column's name in the table.")
    type: Literal["char", "numeric", "integer", "date", "logical"]
    width: int | None = Field(None, ge=1, le=254, description="char: characters; numeric: precision.")
    scale: int = Field(0, ge=0, le=18)
    pad: Literal["right", "left"] = "right"
    fill: str = Field(" ", min_length=1, max_length=1)
    value: Any = Field(None, description="A constant written on insert instead of a mapped value.")

    @model_validator(mode="after")
    def _widths(self) -> "ColumnSpec":
        if self.type in ("char", "numeric") and self.width is None:
            raise ValueError(f"column {self.column}: a {self.type} column needs a width")
        if self.type == "numeric" and self.width is not None and self.scale >= self.width:
            raise ValueError(f"column {self.column}: scale {self.scale} must be below width {self.width}")
        return self

    def padded(self, text: str) -> str:
        """A char value as Sage Pro keeps it: left-padded ones right-aligned in the width."""
        return text.rjust(self.width or len(text), self.fill) if self.pad == "left" else text


class TableLayout(_Strict):
    name: str = Field(description="Physical table name; {co} = erp.company.")
    key: tuple[str, ...] = Field(min_length=1, description="Logical fields of the row key.")
    columns: dict[str, ColumnSpec]
    changed_since: str | None = Field(None, description=(
        "Change capture: a logical date field the site trusts to move on every edit (adddate/lckdate "
        "style); between full scans only rows with it on or after the last scan's date are read."))

    @model_validator(mode="after")
    def _key_is_known(self) -> "TableLayout":
        for f in self.key + ((self.changed_since,) if self.changed_since else ()):
            if f not in self.columns:
                raise ValueError(f"table {self.name}: {f!r} is not one of its columns")
        return self

    def physical(self, company: str) -> str:
        return self.name.replace("{co}", company)

    def column(self, field: str) -> ColumnSpec | None:
        return self.columns.get(field)


class Numbering(_Strict):
    table: str
    column: str = Field(pattern=IDENT)
    type: Literal["char", "numeric"] = "char"
    width: int = Field(10, ge=1, le=20)
    where: dict[str, str] = Field(default_factory=dict)
    prefix: str = ""
    pad: Literal["right", "left"] = "left"
    fill: str = Field(" ", min_length=1, max_length=1)

    @field_validator("where")
    @classmethod
    def _plain(cls, v: dict[str, str]) -> dict[str, str]:
        import re
        bad = [k for k in v if not re.match(IDENT, k)]
        if bad:
            raise ValueError(f"numbering.where: not a column name: {bad[0]!r}")
        return v

    def physical(self, company: str) -> str:
        return self.table.replace("{co}", company)

    def format(self, number: int) -> str:
        """The sales order number as Sage Pro writes it (sono char 10, left-padded)."""
        text = f"{self.prefix}{number}"
        if len(text) > self.width:
            raise ValueError(f"order number {text!r} is longer than {self.width} characters")
        return text.rjust(self.width, self.fill) if self.pad == "left" else text


class Layout(_Strict):
    guard: str = Field("ponum", description="order_header field holding the storefront reference.")
    numbering: Numbering
    tables: dict[str, TableLayout]

    @model_validator(mode="after")
    def _required(self) -> "Layout":
        for table, fields in REQUIRED_FIELDS.items():
            if table not in self.tables:
                raise ValueError(f"layout: table {table!r} is missing")
            missing = [f for f in fields if f not in self.tables[table].columns]
            if missing:
                raise ValueError(f"layout: {table} needs the field(s) {', '.join(missing)}")
        if self.guard not in self.tables["order_header"].columns:
            raise ValueError(f"layout: guard {self.guard!r} is not an order_header field")
        return self

    def table(self, logical: str) -> TableLayout:
        return self.tables[logical]


@lru_cache(maxsize=1)
def default_layout_data() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_LAYOUT_FILE.read_text())


def merge(base: Any, override: Any) -> Any:
    """`override` merged over `base` key by key; a None value removes the key."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return copy.deepcopy(override)
    out = copy.deepcopy(base)
    for k, v in override.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge(out.get(k), v) if k in out else copy.deepcopy(v)
    return out


def load_layout(overrides: dict[str, Any] | None = None) -> Layout:
    """The default layout with a pair file's `erp.layout` merged over it."""
    return Layout.model_validate(merge(default_layout_data(), overrides or {}))
