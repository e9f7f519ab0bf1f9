"""CREATE TABLE statements for the Sage Pro tables, built from a `Layout` (the connector's template).

Why from the layout: the tables the tests write and read are exactly the ones the template
describes, and a test that needs a site whose table differs (a wider ponum, a missing column)
builds it from a layout with that override; the writer must then refuse to start naming it.

Types as Visual FoxPro declares them (char(n), numeric(p,s), date, logical, integer), spelled for
the engine at hand: PostgreSQL (psqlODBC) and SQLite (sqlite3odbc) both take char/numeric/date;
logical is boolean on PostgreSQL and an integer 0/1 on SQLite. No keys or unique indexes beyond
what Sage Pro has (none documented): the writer's guard, not a constraint, keeps orders single.
"""
from __future__ import annotations

from typing import Any

from sagebridge_connectors.sagepro.layout import ColumnSpec, Layout, load_layout

ENGINES = ("postgres", "sqlite")


def column_type(spec: ColumnSpec, engine: str) -> str:
    if spec.type == "char":
        return f"CHAR({spec.width})"
    if spec.type == "numeric":
        return f"NUMERIC({spec.width},{spec.scale})"
    if spec.type == "integer":
        return "INTEGER"
    if spec.type == "date":
        return "DATE"
    return "BOOLEAN" if engine == "postgres" else "INTEGER"      # logical


def _columns(layout_table) -> list[tuple[str, ColumnSpec]]:
    seen: dict[str, ColumnSpec] = {}
    for spec in layout_table.columns.values():
        seen.setdefault(spec.column, spec)       # two logical fields may share a column
    return list(seen.items())


def create_statements(layout: Layout, company: str, engine: str = "postgres") -> list[str]:
    """DDL for every table of `layout` plus the numbering table with its one row's column."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r} (known: {', '.join(ENGINES)})")
    out = []
    for table in layout.tables.values():
        cols = ", ".join(f"{name} {column_type(spec, engine)}" for name, spec in _columns(table))
        out.append(f"CREATE TABLE {table.physical(company)} ({cols})")
        key_cols = ", ".join(table.columns[f].column for f in table.key)
        out.append(f"CREATE INDEX {table.physical(company)}_key ON {table.physical(company)} ({key_cols})")
    n = layout.numbering
    number_type = f"CHAR({n.width})" if n.type == "char" else f"NUMERIC({n.width},0)"
    where_cols = "".join(f", {c} CHAR(20)" for c in n.where)
    out.append(f"CREATE TABLE {n.physical(company)} ({n.column} {number_type}{where_cols})")
    return out


def create_schema(conn: Any, *, company: str = "01", engine: str = "postgres", layout: Layout | None = None,
                  first_number: int = 1000) -> None:
    """Creates the tables on a DB-API connection and the numbering row holding `first_number`
    (the last number used: the first order gets first_number + 1)."""
    layout = layout or load_layout()
    cur = conn.cursor()
    for sql in create_statements(layout, company, engine):
        cur.execute(sql)
    n = layout.numbering
    value: Any = n.format(first_number) if n.type == "char" else first_number
    cols = [n.column] + list(n.where)
    marks = ", ".join("?" for _ in cols)
    cur.execute(f"INSERT INTO {n.physical(company)} ({', '.join(cols)}) VALUES ({marks})",
                [value] + list(n.where.values()))
    conn.commit()
