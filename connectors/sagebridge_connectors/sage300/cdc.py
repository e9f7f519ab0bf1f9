"""Sage 300 change capture: the pair's `erp.database` block -> a `table_capture.TableCapture` over
the company database (pyodbc; SQL Server in production, reference §2.1), registered as the
`erp_source` role of `sage300`.

ICPRICP is filtered to this pair's price list and currency: the store sells one price list in one
currency (`mapping.prices.price_list`, default WEB, and the pair's `currency`).

Driver errors are sorted by SQLSTATE (ODBC's, which SQL Server's driver reports): a lost or refused
connection (08xxx), a timeout (HYT00/HYT01), a deadlock victim (40001) or Azure's throttling (40xxx)
is transient, retried with backoff; a failed login (28000), a missing table or column and bad SQL
(42xxx) or a permission refused (42000 with "permission") is permanent: it needs an operator, and
readiness says so while the runner keeps retrying slowly.
"""
from __future__ import annotations

from typing import Any

from sagebridge_common.errors import PermanentError, TransientError
from sagebridge_common.row_memory import RowMemory
from sagebridge_common.sql_dialect import dialect
from sagebridge_common.table_capture import CapturedTable, TableCapture

from .cdc_tables import TABLES, converter
from .config import DatabaseConfig

DEFAULT_PRICE_LIST = "WEB"
_TRANSIENT_STATES = ("08", "HYT", "40", "HY008")


def price_list(pair) -> str:
    """`mapping.prices.price_list` when the pair mapping has it (issue 7's transform adds it), else WEB."""
    prices = getattr(pair.mapping, "prices", None)
    value = getattr(prices, "price_list", None) if prices is not None else None
    return (value or DEFAULT_PRICE_LIST).strip().upper()


def captured_tables(pair, db: DatabaseConfig) -> list[CapturedTable]:
    out = []
    for name in db.tables:
        spec = TABLES[name]
        filters: tuple[tuple[str, Any], ...] = ()
        if name == "ICPRICP":
            filters = (("CURRENCY", pair.currency), ("PRICELIST", price_list(pair)))
        numeric = tuple(c.name for c in spec.columns if c.name in spec.key and c.kind != "C")
        out.append(CapturedTable(spec.name, spec.key, spec.names, spec.entity, filters, numeric_key=numeric))
    return out


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


def connector(db: DatabaseConfig):
    """`connect()` for the capture: read-only intent, autocommit (each poll sees committed rows)."""
    def connect():
        import pyodbc
        conn = pyodbc.connect(db.connection_string.get_secret_value(), autocommit=True, readonly=True,
                              timeout=max(db.query_timeout_s, 0))
        conn.timeout = db.query_timeout_s
        return conn
    return connect


def build_capture(pair, memory: RowMemory | None = None) -> TableCapture:
    """The pair's capture (`erp_source`); the service gives it its row memory (`capture.memory`)
    before the runner starts, as the registry's factories take the pair only."""
    db: DatabaseConfig | None = pair.erp.database
    if db is None:
        raise ValueError(f"pair {pair.pair} has no erp.database block: no change capture")
    d = dialect(db.dialect, db.schema_name if db.dialect == "sqlserver" else None)
    return TableCapture(kind="sage300", pair_id=pair.pair, tables=captured_tables(pair, db), connect=connector(db),
                        dialect=d, memory=memory, convert=converter(), classify=classify_odbc, zone=db.zone,
                        overlap_s=db.overlap_s, reconcile_interval_s=db.reconcile_interval_s,
                        name=pair.erp.company)
