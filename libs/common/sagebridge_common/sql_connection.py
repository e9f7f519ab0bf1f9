"""One lazily opened DB-API connection for a reader that polls a database (change capture).

Why shared: every capture over ODBC does the same around its queries: open the connection on first
use, run a query and return rows as dicts (column names upper-cased, as drivers differ), end the
read transaction so the next query sees newer commits, and on any error drop the connection (the
next call reconnects) and raise the error as the runtime's vocabulary through `classify`.
`table_capture.TableCapture` (Sage 300) and the Sage Pro ODBC reader use it.
"""
from __future__ import annotations

import threading
from typing import Any, Callable

from .sql_dialect import Query


class SqlConnection:
    """`connect()` opens a DB-API connection; `classify(exc)` maps a driver error to
    `TransientError` / `PermanentError`."""

    def __init__(self, connect: Callable[[], Any], classify: Callable[[BaseException], BaseException]) -> None:
        self._connect, self.classify = connect, classify
        self._conn = None
        self._lock = threading.Lock()

    def rows(self, query: Query) -> list[dict[str, Any]]:
        """The query's rows; an error resets the connection and is raised classified."""
        try:
            with self._lock:
                cur = self._connection().cursor()
                try:
                    cur.execute(query.sql, list(query.params))
                    names = [d[0].upper() for d in cur.description]
                    rows = [dict(zip(names, r)) for r in cur.fetchall()]
                finally:
                    cur.close()
                try:
                    self._conn.rollback()     # end the read transaction: the next query sees new commits
                except Exception:             # noqa: BLE001 - autocommit connections have none
                    pass
        except Exception as e:
            self.reset()
            raise self.classify(e) from e
        return rows

    def ping(self, sql: str) -> tuple[bool, str]:
        """Readiness: runs `sql`; never raises."""
        try:
            with self._lock:
                cur = self._connection().cursor()
                try:
                    cur.execute(sql).fetchall()
                finally:
                    cur.close()
        except Exception as e:          # noqa: BLE001 - readiness reports, never raises
            self.reset()
            return False, f"database unreachable: {type(e).__name__}"
        return True, "database reachable"

    def reset(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:           # noqa: BLE001 - already broken
                pass

    close = reset

    def _connection(self):
        if self._conn is None:
            self._conn = self._connect()
        return self._conn
