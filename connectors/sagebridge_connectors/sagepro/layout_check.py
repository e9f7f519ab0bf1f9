"""At start: the live tables against the layout, through ODBC SQLColumns (`cursor.columns`).

Why at start: Sage publishes no data dictionary for Sage Pro (reference sage300_sagepro.md §3, §5),
so every table and column name the template holds is a default some site will have different. A
writer that found out on the first order would dead-letter it, or, worse, the VFP driver would
cut a value silently. So before the first write every table and column the layout names is read
from the database, and the first difference stops the writer with one message: the table.column,
what the database has, what the layout says, and the erp.layout key to correct.

What drivers report (measured): psqlODBC gives type_name `bpchar` with column_size 10 for CHAR(10),
`numeric` with column_size / decimal_digits = precision / scale; sqlite3odbc gives the declared
type (`CHAR(10)`, `NUMERIC(12,2)`) with a wrong column_size for numerics (the scale) and
decimal_digits 10, so a "(p,s)" in type_name wins over the size columns. The Visual FoxPro driver
reports char / numeric / date / logical / integer names (documented in its SQLColumns
type list; not verified on a live driver here).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from sagebridge_common.errors import StartRefused

from .layout import ColumnSpec, Layout

FAMILIES = {"char": {"char", "bpchar", "character", "nchar"},
            "numeric": {"numeric", "decimal"},
            "integer": {"integer", "int", "int2", "int4", "int8", "smallint", "bigint"},
            "date": {"date"},
            "logical": {"bool", "boolean", "bit", "logical"}}
SIZE = re.compile(r"\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)")


class LayoutMismatch(StartRefused):
    """The live tables differ from erp.layout: the writer refuses to start."""

    reason = "sagepro_layout_mismatch"


@dataclass(frozen=True)
class LiveColumn:
    name: str
    family: str | None          # one of FAMILIES, None when unknown
    type_name: str
    width: int | None
    scale: int | None

    def shown(self) -> str:
        if self.family == "numeric":
            return f"{self.type_name}({self.width},{self.scale or 0})"
        return f"{self.type_name}({self.width})" if self.family == "char" else self.type_name


def live_column(row: Any) -> LiveColumn:
    """One SQLColumns row -> name, type family, width, scale (type_name's "(p,s)" first)."""
    raw = str(row.type_name or "")
    base = raw.split("(")[0].strip().lower()
    family = next((f for f, names in FAMILIES.items() if base in names), None)
    width, scale = row.column_size, row.decimal_digits
    sized = SIZE.search(raw)
    if sized:
        width, scale = int(sized.group(1)), int(sized.group(2) or 0)
    return LiveColumn(str(row.column_name).lower(), family, base or raw, width, scale)


def read_table(cursor: Any, name: str) -> dict[str, LiveColumn] | None:
    """The table's columns by lower-case name; None when no such table (names tried as written,
    lower and upper case: catalogs differ in how they fold them)."""
    for candidate in dict.fromkeys((name, name.lower(), name.upper())):
        rows = list(cursor.columns(table=candidate))
        if rows:
            return {c.name: c for c in map(live_column, rows)}
    return None


def difference(spec: ColumnSpec, live: LiveColumn, dialect: str) -> str | None:
    """What differs between the layout's column and the live one (None: nothing)."""
    if spec.type == "logical" and dialect == "sqlite" and live.family == "integer":
        return None                           # the test engine keeps logicals as 0/1 integers
    if live.family != spec.type:
        return "type"
    if spec.type == "char" and live.width != spec.width:
        return "width"
    if spec.type == "numeric" and (live.width, live.scale or 0) != (spec.width, spec.scale):
        return "precision/scale"
    return None


def _wanted(spec: ColumnSpec) -> str:
    if spec.type == "numeric":
        return f"numeric({spec.width},{spec.scale})"
    return f"char({spec.width})" if spec.type == "char" else spec.type


def _checks(layout: Layout, company: str) -> Iterable[tuple[str, str, str, ColumnSpec | None, str]]:
    """(physical table, its erp.layout key, column, spec, the column's key) for everything named."""
    for logical, table in layout.tables.items():
        for field, spec in table.columns.items():
            yield (table.physical(company), f"erp.layout.tables.{logical}.name", spec.column, spec,
                   f"erp.layout.tables.{logical}.columns.{field}")
    n = layout.numbering
    yield n.physical(company), "erp.layout.numbering.table", n.column, None, "erp.layout.numbering.column"
    for col in n.where:
        yield n.physical(company), "erp.layout.numbering.table", col, None, f"erp.layout.numbering.where.{col}"


def check_layout(cursor: Any, layout: Layout, company: str, dialect: str) -> None:
    """Raises LayoutMismatch naming the first table or column that differs."""
    tables: dict[str, dict[str, LiveColumn] | None] = {}
    for table, table_key, column, spec, key in _checks(layout, company):
        if table not in tables:
            tables[table] = read_table(cursor, table)
        live_table = tables[table]
        if live_table is None:
            raise LayoutMismatch(f"Sage Pro layout: table {table} does not exist in the database "
                                 f"(the layout names it); correct {table_key} or erp.company")
        live = live_table.get(column.lower())
        if live is None:
            raise LayoutMismatch(f"Sage Pro layout: column {table}.{column} does not exist in the database "
                                 f"(it has {', '.join(sorted(live_table))}); correct {key}")
        if spec is None:
            continue
        what = difference(spec, live, dialect)
        if what:
            raise LayoutMismatch(f"Sage Pro layout: column {table}.{column} differs in {what}: the database has "
                                 f"{live.shown()}, the layout says {_wanted(spec)}; correct {key}")
