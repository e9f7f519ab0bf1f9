"""Sage 300 change capture: the pair's `erp.database` block -> a `table_capture.TableCapture` over
the company database (pyodbc; SQL Server in production, reference §2.1), registered as the
`erp_source` role of `sage300`.

ICPRICP is filtered to this pair's price list and currency: the store sells one price list in one
currency (`mapping.prices.price_list` and the pair's `currency`).

Driver errors are sorted by SQLSTATE (`odbc_errors.classify_odbc`, shared with Sage Pro): a lost
connection, a timeout or a deadlock victim is transient; a failed login or bad SQL is permanent.
"""
from __future__ import annotations

from typing import Any

from sagebridge_common.odbc_errors import classify_odbc
from sagebridge_common.row_memory import RowMemory
from sagebridge_common.sql_dialect import dialect
from sagebridge_common.table_capture import CapturedTable, TableCapture

from .cdc_tables import TABLES, converter
from .config import DatabaseConfig

__all__ = ["build_capture", "captured_tables", "classify_odbc", "connector", "price_list"]


def price_list(pair) -> str:
    """The pair's `mapping.prices.price_list` as ICPRICP holds it (upper case, 6 characters)."""
    return pair.mapping.prices.price_list.strip().upper()


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
