"""The Sage Pro company database as the simulator reaches it: the same kind of ODBC connection the
hub uses (pyodbc; PostgreSQL through psqlODBC or SQLite through sqlite3odbc), rows addressed by the
layout's logical table and field names, values converted by values.py.

Why one connection per operation: the simulator plays other Sage Pro users beside the hub, each
with its own connection and transaction, so what the hub sees (locks, commits) is what it would see
from a clerk's workstation. Sage Pro itself has no server process (reference sage300_sagepro.md §3:
VFP tables reached through ODBC); the database is the whole ERP here.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Mapping

import pyodbc

from sagebridge_connectors.sagepro.layout import ColumnSpec, Layout, TableLayout, load_layout

from ..sage300.db import connection_string_for
from .values import blank, char_forms, from_db, to_db

MAX_PARAMS = 900           # SQLite's old SQLITE_MAX_VARIABLE_NUMBER is 999: multi-row inserts stay below


def engine_of(connection_string: str) -> str:
    """postgres | sqlite, from the ODBC driver named in the connection string."""
    return "sqlite" if "sqlite" in connection_string.lower() else "postgres"


def columns_of(table: TableLayout) -> dict[str, ColumnSpec]:
    """Physical column -> its spec (two logical fields may share one column: the first one wins)."""
    seen: dict[str, ColumnSpec] = {}
    for spec in table.columns.values():
        seen.setdefault(spec.column, spec)
    return seen


class SageProDb:
    """`target`: an SQLite file path or an ODBC connection string; `company` gives the table suffix."""

    def __init__(self, target: str, *, company: str = "01", layout: Layout | None = None) -> None:
        self.connection_string = connection_string_for(target)
        self.engine = engine_of(self.connection_string)
        self.company = company
        self.layout = layout or load_layout()

    # -- connections ---------------------------------------------------------------------------
    def connect(self, autocommit: bool = False) -> pyodbc.Connection:
        return pyodbc.connect(self.connection_string, autocommit=autocommit, timeout=10)

    @contextmanager
    def transaction(self) -> Iterator[pyodbc.Cursor]:
        """One transaction on a connection of its own: committed on success, rolled back otherwise."""
        conn = self.connect()
        try:
            cur = conn.cursor()
            yield cur
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.close()

    # -- names -----------------------------------------------------------------------------------
    def table(self, logical: str) -> TableLayout:
        if logical not in self.layout.tables:
            raise KeyError(f"no table {logical!r} in the layout (known: {', '.join(self.layout.tables)})")
        return self.layout.tables[logical]

    def name(self, logical: str) -> str:
        if logical == "numbering":
            return self.layout.numbering.physical(self.company)
        return self.table(logical).physical(self.company)

    def spec(self, logical: str, field: str) -> ColumnSpec:
        spec = self.table(logical).column(field)
        if spec is None:
            raise KeyError(f"{self.name(logical)} has no field {field!r}")
        return spec

    # -- statements --------------------------------------------------------------------------------
    def _where(self, logical: str, where: Mapping[str, Any] | None) -> tuple[str, list[Any]]:
        parts, params = [], []
        for field, value in (where or {}).items():
            spec = self.spec(logical, field)
            if spec.type == "char":
                forms = char_forms(spec, str(value))
                parts.append(f"{spec.column} IN ({', '.join('?' for _ in forms)})")
                params += forms
            else:
                parts.append(f"{spec.column} = ?")
                params.append(to_db(spec, value, self.engine))
        return (" WHERE " + " AND ".join(parts)) if parts else "", params

    def select(self, cur: pyodbc.Cursor, logical: str, where: Mapping[str, Any] | None = None,
               raw: bool = False) -> list[dict[str, Any]]:
        """Rows as {logical field: value} in key order (`raw`: chars as stored, padding kept)."""
        table = self.table(logical)
        fields = list(table.columns)
        cols = ", ".join(table.columns[f].column for f in fields)
        order = ", ".join(table.columns[f].column for f in table.key)
        clause, params = self._where(logical, where)
        cur.execute(f"SELECT {cols} FROM {self.name(logical)}{clause} ORDER BY {order}", params)
        return [{f: from_db(table.columns[f], v, raw) for f, v in zip(fields, row)} for row in cur.fetchall()]

    def one(self, cur: pyodbc.Cursor, logical: str, where: Mapping[str, Any]) -> dict[str, Any] | None:
        rows = self.select(cur, logical, where)
        return rows[0] if rows else None

    def _row_params(self, table: TableLayout, values: Mapping[str, Any]) -> tuple[list[str], list[Any]]:
        unknown = set(values) - set(table.columns)
        if unknown:
            raise KeyError(f"{table.name} has no field(s) {', '.join(sorted(unknown))}")
        by_column: dict[str, Any] = {}
        for field, spec in table.columns.items():
            if field in values:
                by_column[spec.column] = values[field]
            else:
                by_column.setdefault(spec.column, spec.value if spec.value is not None else blank(spec))
        specs = columns_of(table)
        return list(specs), [to_db(specs[c], by_column[c], self.engine) for c in specs]

    def insert(self, cur: pyodbc.Cursor, logical: str, values: Mapping[str, Any]) -> None:
        """One row; every column not given gets its layout constant or its blank."""
        self.insert_many(cur, logical, [values])

    def insert_many(self, cur: pyodbc.Cursor, logical: str, rows: Iterable[Mapping[str, Any]]) -> int:
        """Many rows in multi-row INSERTs (one statement per MAX_PARAMS values): seeding 100,000
        rows must not cost 100,000 round trips."""
        table = self.table(logical)
        prepared = [self._row_params(table, r) for r in rows]
        if not prepared:
            return 0
        cols = prepared[0][0]
        per = max(1, MAX_PARAMS // len(cols))
        one = "(" + ", ".join("?" for _ in cols) + ")"
        for start in range(0, len(prepared), per):
            chunk = prepared[start:start + per]
            cur.execute(f"INSERT INTO {self.name(logical)} ({', '.join(cols)}) VALUES "
                        + ", ".join(one for _ in chunk), [p for _, params in chunk for p in params])
        return len(prepared)

    def update(self, cur: pyodbc.Cursor, logical: str, where: Mapping[str, Any],
               changes: Mapping[str, Any]) -> int:
        """Rows changed (0 when none matched)."""
        sets, params = [], []
        for field, value in changes.items():
            spec = self.spec(logical, field)
            sets.append(f"{spec.column} = ?")
            params.append(to_db(spec, value, self.engine))
        clause, where_params = self._where(logical, where)
        cur.execute(f"UPDATE {self.name(logical)} SET {', '.join(sets)}{clause}", params + where_params)
        return cur.rowcount

    def delete(self, cur: pyodbc.Cursor, logical: str, where: Mapping[str, Any] | None) -> int:
        clause, params = self._where(logical, where)
        cur.execute(f"DELETE FROM {self.name(logical)}{clause}", params)
        return cur.rowcount

    def count(self, cur: pyodbc.Cursor, logical: str) -> int:
        return int(cur.execute(f"SELECT COUNT(*) FROM {self.name(logical)}").fetchone()[0])

    # -- numbering ---------------------------------------------------------------------------------
    def last_number(self, cur: pyodbc.Cursor) -> str:
        """The numbering row's value as stored (the LAST sales order number used)."""
        n = self.layout.numbering
        clause = " AND ".join(f"{c} = ?" for c in n.where)
        cur.execute(f"SELECT {n.column} FROM {n.physical(self.company)}" + (f" WHERE {clause}" if clause else ""),
                    list(n.where.values()))
        row = cur.fetchone()
        return "" if row is None else str(row[0])

    def has_schema(self) -> bool:
        """True when the numbering table answers (the tables were created before)."""
        conn = self.connect(autocommit=True)
        try:
            conn.cursor().execute(f"SELECT COUNT(*) FROM {self.name('numbering')}").fetchone()
            return True
        except pyodbc.Error:
            return False
        finally:
            conn.close()
