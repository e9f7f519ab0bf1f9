"""Values in and out of the Sage Pro tables, column by column as the layout describes them.

Why here and strict: Visual FoxPro keeps char fields fixed-width and blank-padded, numerics at their
declared scale and has no NULL in the Sage Pro tables we know of (reference sage300_sagepro.md §3:
`sono` is char 10 left-padded). The simulator writes what a Sage Pro clerk's screen would leave:
every char padded to its width (left-padded fields right-aligned), numerics quantized to the column
scale, and it refuses a value that does not fit instead of truncating it (PostgreSQL would refuse it
too, 22001/22003). Assumed, not known: a blank date is NULL here (VFP has an empty date, no NULL).

Read back: SQLite (sqlite3odbc) returns NUMERIC as float and psqlODBC returns booleans as '1'/'0', so
every value is normalised here to the column's Python type (Decimal, int, date, bool, str).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sagebridge_connectors.sagepro.layout import ColumnSpec


class ValueRefused(ValueError):
    """A value that does not fit its column (too long, too many digits, not a number or a date)."""


def blank(spec: ColumnSpec) -> Any:
    """What an untouched field holds: blanks, zero, no date, false."""
    return {"char": "", "numeric": Decimal(0), "integer": 0, "date": None, "logical": False}[spec.type]


def to_db(spec: ColumnSpec, value: Any, engine: str) -> Any:
    """A Python value -> the bound parameter for `spec`'s column on `engine` (postgres | sqlite)."""
    if value is None:
        value = blank(spec)
    if spec.type == "char":
        return stored_char(spec, str(value))
    if spec.type == "numeric":
        return decimal_for(spec, value)
    if spec.type == "integer":
        return int(value)
    if spec.type == "date":
        return date_of(value, spec.column)
    flag = bool_of(value)
    return flag if engine == "postgres" else int(flag)


def stored_char(spec: ColumnSpec, text: str) -> str:
    """The char as VFP keeps it: full width, left-padded fields right-aligned with their fill."""
    width = spec.width or len(text)
    core = text.strip() if spec.pad == "left" else text.rstrip()
    if len(core) > width:
        raise ValueRefused(f"{spec.column}: {core!r} is longer than {width} characters")
    return core.rjust(width, spec.fill) if spec.pad == "left" else core.ljust(width)


def char_forms(spec: ColumnSpec, text: str) -> list[str]:
    """Every stored form a char key may have (padded by us, unpadded by a writer that does not pad
    on an engine that keeps what it is given): an index-friendly `col IN (...)`."""
    core = text.strip() if spec.pad == "left" else text.rstrip()
    if len(core) > (spec.width or len(core)):
        return [core]                  # cannot be stored, so matches nothing (no error for a lookup)
    return list(dict.fromkeys([stored_char(spec, text), core]))


def decimal_for(spec: ColumnSpec, value: Any) -> Decimal:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueRefused(f"{spec.column}: {value!r} is not a number") from None
    if not number.is_finite():
        raise ValueRefused(f"{spec.column}: {value!r} is not a number")
    exp = Decimal(1).scaleb(-spec.scale)
    out = number.quantize(exp)
    if out != number:
        raise ValueRefused(f"{spec.column}: {value} has more than {spec.scale} decimal places")
    if abs(out) >= Decimal(10) ** ((spec.width or 18) - spec.scale):
        raise ValueRefused(f"{spec.column}: {value} does not fit numeric({spec.width},{spec.scale})")
    return out


def date_of(value: Any, column: str = "date") -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ValueRefused(f"{column}: {value!r} is not a date (YYYY-MM-DD)") from None


def bool_of(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "t", "true", "y", "yes", ".t.")
    return bool(value)


def from_db(spec: ColumnSpec, value: Any, raw: bool = False) -> Any:
    """A column value read back -> the field's Python value (char stripped unless `raw`)."""
    if spec.type == "char":
        text = "" if value is None else str(value)
        return text if raw else text.strip()
    if spec.type == "numeric":
        number = Decimal(str(value)) if value is not None else Decimal(0)
        return number.quantize(Decimal(1).scaleb(-spec.scale))
    if spec.type == "integer":
        return int(value or 0)
    if spec.type == "date":
        return date_of(value, spec.column)
    return bool_of(value)


def jsonable(value: Any) -> Any:
    """Rows -> JSON values: Decimal as exact strings, dates as ISO text."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value
