"""One captured Sage Pro table as change capture reads it: the layout's physical names for the
company, and how a row's values become the erp.raw.v1 `after` (the issue 10 wire contract).

Why one place for the conversion: the ODBC and DBF readers read the same tables and must emit the
same value for the same row, or switching a site from one to the other would look like every row
changed. Per the layout's column type:

- char: stripped both sides (Sage Pro pads `sono` on the left, everything on the right);
- numeric: a decimal string at the column's scale ("12.50"), never a float;
- integer: an int;
- date: "YYYY-MM-DD", or null for a blank date (VFP's empty date; some drivers report it as
  1899-12-30, the VFP zero date);
- logical: true / false (SQLite keeps it as 0/1; VFP's '?' is false).

A row's position (`ReadRow.position`) is its key columns as read, padding included: bound back
as they were read, the engine compares them exactly as it ordered them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Sequence

from sagebridge_common.snapshot_capture import ReadRow, SnapshotTable

from .layout import CAPTURE_TABLES, ENTITY_FIELD, ColumnSpec, Layout, TableLayout

_VFP_ZERO_DATE = date(1899, 12, 30)


def convert(spec: ColumnSpec, value: Any) -> Any:
    """A column's value as read -> its JSON value in `after` (see the module docstring)."""
    if spec.type == "char":
        return "" if value is None else str(value).strip()
    if spec.type == "numeric":
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        number = Decimal(str(value).strip()).quantize(Decimal(1).scaleb(-spec.scale))
        return format(number, "f")
    if spec.type == "integer":
        return None if value is None or value == "" else int(Decimal(str(value)))
    if spec.type == "date":
        return _date(value)
    if isinstance(value, str):                 # logical
        return value.strip().upper() in ("1", "T", "Y", "TRUE", ".T.")
    return bool(value)


def _date(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return None if value <= _VFP_ZERO_DATE else value.isoformat()
    text = str(value).strip()[:10]
    return text if text and date.fromisoformat(text) > _VFP_ZERO_DATE else None


def _raw(spec: ColumnSpec, value: Any) -> Any:
    """A key column's value as the cursor keeps it (JSON): text as read, numbers as decimal text."""
    if spec.type in ("numeric", "integer") and value is not None:
        return str(Decimal(str(value)))
    return value if value is None or isinstance(value, str) else str(value)


@dataclass(frozen=True)
class CaptureTable:
    """`name` is the erp.raw.v1 table (ICILOC...), `layout` the logical table's layout."""

    name: str
    logical: str
    layout: TableLayout
    company: str

    @classmethod
    def of(cls, layout: Layout, logical: str, company: str) -> "CaptureTable":
        return cls(CAPTURE_TABLES[logical], logical, layout.table(logical), company)

    @property
    def physical(self) -> str:
        return self.layout.physical(self.company)

    @property
    def columns(self) -> tuple[str, ...]:
        """The distinct physical columns read (two logical fields may share one)."""
        return tuple(dict.fromkeys(spec.column for spec in self.layout.columns.values()))

    @property
    def key_columns(self) -> tuple[str, ...]:
        return tuple(self.layout.columns[f].column for f in self.layout.key)

    @property
    def since_column(self) -> str | None:
        f = self.layout.changed_since
        return self.layout.columns[f].column if f else None

    def snapshot_table(self) -> SnapshotTable:
        return SnapshotTable(self.name, self.layout.key, ENTITY_FIELD[self.logical], self.layout.changed_since)

    def values(self, raw: dict[str, Any]) -> dict[str, Any]:
        """{logical field: JSON value} from a row keyed by upper-cased physical column names."""
        return {f: convert(spec, raw[spec.column.upper()]) for f, spec in self.layout.columns.items()}

    def key_values(self, raw: dict[str, Any]) -> dict[str, Any]:
        return {f: convert(self.layout.columns[f], raw[self.layout.columns[f].column.upper()])
                for f in self.layout.key}

    def position(self, raw: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(_raw(self.layout.columns[f], raw[self.layout.columns[f].column.upper()]) for f in self.layout.key)

    def bind(self, position: Sequence[Any]) -> list[Any]:
        """A saved position back as query parameters (numbers as Decimal)."""
        out = []
        for f, value in zip(self.layout.key, position):
            spec = self.layout.columns[f]
            out.append(Decimal(value) if spec.type in ("numeric", "integer") and value is not None else value)
        return out

    def read_row(self, raw: dict[str, Any]) -> ReadRow:
        return ReadRow(self.position(raw), self.values(raw))
