"""The writer's ODBC connections: at most `max_connections` open, autocommit off, timeouts set per
dialect, the connection string (a secret) never in a log line or an error message.

Why a pool of our own: pyodbc has none, and a connection per document would cost a login per
order against a Visual FoxPro DBC on a file share. Connections are lent one at a time (one
transaction each); a connection whose error says it is gone (`errors.is_lost`) is closed instead of
being lent again.

Timeouts per dialect (`erp.dialect`):
- postgres (psqlODBC): login timeout through `pyodbc.connect(timeout=)`; psqlODBC refuses the
  connection-level query timeout attribute, so the session gets `SET statement_timeout` and
  `SET lock_timeout` (committed at once: SET is transactional in PostgreSQL, a rolled-back first
  transaction would undo it).
- sqlite (sqlite3odbc): `Timeout=<ms>` in the connection string is SQLite's busy timeout (how long a
  statement waits for another writer's lock); the query timeout through pyodbc's `timeout`.
- vfp (Microsoft Visual FoxPro ODBC driver): the driver accepts a short list of SET commands; `SET
  REPROCESS TO <n> SECONDS` bounds how long it retries a locked record or table before the error
  "Record is in use" / "File is in use" (not verified against a live driver: no 32-bit driver
  here). The query timeout through pyodbc's `timeout` where the driver takes it. Transactions
  need the tables in a DBC (SourceType=DBC): free tables cannot be rolled back.

No statement of the writer runs with autocommit on: a document is committed whole or not at all.
"""
from __future__ import annotations

import logging
import math
import queue
import re
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from sagebridge_common.errors import TransientError

from .config import SageProConfig
from .errors import is_lost, message, sqlstate

log = logging.getLogger(__name__)
SECRET_KEYS = re.compile(r"(?i)\b(pwd|password|uid|user id|user)\s*=\s*(\{[^}]*\}|[^;]*)")


def redact(text: str, secret: str) -> str:
    """`text` with the connection string and any password-like key's value removed."""
    if secret:
        text = text.replace(secret, "<connection string>")
    return SECRET_KEYS.sub(lambda m: f"{m.group(1)}=***", text)


def session_statements(cfg: SageProConfig) -> list[str]:
    """What each new connection runs (and commits) before its first transaction."""
    if cfg.dialect == "postgres":
        out = [f"SET lock_timeout = {int(cfg.lock_timeout_s * 1000)}"]
        if cfg.query_timeout_s:
            out.append(f"SET statement_timeout = {int(cfg.query_timeout_s * 1000)}")
        return out
    if cfg.dialect == "vfp":
        return [f"SET REPROCESS TO {max(1, math.ceil(cfg.lock_timeout_s))} SECONDS"]
    return []


def connection_string(cfg: SageProConfig) -> str:
    text = cfg.connection_string.get_secret_value()
    if cfg.dialect == "sqlite" and not re.search(r"(?i)(^|;)\s*timeout\s*=", text):
        text = f"{text.rstrip(';')};Timeout={int(cfg.lock_timeout_s * 1000)}"
    return text


def default_connect(cfg: SageProConfig) -> Callable[[], Any]:
    def connect() -> Any:
        import pyodbc
        secret = cfg.connection_string.get_secret_value()
        try:
            conn = pyodbc.connect(connection_string(cfg), autocommit=False, timeout=cfg.login_timeout_s)
        except pyodbc.Error as e:
            raise TransientError(f"cannot connect to the Sage Pro database [{sqlstate(e)}]: "
                                 f"{redact(message(e), secret)[:300]}", reason="sagepro_unreachable") from None
        if cfg.query_timeout_s and cfg.dialect != "postgres":
            try:
                conn.timeout = cfg.query_timeout_s
            except pyodbc.Error:
                log.info("the ODBC driver takes no query timeout; statements wait for the lock timeout only")
        for sql in session_statements(cfg):
            try:
                conn.execute(sql)
            except pyodbc.Error as e:
                log.warning("session setting refused by the driver", extra={"statement": sql, "error": message(e)[:200]})
        conn.commit()
        return conn
    return connect


class Pool:
    """At most `size` connections; `lend()` waits for a free one (up to `wait_s`)."""

    def __init__(self, connect: Callable[[], Any], size: int, wait_s: float = 30.0) -> None:
        self._connect = connect
        self._idle: queue.LifoQueue = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)
        self._wait_s = wait_s
        self.opened = 0

    @contextmanager
    def lend(self) -> Iterator[Any]:
        if not self._slots.acquire(timeout=self._wait_s):
            raise TransientError("every Sage Pro connection is busy", reason="sagepro_pool_exhausted")
        conn = None
        try:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = self._connect()
                self.opened += 1
            yield conn
        except BaseException as e:
            if conn is not None and is_lost(e):
                _close(conn)
                conn = None
            raise
        finally:
            if conn is not None:
                self._idle.put(conn)
            self._slots.release()

    def close(self) -> None:
        while True:
            try:
                _close(self._idle.get_nowait())
            except queue.Empty:
                return


def _close(conn: Any) -> None:
    try:
        conn.close()
    except Exception:       # already gone
        pass
