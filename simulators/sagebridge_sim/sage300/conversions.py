"""Value conversion between Sage's column storage and Web API JSON, and request-body checks.

Why: the Web API carries enums as names (`Status: "Active"`, `OnHold: "No"`; SDK Developer Reference
and the SDK's ARCustomers sample), dates as ISO strings while the tables hold DECIMAL(9,0) YYYYMMDD,
and money as exact decimals. Every resource converts through these, so a client sending a code
instead of a name, a float artefact or an over-long string is refused the same way everywhere.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from .http_errors import invalid_payload, record_invalid

class Conv:
    """Text column <-> JSON string. Subclasses for other shapes."""

    def to_api(self, value: Any) -> Any:
        return value

    def from_api(self, prop: str, value: Any, size: int, scale: int) -> Any:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise invalid_payload(f"Property {prop} must be a string.")
        if len(value) > size:   # a business rule of the view (the column's size), not a malformed body
            raise record_invalid(f"Property {prop} is longer than {size} characters.")
        return value


class IntConv(Conv):
    def to_api(self, value: Any) -> Any:
        return int(value)

    def from_api(self, prop: str, value: Any, size: int, scale: int) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid_payload(f"Property {prop} must be an integer.")
        return value


class BoolConv(Conv):
    def to_api(self, value: Any) -> Any:
        return bool(value)

    def from_api(self, prop: str, value: Any, size: int, scale: int) -> Any:
        if not isinstance(value, bool):
            raise invalid_payload(f"Property {prop} must be true or false.")
        return int(value)


class DecConv(Conv):
    def from_api(self, prop: str, value: Any, size: int, scale: int) -> Any:
        return parse_decimal(prop, value, scale)


class DateConv(Conv):
    def to_api(self, value: Any) -> Any:
        return api_date(int(value))

    def from_api(self, prop: str, value: Any, size: int, scale: int) -> Any:
        return parse_date(prop, value)


@dataclass
class EnumConv(Conv):
    names: dict[int, str]

    def to_api(self, value: Any) -> Any:
        return self.names.get(int(value), str(value))

    def from_api(self, prop: str, value: Any, size: int, scale: int) -> Any:
        for code, name in self.names.items():
            if value == name:
                return code
        raise invalid_payload(f"Property {prop} must be one of {', '.join(self.names.values())}.")


STR, INT, BOOL, DEC, DATE = Conv(), IntConv(), BoolConv(), DecConv(), DateConv()


def parse_decimal(prop: str, value: Any, scale: int) -> Decimal:
    """JSON number or numeric string -> Decimal; more decimals than the column keeps is an error
    (a float artefact like 59.970000000000006 must not be silently rounded away)."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        raise invalid_payload(f"Property {prop} must be a number.")
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise invalid_payload(f"Property {prop} must be a number.") from None
    if not number.is_finite():
        raise invalid_payload(f"Property {prop} must be a number.")
    exp = Decimal(1).scaleb(-scale)
    if number.quantize(exp) != number:
        raise invalid_payload(f"Property {prop} allows at most {scale} decimal places.")
    return number.quantize(exp)


def parse_date(prop: str, value: Any) -> int:
    """"YYYY-MM-DD" or an ISO date-time -> YYYYMMDD (date part as sent, no time zone shift)."""
    if not isinstance(value, str):
        raise invalid_payload(f"Property {prop} must be a date string.")
    match = re.match(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$", value.strip())
    if not match:
        raise invalid_payload(f"Property {prop} is not a valid date: {value!r}.")
    try:
        day = datetime(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise invalid_payload(f"Property {prop} is not a valid date: {value!r}.") from None
    return day.year * 10000 + day.month * 100 + day.day


def api_date(yyyymmdd: int) -> str | None:
    """Sage date number -> "2024-11-05T00:00:00Z" (0 = blank -> null)."""
    if not yyyymmdd:
        return None
    y, md = divmod(yyyymmdd, 10000)
    m, d = divmod(md, 100)
    return f"{y:04d}-{m:02d}-{d:02d}T00:00:00Z"


def audit_ms(row: dict[str, Any]) -> int:
    """Epoch ms of a row's AUDTDATE/AUDTTIME (UTC), for orders the simulator did not receive itself."""
    date, time_ = int(row["AUDTDATE"]), int(row["AUDTTIME"])
    stamp = datetime(date // 10000, date // 100 % 100, date % 100, time_ // 1000000, time_ // 10000 % 100,
                     time_ // 100 % 100, time_ % 100 * 10000, tzinfo=timezone.utc)
    return int(stamp.timestamp() * 1000)



# ----- request-body checks ---------------------------------------------------------------------------
def require_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid_payload(f"{what} must be a JSON object.")
    return value


def reject_unknown(payload: dict[str, Any], allowed: set[str], where: str) -> None:
    """Unknown properties are refused (400 InvalidPayload naming the property): Sage does not document
    what it does with them, and the strict answer catches a client's misspelt property."""
    for name in payload:
        if name not in allowed:
            raise invalid_payload(f"Property {name} is not valid for {where}.")


def required_text(payload: dict[str, Any], prop: str, where: str) -> str:
    value = payload.get(prop)
    if not isinstance(value, str) or not value.strip():
        raise invalid_payload(f"{where}{prop} is required.")
    return value.strip()


def decimal_field(payload: dict[str, Any], prop: str, scale: int, where: str) -> Decimal:
    if payload.get(prop) is None:
        raise invalid_payload(f"{where}{prop} is required.")
    return parse_decimal(where + prop, payload[prop], scale)
