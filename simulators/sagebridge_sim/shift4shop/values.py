"""Typed field values of the Shift4Shop write models.

The real API is ASP.NET Web API: a body field whose value cannot be read as the model's type makes
the request invalid (400), while fields the model does not have, or read-only ones, are ignored by the
JSON binder. The simulator does the same: `apply_fields` coerces the writable fields it knows and
ignores the rest (documented per resource). Field types come from shift4shop.md §2.1-§2.3.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from .wire import ApiError


class FieldError(ValueError):
    """A value of the wrong type for its field (answers 400, or a per-item 400 in a batch)."""

    def __init__(self, field: str, value: Any) -> None:
        super().__init__(f"The value '{value}' is not valid for {field}.")
        self.field = field


def as_decimal(field: str, value: Any) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise FieldError(field, value)
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise FieldError(field, value) from None
    if not d.is_finite():
        raise FieldError(field, value)
    return d


def as_int(field: str, value: Any) -> int:
    if isinstance(value, bool) or value is None:
        raise FieldError(field, value)
    if isinstance(value, int):
        return value
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise FieldError(field, value) from None
    if not d.is_finite() or d != d.to_integral_value():
        raise FieldError(field, value)
    return int(d)


def as_bool(field: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise FieldError(field, value)


def as_str(field: str, value: Any, max_len: int | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list, bool)):
        raise FieldError(field, value)
    text = str(value)
    if max_len is not None and len(text) > max_len:
        raise FieldError(field, value)
    return text


Coercer = Callable[[str, Any], Any]
DEC: Coercer = as_decimal
INT: Coercer = as_int
BOOL: Coercer = as_bool
STR: Coercer = as_str


def apply_fields(target: dict[str, Any], body: dict[str, Any], writable: dict[str, Coercer]) -> list[str]:
    """Copies each writable field of `body` into `target`, coerced; returns the names that changed
    value. All values are checked before any is written, so a bad one changes nothing."""
    staged = {name: writable[name](name, value) for name, value in body.items() if name in writable}
    changed = [name for name, value in staged.items() if target.get(name) != value]
    target.update(staged)
    return changed


def as_api_error(e: FieldError) -> ApiError:
    return ApiError(400, str(e), e.field)
