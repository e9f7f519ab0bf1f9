"""Real Visual FoxPro DBF tables of a Sage Pro company, built from the connector's layout, for the
tests of the capture's DBF reader (reference sage300_sagepro.md §3: Sage Pro keeps its data in VFP
tables, one `.dbf` file per table and company, e.g. iciloc01.dbf).

Written with the PyPI `dbf` library as VFP tables (`dbf_type='vfp'`, header byte 0x30), with the
field types the layout names: char -> C(width), numeric -> N(width, scale), date -> D,
logical -> L, integer -> N(width or 10, 0). Values are given by logical field, as the writer speaks
them; char values are stored padded the way Sage Pro keeps them (`sono` right-aligned in its
width). A delete marks the record deleted, as VFP's DELETE does (the row stays in the file until a
PACK), which is what a reader must skip.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

import dbf

from sagebridge_connectors.sagepro.layout import ColumnSpec, Layout, TableLayout, load_layout


def field_spec(name: str, spec: ColumnSpec) -> str:
    if spec.type == "char":
        return f"{name} C({spec.width})"
    if spec.type == "numeric":
        return f"{name} N({spec.width},{spec.scale})"
    if spec.type == "integer":
        return f"{name} N({spec.width or 10},0)"
    if spec.type == "date":
        return f"{name} D"
    return f"{name} L"


def _value(spec: ColumnSpec, value: Any) -> Any:
    if value is None:
        return None
    if spec.type == "char":
        text = spec.padded(str(value))
        if len(text) > (spec.width or len(text)):
            raise ValueError(f"{spec.column}: {text!r} is longer than {spec.width}")
        return text
    if spec.type in ("numeric", "integer"):
        return Decimal(str(value))
    if spec.type == "date":
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    return bool(value)


class DbfCompany:
    """The company's tables as DBF files in `directory` (`create()` makes them, empty)."""

    def __init__(self, directory: str | Path, *, company: str = "01", layout: Layout | None = None) -> None:
        self.directory = Path(directory)
        self.company = company
        self.layout = layout or load_layout()

    def path(self, logical: str) -> Path:
        return self.directory / f"{self.layout.table(logical).physical(self.company)}.dbf"

    def create(self, tables: Iterable[str] | None = None) -> "DbfCompany":
        self.directory.mkdir(parents=True, exist_ok=True)
        for logical in tables or self.layout.tables:
            t = self.layout.table(logical)
            specs = "; ".join(field_spec(col, spec) for col, spec in _columns(t))
            table = dbf.Table(str(self.path(logical)), specs, dbf_type="vfp")
            table.close()
        return self

    def insert(self, logical: str, rows: Iterable[dict[str, Any]]) -> None:
        """Appends rows given by logical field; fields not given stay blank."""
        t = self.layout.table(logical)
        with self._open(logical) as table:
            for row in rows:
                table.append({t.columns[f].column: _value(t.columns[f], v) for f, v in row.items()})

    def update(self, logical: str, key: dict[str, Any], changes: dict[str, Any]) -> int:
        """Sets `changes` on the live records whose key fields equal `key`; returns how many."""
        t = self.layout.table(logical)
        n = 0
        with self._open(logical) as table:
            for record in self._matching(table, t, key):
                with record:
                    for f, v in changes.items():
                        record[t.columns[f].column] = _value(t.columns[f], v)
                n += 1
        return n

    def delete(self, logical: str, key: dict[str, Any]) -> int:
        """Marks the matching live records deleted (VFP DELETE); returns how many."""
        t = self.layout.table(logical)
        n = 0
        with self._open(logical) as table:
            for record in self._matching(table, t, key):
                dbf.delete(record)
                n += 1
        return n

    def _open(self, logical: str):
        table = dbf.Table(str(self.path(logical)))
        table.open(dbf.READ_WRITE)
        return table

    @staticmethod
    def _matching(table, t: TableLayout, key: dict[str, Any]):
        for record in table:
            if dbf.is_deleted(record):
                continue
            if all(str(record[t.columns[f].column]).strip() == str(v).strip() for f, v in key.items()):
                yield record


def _columns(t: TableLayout) -> list[tuple[str, ColumnSpec]]:
    seen: dict[str, ColumnSpec] = {}
    for spec in t.columns.values():
        seen.setdefault(spec.column, spec)
    return list(seen.items())
