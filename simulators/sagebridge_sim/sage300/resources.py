"""A Sage 300 table exposed as an OData entity set: properties mapped to columns, entries built from rows.

Why one generic shape: the Web API is built on the same models as the web screens (Stephen Smith,
"Sage 300c Web Services"), every resource is a view over its tables with named properties; the
simulator mirrors that so a property reads and filters the same way in every resource.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .conversions import STR, Conv, TrimmedText
from .db import SCHEMA, Containing, Sage300Database


@dataclass(frozen=True)
class Prop:
    api: str
    col: str
    conv: Conv = STR
    table: str = ""  # "" = the resource's main table


@dataclass
class Resource:
    """A table exposed as an OData entity set. Entries are built from rows by the props list."""
    module: str
    name: str
    table: str
    props: list[Prop]
    key: str
    writable: set[str] = field(default_factory=set)
    expansions: frozenset[str] = frozenset()   # detail arrays a GET attaches (also valid in $select)

    @property
    def key_prop(self) -> Prop:
        return next(p for p in self.props if p.api == self.key)

    @property
    def key_props(self) -> list[Prop]:
        """The key's properties; a composite key is written "A,B" (e.g. "BatchRecordType,BatchNumber")."""
        return [next(p for p in self.props if p.api == name) for name in self.key.split(",")]

    @property
    def filter_props(self) -> list[str]:
        return [p.api for p in self.props]

    def entry(self, rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
        return {p.api: p.conv.to_api(rows[p.table or self.table][p.col]) for p in self.props}

    def sql_prefilter(self, terms: dict[str, str]) -> dict[str, str]:
        """Filter equality terms on main-table text columns -> column equality for SQL."""
        out = {}
        for p in self.props:
            if p.api in terms and not p.table and type(p.conv) is Conv:
                out[p.col] = terms[p.api]
        return out

    def trimmed_prefilter(self, alternatives: dict[str, list[str]]) -> dict[str, Containing]:
        """Trimmed text columns (compared trimmed, so no SQL equality) -> "contains one of" for SQL:
        without it every `Email eq` lookup converts every A/R customer row in Python. A backslash
        is PostgreSQL's LIKE escape, so such a text is not pushed down."""
        out = {}
        for p in self.props:
            texts = alternatives.get(p.api)
            if texts and not p.table and isinstance(p.conv, TrimmedText) and not any("\\" in t for t in texts):
                out[p.col] = Containing(tuple(texts))
        return out

    def load(self, db: Sage300Database, where: dict[str, Any] | None) -> list[dict[str, Any]]:
        return [self.entry({self.table: row}) for row in db.select(self.table, where)]

    def expand(self, db: Sage300Database, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return entries

    def row_from_payload(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Writable properties -> main-table columns, validated by type and column size."""
        row = {}
        table = SCHEMA[self.table]
        for p in self.props:
            if p.api in payload and p.api in self.writable and not p.table:
                col = table.col(p.col)
                row[p.col] = p.conv.from_api(p.api, payload[p.api], col.size, col.scale)
        return row
