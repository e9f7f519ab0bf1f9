"""How X-Cart 5.5 renders values at the JSON edge: money as 2-place floats, times as PHP date strings."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

CENT = Decimal("0.01")


def money(value: Any) -> Decimal:
    """Decimal rounded to cents; accepts the strings/numbers of the admin spec."""
    return Decimal(str(value)).quantize(CENT)


def as_float(value: Decimal) -> float:
    """X-Cart renders money as JSON numbers rounded to 2 places."""
    return float(value.quantize(CENT))


def iso8601(ts: float) -> str:
    """PHP `DateTime::ISO8601` as used by the 5.5 order and profile DTOs: `2024-11-05T15:42:10+0000`."""
    return datetime.fromtimestamp(int(ts), timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


def iso_c(ts: float) -> str:
    """PHP `date('c')` as used by the product DTOs: colon in the offset."""
    return datetime.fromtimestamp(int(ts), timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")
