"""Sage Pro change capture: the pair's `erp.change_capture` block -> a
`snapshot_capture.SnapshotCapture` over the company's tables, registered as the `erp_source` role
of `sagepro` (run by erp_cdc).

Sage Pro rows carry no audit stamps (reference sage300_sagepro.md §3), so capture is a snapshot
diff: each poll scans a table in key order and emits the rows whose value changed since what was
sent last (erp_cdc's row memory), deletes from a full scan's key listing. The tables are the
block's `tables` (logical names; erp.raw.v1 `table` = `layout.CAPTURE_TABLES`), their physical
names from the layout with the company suffix (iciloc01). Rows are read either through ODBC
(`source: odbc`, `capture_connection_string()`, the writer's dialect) or from the DBF files
(`source: dbf`, read-only).
"""
from __future__ import annotations

from sagebridge_common.row_memory import RowMemory
from sagebridge_common.snapshot_capture import SnapshotCapture
from sagebridge_common.sql_dialect import dialect

from .capture_tables import CaptureTable
from .config import SageProConfig


def capture_tables(cfg: SageProConfig) -> list[CaptureTable]:
    layout = cfg.table_layout
    return [CaptureTable.of(layout, logical, cfg.company) for logical in cfg.change_capture.tables]


def build_reader(pair, tables: list[CaptureTable]):
    cfg: SageProConfig = pair.erp
    cc = cfg.change_capture
    if cc.source == "dbf":
        if not cc.dbf_dir:
            raise ValueError(f"pair {pair.pair}: erp.change_capture.dbf_dir is required with source: dbf")
        from .dbf_reader import DbfReader
        return DbfReader(cc.dbf_dir, tables)
    from .odbc_reader import OdbcReader, connector
    connect = connector(cfg.capture_connection_string(), login_timeout_s=cfg.login_timeout_s,
                        query_timeout_s=cfg.query_timeout_s, dialect_name=cfg.dialect)
    return OdbcReader(tables, connect, dialect(cfg.dialect))


def build_capture(pair, memory: RowMemory | None = None) -> SnapshotCapture:
    """The pair's capture (`erp_source`); erp_cdc gives it its row memory (`capture.memory`)
    before the runner starts, as the registry's factories take the pair only."""
    cfg: SageProConfig = pair.erp
    cc = cfg.change_capture
    if cc is None:
        raise ValueError(f"pair {pair.pair} has no erp.change_capture block: no change capture")
    tables = capture_tables(cfg)
    return SnapshotCapture(kind="sagepro", pair_id=pair.pair, tables=[t.snapshot_table() for t in tables],
                           reader=build_reader(pair, tables), memory=memory, rows_per_s=cc.rows_per_s,
                           full_scan_interval_s=cc.full_scan_interval_s, name=cfg.company)
