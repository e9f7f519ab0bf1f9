"""The only place where change capture's SQL differs between database engines.

Production is SQL Server (Sage 300 runs on it only since 2016): `SELECT TOP (n)`, `[brackets]`,
schema-qualified table names (`[dbo].[ICILOC]`), and CHAR comparisons that ignore trailing spaces.
The test engine is SQLite through the sqlite3odbc driver: `LIMIT n`, `"quotes"`, no schema, and
CHAR values compared byte for byte, padding included. PostgreSQL (psqlodbc, for Sage Pro later)
quotes like SQLite, takes `LIMIT n` and a schema, and ignores CHAR padding like SQL Server.
Visual FoxPro (Sage Pro's tables through the VFP ODBC driver) takes `SELECT TOP n` (which needs an
ORDER BY, and which it always has here), plain unquoted names and no schema (a table is a file of
the database container).

Two queries are generated, both with `?` parameters (never a value formatted into the text):

- the keyset range read: the rows after a position (AUDTDATE, AUDTTIME, key...) in that order,
  written as an OR of prefixes so SQL Server and SQLite turn it into a range seek on the
  (AUDTDATE, AUDTTIME) index, ordered the same way, at most `limit` rows;
- the key listing for reconciliation: every key of the table (an index-only scan of the primary
  key), run every `reconcile_interval_s`, never in steady-state polling.

A position's key values are bound as read from the row (padding included), so the engine compares
them exactly as it ordered them. Equality filters (ICPRICP's price list and currency) are bound
trimmed: SQLite compares them through RTRIM, the other engines ignore padding themselves.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence


@dataclass(frozen=True)
class Query:
    """SQL text with `?` markers, and the parameters in marker order."""

    sql: str
    params: tuple[Any, ...]


class Dialect:
    name = "generic"
    pads_compare = False          # True: CHAR comparisons see trailing spaces (filters need RTRIM)

    def __init__(self, schema: str | None = None) -> None:
        self.schema = schema

    def quote(self, ident: str) -> str:
        if not ident.replace("_", "").isalnum():
            raise ValueError(f"not a plain identifier: {ident!r}")
        return f'"{ident}"'

    def table(self, name: str) -> str:
        return f"{self.quote(self.schema)}.{self.quote(name)}" if self.schema else self.quote(name)

    def select(self, columns: str, limit: int | None) -> str:
        return f"SELECT {columns}"

    def limit_suffix(self, limit: int | None) -> str:
        return "" if limit is None else f" LIMIT {int(limit)}"

    def equals(self, column: str) -> str:
        col = self.quote(column)
        return f"RTRIM({col}) = ?" if self.pads_compare else f"{col} = ?"


class SqlServer(Dialect):
    name = "sqlserver"

    def __init__(self, schema: str | None = "dbo") -> None:
        super().__init__(schema)

    def quote(self, ident: str) -> str:
        super().quote(ident)
        return f"[{ident}]"

    def select(self, columns: str, limit: int | None) -> str:
        return f"SELECT {columns}" if limit is None else f"SELECT TOP ({int(limit)}) {columns}"

    def limit_suffix(self, limit: int | None) -> str:
        return ""


class Sqlite(Dialect):
    name = "sqlite"
    pads_compare = True

    def __init__(self, schema: str | None = None) -> None:
        super().__init__(None)        # one database per file: no schema


class Postgres(Dialect):
    name = "postgres"

    def __init__(self, schema: str | None = "public") -> None:
        super().__init__(schema)


class Vfp(Dialect):
    """Visual FoxPro SQL: unquoted names (checked to be plain identifiers), `SELECT TOP n ... ORDER BY`.

    Its `=` on strings with SET ANSI OFF (the driver's default) matches a prefix ("A" = "AB"), so an
    equality filter compares trimmed values of equal length; range comparisons bind the padded
    values as read, which compare exactly."""

    name = "vfp"
    pads_compare = True

    def __init__(self, schema: str | None = None) -> None:
        super().__init__(None)        # one container per company: no schema

    def quote(self, ident: str) -> str:
        super().quote(ident)
        return ident

    def select(self, columns: str, limit: int | None) -> str:
        return f"SELECT {columns}" if limit is None else f"SELECT TOP {int(limit)} {columns}"

    def limit_suffix(self, limit: int | None) -> str:
        return ""

    def equals(self, column: str) -> str:
        col = self.quote(column)
        return f"RTRIM({col}) == ?"


DIALECTS: dict[str, type[Dialect]] = {"sqlserver": SqlServer, "sqlite": Sqlite, "postgres": Postgres, "vfp": Vfp}


def dialect(name: str, schema: str | None = None) -> Dialect:
    try:
        cls = DIALECTS[name]
    except KeyError:
        raise ValueError(f"unknown SQL dialect {name!r} (known: {', '.join(DIALECTS)})") from None
    return cls(schema) if schema is not None else cls()


def _where(d: Dialect, filters: Sequence[tuple[str, Any]]) -> tuple[list[str], list[Any]]:
    return [d.equals(col) for col, _ in filters], [value for _, value in filters]


def _after(d: Dialect, order: Sequence[str], position: Sequence[Any], inclusive: bool = False) -> tuple[str, list[Any]]:
    """`order > position` as an OR of prefixes: (a > ?) OR (a = ? AND b > ?) OR ...;
    `inclusive`: the last comparison is `>=` (from the position on)."""
    terms, params = [], []
    n = len(position)
    for i, col in enumerate(order[:n]):
        eq = [f"{d.quote(c)} = ?" for c in order[:i]]
        op = ">=" if inclusive and i == n - 1 else ">"
        terms.append("(" + " AND ".join(eq + [f"{d.quote(col)} {op} ?"]) + ")")
        params.extend(list(position[:i]) + [position[i]])
    return "(" + " OR ".join(terms) + ")", params


def range_query(d: Dialect, table: str, columns: Sequence[str], order: Sequence[str], limit: int, *,
                after: Sequence[Any] | None = None, at_least: Sequence[Any] | None = None,
                filters: Sequence[tuple[str, Any]] = (), not_before: Sequence[tuple[str, Any]] = ()) -> Query:
    """The next `limit` rows in `order` (the stamp columns first, then the key).

    `after`: strictly after this position (all of `order`: continuing a scan). `at_least`: from this
    prefix on, inclusive (the stamp minus the overlap: starting a poll). Neither: from the start.
    `not_before`: (column, value) conditions `column >= value` (a snapshot scan narrowed to rows
    changed since a date)."""
    where, params = _where(d, filters)
    for col, value in not_before:
        where.append(f"{d.quote(col)} >= ?")
        params.append(value)
    if after is not None:
        clause, p = _after(d, order, after)
        where.append(clause)
        params.extend(p)
    elif at_least is not None:
        clause, p = _after(d, order, at_least, inclusive=True)
        where.append(clause)
        params.extend(p)
    cols = ", ".join(d.quote(c) for c in columns)
    sql = d.select(cols, limit) + f" FROM {d.table(table)}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY " + ", ".join(d.quote(c) for c in order) + d.limit_suffix(limit)
    return Query(sql, tuple(params))


def key_query(d: Dialect, table: str, key: Sequence[str], *, filters: Sequence[tuple[str, Any]] = ()) -> Query:
    """Every key of the table (for key reconciliation), in key order."""
    where, params = _where(d, filters)
    cols = ", ".join(d.quote(c) for c in key)
    sql = f"SELECT {cols} FROM {d.table(table)}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return Query(sql + " ORDER BY " + cols, tuple(params))


def ping_query(d: Dialect) -> str:
    return "SELECT 1"
