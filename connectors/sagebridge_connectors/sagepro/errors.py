"""pyodbc errors of the Sage Pro writer -> the runtime's vocabulary (`sagebridge_common.errors`).

Why here and not in the transaction code: the same SQLSTATEs mean the same thing for every
statement, and the table.column a permanent error names comes from the statement being run
(`context`), which the caller passes.

- transient (retried as a whole transaction, then by the runtime): PostgreSQL 55P03 lock timeout,
  40001 serialization failure, 40P01 deadlock, 57014 statement timeout (query_timeout_s), 57P0x
  server shutting down, 08xxx / HYT00 / HYT01 connection and timeout states; SQLite "database is
  locked" / "busy" (sqlite3odbc reports them as HY000 with that text); Visual FoxPro "File is in use"
  / "Record is in use" (VFP errors 108 / 109: another user holds the table or the record; reference
  sage300_sagepro.md §3, the tables are shared with Sage Pro's own users).
- permanent (the document goes to the DLQ with a reason): 23xxx constraint violations
  (`sagepro_constraint`), 22001 string too long (`sagepro_string_too_long`), 22003 numeric
  overflow (`sagepro_numeric_overflow`), 42xxx a statement the database does not know
  (`sagepro_bad_sql`: the layout names something the table lacks).
- anything else is left unclassified (`SageProDbError`): the runtime retries it a bounded number
  of times, then dead-letters it.

`lost` says the connection itself is unusable (it is discarded instead of returned to the pool).
"""
from __future__ import annotations

import re

from sagebridge_common.errors import PermanentError, TransientError

TRANSIENT_STATES = ("55P03", "40001", "40P01", "57014", "57P01", "57P02", "57P03", "HYT00", "HYT01")
LOST_STATES = ("08", "57P0")
BUSY_TEXT = re.compile(r"database is locked|database table is locked|\bbusy\b|file is in use|record is in use|"
                       r"record is not locked|connection has been lost|server closed the connection", re.I)
LOST_TEXT = re.compile(r"connection has been lost|server closed the connection|could not send|no connection", re.I)
COLUMN_TEXT = re.compile(r'column "?([A-Za-z_][A-Za-z0-9_]*)"?', re.I)


class SageProDbError(Exception):
    """A database error no rule above settles: 'unknown' to the runtime (bounded retries)."""


class StatementFailed(Exception):
    """A driver error with the table (or table.column) its statement wrote, for `classify`."""

    def __init__(self, original: BaseException, context: str) -> None:
        super().__init__(str(original))
        self.original, self.context = original, context


def sqlstate(exc: BaseException) -> str:
    args = getattr(exc, "args", ())
    return str(args[0]) if args and isinstance(args[0], str) and len(args) > 1 else ""


def message(exc: BaseException) -> str:
    args = getattr(exc, "args", ())
    return str(args[1] if len(args) > 1 else exc)


def is_lost(exc: BaseException) -> bool:
    """The connection cannot be used again (dropped, terminated): discard it."""
    if isinstance(exc, StatementFailed):
        exc = exc.original
    state = sqlstate(exc)
    return state.startswith(LOST_STATES) or bool(LOST_TEXT.search(message(exc)))


def _where(context: str, text: str) -> str:
    """table.column when the database named the column, else the table."""
    found = COLUMN_TEXT.search(text)
    table = context.split(".")[0] if context else ""
    return f"{table}.{found.group(1)}" if found and table else (context or "?")


def classify(exc: BaseException, context: str = "") -> BaseException:
    """`context`: the table (or table.column) the statement wrote. Returns the error to raise."""
    if isinstance(exc, StatementFailed):
        exc, context = exc.original, exc.context
    if isinstance(exc, (TransientError, PermanentError)):
        return exc
    state, text = sqlstate(exc), message(exc)
    short = f"Sage Pro database [{state or type(exc).__name__}] on {context or 'a statement'}: {text[:300]}"
    if state.startswith(TRANSIENT_STATES) or state.startswith("08") or BUSY_TEXT.search(text):
        return TransientError(short, reason="sagepro_locked" if not is_lost(exc) else "sagepro_connection_lost")
    if state.startswith("23"):
        return PermanentError(f"{short} ({_where(context, text)})", reason="sagepro_constraint")
    if state == "22001":
        return PermanentError(f"{short} ({_where(context, text)}: value longer than the column)",
                              reason="sagepro_string_too_long")
    if state == "22003":
        return PermanentError(f"{short} ({_where(context, text)}: number too large for the column)",
                              reason="sagepro_numeric_overflow")
    if state.startswith("42"):
        return PermanentError(f"{short}: check erp.layout against the table", reason="sagepro_bad_sql")
    return SageProDbError(short)
