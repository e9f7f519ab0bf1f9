"""The snapshot scan's `RowReader` over ODBC (pyodbc): the VFP driver in production, psqlODBC and
sqlite3odbc in tests (reference sage300_sagepro.md §3: Sage Pro's tables are reached through ODBC).

One keyset range query per page (`sql_dialect.range_query` ordered by the key columns, the
narrowing date as `column >= ?`), one key listing per full scan (`key_query`). The connection is
opened with read-only intent and autocommit, so every page sees the rows committed before it and
no read transaction holds anything in the ERP; driver errors are sorted by SQLSTATE
(`odbc_errors.classify_odbc`, shared with Sage 300).
"""
from __future__ import annotations

from datetime import date
from typing import Any, Callable, Sequence

from sagebridge_common.errors import PermanentError
from sagebridge_common.odbc_errors import classify_odbc
from sagebridge_common.snapshot_capture import ReadRow
from sagebridge_common.sql_connection import SqlConnection
from sagebridge_common.sql_dialect import Dialect, key_query, range_query

from .capture_tables import CaptureTable


def connector(connection_string: str, *, login_timeout_s: int, query_timeout_s: int,
              dialect_name: str = "vfp") -> Callable[[], Any]:
    """`connect()` for the reader: autocommit, read-only intent; the string is never logged.

    The query timeout is the connection's (SQL_ATTR_QUERY_TIMEOUT); psqlODBC refuses that
    attribute, so on PostgreSQL the session gets a `statement_timeout` instead, and is made
    read-only too (psqlODBC ignores the read-only intent)."""
    def connect():
        if not connection_string:
            raise PermanentError("no ODBC connection string for change capture (erp.change_capture."
                                 "connection_string or erp.connection_string)", reason="db_not_configured")
        import pyodbc
        conn = pyodbc.connect(connection_string, autocommit=True, readonly=True, timeout=login_timeout_s)
        if dialect_name == "postgres":
            conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            conn.execute(f"SET statement_timeout = {int(query_timeout_s) * 1000}")
        else:
            conn.timeout = query_timeout_s
        return conn
    return connect


class OdbcReader:
    def __init__(self, tables: list[CaptureTable], connect: Callable[[], Any], dialect: Dialect) -> None:
        self.tables = {t.name: t for t in tables}
        self.dialect = dialect
        self.db = SqlConnection(connect, classify_odbc)

    def page(self, table: str, after: Sequence[Any] | None, limit: int, since: date | None = None) -> list[ReadRow]:
        t = self.tables[table]
        narrow = ((t.since_column, since),) if since is not None and t.since_column else ()
        query = range_query(self.dialect, t.physical, t.columns, t.key_columns, limit,
                            after=t.bind(after) if after is not None else None, not_before=narrow)
        return [t.read_row(raw) for raw in self.db.rows(query)]

    def keys(self, table: str) -> list[dict[str, Any]]:
        t = self.tables[table]
        return [t.key_values(raw) for raw in self.db.rows(key_query(self.dialect, t.physical, t.key_columns))]

    def ping(self) -> tuple[bool, str]:
        """One key of the first table (VFP has no FROM-less SELECT)."""
        t = next(iter(self.tables.values()))
        q = range_query(self.dialect, t.physical, t.key_columns[:1], t.key_columns, 1)
        try:
            self.db.rows(q)
        except Exception as e:          # noqa: BLE001 - readiness reports, never raises
            return False, f"database unreachable: {type(e).__name__}: {str(e)[:160]}"
        return True, "database reachable"

    def close(self) -> None:
        self.db.close()
