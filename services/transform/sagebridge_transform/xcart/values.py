"""Reading X-Cart JSON values: money as exact Decimal, dates in either of the shapes X-Cart renders,
trimmed text. A value that cannot be read is the record's fault: PermanentError (DLQ) with a reason.

Money is parsed from the JSON text straight into Decimal (`parse_float=Decimal`); a float never
touches it. Dates: the 5.5 API renders `DateTime::ISO8601` ("2024-11-05T15:42:10+0000", offset
without a colon); native and profile fields may be unix seconds.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sagebridge_common.errors import PermanentError
from sagebridge_common.times import parse_iso8601

FOUR_PLACES = Decimal("0.0001")


def money(value: Any, field: str, reason: str = "invalid_order") -> Decimal:
    try:
        return Decimal(str(value if value is not None else 0)).quantize(FOUR_PLACES, ROUND_HALF_UP)
    except InvalidOperation as e:
        raise PermanentError(f"{field} is not a number: {value!r}", reason=reason) from e


def parse_time(value: Any, field: str, reason: str = "invalid_order") -> datetime:
    if value is None or value == "":
        raise PermanentError(f"{field} missing", reason=reason)
    if isinstance(value, (int, Decimal)) or (isinstance(value, str) and value.strip().isdigit()):
        return datetime.fromtimestamp(int(value), tz=timezone.utc)
    try:
        return parse_iso8601(str(value))
    except ValueError as e:
        raise PermanentError(f"{field} is not a date: {value!r}", reason=reason) from e


def text(value: Any) -> str | None:
    """Trimmed text, None for missing or blank."""
    if value is None:
        return None
    s = str(value).strip()
    return s or None


def parse_json(payload: str, required: str) -> dict:
    """The raw record's JSON document; it must hold an object under `required`."""
    try:
        doc = json.loads(payload, parse_float=Decimal)
    except ValueError as e:
        raise PermanentError(f"raw payload is not JSON: {e}", reason="malformed_payload") from e
    if not isinstance(doc, dict) or not isinstance(doc.get(required), dict):
        raise PermanentError(f"raw payload has no `{required}` object", reason="malformed_payload")
    return doc
