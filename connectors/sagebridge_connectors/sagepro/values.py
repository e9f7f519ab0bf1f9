"""Values as the layout's columns hold them, checked before anything is sent.

Why before: the Visual FoxPro ODBC driver cuts a string that is too long without a word, and a cut
reference or customer number could match another document. So a value that does not fit its
column is refused here, as PermanentError `sagepro_width` naming table.column, what the value is and
what the layout allows (erp.layout is where a site with wider columns says so). Only free text
(`CUT_FIELDS`: descriptions, names, address lines) is cut to the width instead, as every ERP sink
of the hub does with descriptions: no lookup ever reads them, and a long street name is no reason
to hold an order.

Numbers are Decimal only (never float), rounded half-up to the column's scale; one whose integer
part needs more digits than precision - scale is refused the same way (`sagepro_width`).
"""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sagebridge_common.errors import PermanentError

from .layout import ColumnSpec, TableLayout

CUT_FIELDS = frozenset({"descrip", "name", "contact", "address1", "address2", "city"})


def refuse(where: str, spec: ColumnSpec, shown: str, field: str) -> PermanentError:
    size = f"numeric({spec.width},{spec.scale})" if spec.type == "numeric" else f"{spec.type}({spec.width})"
    return PermanentError(f"{where}: {shown} does not fit the column ({size}); if the table's column is wider, "
                          f"correct erp.layout ({field})", reason="sagepro_width")


def fit(spec: ColumnSpec, value: Any, where: str, field: str) -> Any:
    """`value` ready to bind for the column `spec` (None stays None)."""
    if value is None:
        return None
    if spec.type == "char":
        text = str(value).strip()
        width = spec.width or len(text)
        if len(text) > width:
            if field.rsplit(".", 1)[-1] not in CUT_FIELDS:
                raise refuse(where, spec, f"{text!r} ({len(text)} characters)", field)
            text = text[:width].rstrip()
        return spec.padded(text)
    if spec.type == "numeric":
        if isinstance(value, float):
            raise TypeError(f"{where}: a float reached the writer; amounts are Decimal")
        number = Decimal(value).quantize(Decimal(1).scaleb(-spec.scale), rounding=ROUND_HALF_UP)
        if number.adjusted() >= (spec.width or 0) - spec.scale and number != 0:
            raise refuse(where, spec, format(number, "f"), field)
        return number
    if spec.type == "integer":
        return int(value)
    if spec.type == "date":
        if not isinstance(value, date):
            raise TypeError(f"{where}: {value!r} is not a date")
        return value
    return bool(value)          # logical


class RowBuilder:
    """Rows of one layout table keyed by logical field, as (columns, values) for an INSERT."""

    def __init__(self, table: TableLayout, company: str, logical: str) -> None:
        self.table, self.name, self.logical = table, table.physical(company), logical

    def has(self, field: str) -> bool:
        return field in self.table.columns

    def value(self, field: str, value: Any) -> Any:
        spec = self.table.columns[field]
        return fit(spec, value, f"{self.name}.{spec.column}", f"tables.{self.logical}.columns.{field}")

    def row(self, values: dict[str, Any]) -> dict[str, Any]:
        """Physical column -> bound value: layout constants (`value:`) first, then the mapped values
        of the fields this layout has (a field a site removed is simply not written)."""
        out: dict[str, Any] = {}
        for field, spec in self.table.columns.items():
            if spec.value is not None:
                out[spec.column] = self.value(field, spec.value)
            elif field in values and values[field] is not None:
                out[spec.column] = self.value(field, values[field])
        return out

    def insert_sql(self, columns: list[str]) -> str:
        return f"INSERT INTO {self.name} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"

    def column(self, field: str) -> str:
        return self.table.columns[field].column
