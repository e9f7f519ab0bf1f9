"""Timestamps from external systems, normalised to aware UTC datetimes.

Storefronts render offsets without a colon (X-Cart's PHP `DateTime::ISO8601` gives
`2024-11-05T15:42:10+0000`), which `datetime.fromisoformat` rejects before Python 3.11's full
ISO support in every form we meet, so the colon is restored before parsing.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator


def parse_iso8601(value: str) -> datetime:
    """Raises ValueError on anything that is not an ISO-8601 date-time; naive values count as UTC."""
    v = value.strip().replace("Z", "+00:00")
    if len(v) >= 5 and v[-5] in "+-" and v[-4:].isdigit():
        v = v[:-2] + ":" + v[-2:]
    parsed = datetime.fromisoformat(v)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _empty_is_unset(value):
    return None if value == "" else value


def _naive_is_utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


# A pair-file instant that may be left empty (`${POLL_START_AT:-}` expands to ""): "" is unset, and a
# time written without an offset is UTC, as every time inside the hub is.
OptionalUtcDatetime = Annotated[datetime | None, BeforeValidator(_empty_is_unset), AfterValidator(_naive_is_utc)]
