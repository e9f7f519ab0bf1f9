"""The snapshot scan's `RowReader` over the company's Visual FoxPro DBF files, read directly and
read-only with the PyPI `dbf` library (reference sage300_sagepro.md §3: Sage Pro's data is VFP
tables; the VFP ODBC driver is 32-bit only, so an agent on a 64-bit machine reads the files).

Never writes: each read opens `<table>.dbf` in `dbf.READ_ONLY` (the file opened "rb") and closes it
again, so no handle stays open between pages to stand in the way of Sage Pro's own maintenance
(pack, reindex). Records marked deleted (VFP's deletion flag) are not rows.

DBF files have no index this library keeps up to date, so key order means reading the file: a page
reads the whole table, sorts it by key and answers the rows after the position. Reading it once per
page would cost the table's size in every page, so a scan keeps the sorted rows while the file is
unchanged (same size and modification time) and reads it again when it changed; every new scan
(no position) reads it afresh, so an edit the file's timestamp did not show is seen by the next
scan at the latest. Numbers are read as Decimal from the field's text, never as float; a blank
numeric field is 0, as VFP reads it.
"""
from __future__ import annotations

import bisect
import os
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Sequence

from sagebridge_common.errors import PermanentError, TransientError
from sagebridge_common.snapshot_capture import ReadRow

from .capture_tables import CaptureTable


def _decimal(text) -> Decimal:
    return Decimal(text.decode("ascii") if isinstance(text, bytes) else str(text))


class DbfReader:
    def __init__(self, directory: str | Path, tables: list[CaptureTable]) -> None:
        self.directory = Path(directory)
        self.tables = {t.name: t for t in tables}
        self._cache: dict[str, tuple[tuple[int, int], list[tuple[tuple, dict[str, Any]]]]] = {}
        self._lock = threading.Lock()

    # -- RowReader -------------------------------------------------------------------------------
    def page(self, table: str, after: Sequence[Any] | None, limit: int, since: date | None = None) -> list[ReadRow]:
        t = self.tables[table]
        rows = self._sorted(t, fresh=after is None)
        start = 0
        if after is not None:
            start = bisect.bisect_right([p for p, _ in rows], tuple(after))
        out = []
        day = since.isoformat() if since is not None else None
        for pos, raw in rows[start:]:
            if len(out) >= limit:
                break
            values = t.values(raw)
            if day is not None and not ((values.get(t.layout.changed_since) or "") >= day):
                continue
            out.append(ReadRow(pos, values))
        return out

    def keys(self, table: str) -> list[dict[str, Any]]:
        t = self.tables[table]
        return [t.key_values(raw) for _pos, raw in self._read(t)]

    def ping(self) -> tuple[bool, str]:
        missing = [t.physical for t in self.tables.values() if self._path(t) is None]
        if missing:
            return False, f"no DBF file for {', '.join(missing)} in the capture's dbf_dir"
        return True, "DBF files readable"

    def close(self) -> None:
        self._cache.clear()

    # -- the files -------------------------------------------------------------------------------
    def _path(self, t: CaptureTable) -> Path | None:
        """`<physical>.dbf`, whatever the case of the name on disk (Sage Pro's are lower case)."""
        for name in (f"{t.physical}.dbf", f"{t.physical.lower()}.dbf", f"{t.physical.upper()}.DBF"):
            if (self.directory / name).is_file():
                return self.directory / name
        wanted = f"{t.physical}.dbf".lower()
        try:
            return next((p for p in self.directory.iterdir() if p.name.lower() == wanted), None)
        except OSError:
            return None

    def _sorted(self, t: CaptureTable, *, fresh: bool) -> list[tuple[tuple, dict[str, Any]]]:
        path = self._path(t)
        if path is None:
            raise PermanentError(f"no DBF file for table {t.physical} in the capture's dbf_dir",
                                 reason="dbf_missing")
        stamp = self._stamp(path)
        with self._lock:
            cached = self._cache.get(t.name)
            if not fresh and cached is not None and cached[0] == stamp:
                return cached[1]
        rows = sorted(self._read(t, path), key=lambda r: r[0])
        with self._lock:
            self._cache[t.name] = (stamp, rows)
        return rows

    @staticmethod
    def _stamp(path: Path) -> tuple[int, int]:
        st = os.stat(path)
        return st.st_size, st.st_mtime_ns

    def _read(self, t: CaptureTable, path: Path | None = None) -> list[tuple[tuple, dict[str, Any]]]:
        """Every live record as (position, row keyed by upper-cased column names), read-only."""
        import dbf
        path = path or self._path(t)
        if path is None:
            raise PermanentError(f"no DBF file for table {t.physical} in the capture's dbf_dir", reason="dbf_missing")
        try:
            table = dbf.Table(str(path), default_data_types={"N": (_decimal, lambda: Decimal(0))})
            table.open(dbf.READ_ONLY)
        except (OSError, dbf.DbfError) as e:
            raise TransientError(f"cannot open {path.name} read-only: {type(e).__name__}: {str(e)[:160]}",
                                 reason="dbf_unavailable") from e
        try:
            fields = {name.upper() for name in table.field_names}
            missing = [c for c in t.columns if c.upper() not in fields]
            if missing:
                raise PermanentError(f"{path.name} has no column {missing[0]} (the layout's {t.logical})",
                                     reason="dbf_layout")
            out = []
            for record in table:
                if dbf.is_deleted(record):
                    continue
                raw = {c.upper(): record[c] for c in t.columns}
                out.append((self._position(t, raw), raw))
            return out
        finally:
            table.close()

    @staticmethod
    def _position(t: CaptureTable, raw: dict[str, Any]) -> tuple:
        """The key as text, padding included: one type per column, so positions always compare."""
        return tuple("" if v is None else str(v) for v in t.position(raw))
