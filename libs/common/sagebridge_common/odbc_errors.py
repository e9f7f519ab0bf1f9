"""ODBC driver errors -> the runtime's vocabulary (`errors.TransientError` / `PermanentError`).

Sorted by SQLSTATE (ODBC's, which SQL Server's, psqlODBC's and the VFP driver report): a lost or
refused connection (08xxx), a timeout (HYT00/HYT01), a deadlock victim (40001) or throttling (40xxx)
is transient, retried with backoff; a failed login (28000), a missing table or column and bad SQL
(42xxx) or a permission refused is permanent: it needs an operator, and readiness says so while the
runner keeps retrying slowly. Shared by the Sage 300 and Sage Pro change captures.
"""
from __future__ import annotations

from .errors import PermanentError, TransientError

_TRANSIENT_STATES = ("08", "HYT", "40", "HY008")


def classify_odbc(exc: BaseException) -> BaseException:
    """A pyodbc error -> TransientError or PermanentError (the runtime's vocabulary)."""
    if isinstance(exc, (TransientError, PermanentError)):
        return exc
    state = str(exc.args[0]) if getattr(exc, "args", None) else ""
    text = str(exc)
    short = f"{type(exc).__name__} [{state}]"
    if state == "28000" or "login failed" in text.lower():
        return PermanentError(f"{short}: the database refused the login", reason="db_login_failed")
    lowered = text.lower()
    if state.startswith("42") or (state == "HY000" and ("syntax" in lowered or "no such" in lowered)):
        return PermanentError(f"{short}: {text[:200]}", reason="db_bad_query")
    if state.startswith(_TRANSIENT_STATES) or type(exc).__name__ in ("OperationalError", "InterfaceError"):
        return TransientError(f"{short}: {text[:200]}", reason="db_unavailable")
    if type(exc).__name__ == "ProgrammingError":
        return PermanentError(f"{short}: {text[:200]}", reason="db_bad_query")
    return TransientError(f"{short}: {text[:200]}", reason="db_error")
