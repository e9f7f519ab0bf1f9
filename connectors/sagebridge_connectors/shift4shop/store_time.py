"""Store-local time at the Shift4Shop edge, UTC everywhere else.

Every date the REST API takes or gives is the store's local time with no offset on the wire
(shift4shop.md §1.3, §2.1: `"2013-09-15T20:12:52"`), so the pair file's `store_time_zone` converts
both ways. A local time that occurs twice (the hour repeated when DST ends) is read with `fold=0`,
the first occurrence: the API gives no hint which one was meant, and the earlier instant can only
make a poll re-read a row (the feed's overlap), never skip one. A local time that does not exist
(the hour skipped when DST starts) is shifted forward by zoneinfo's normal rules.
"""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

_FORMATS = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y")


def parse_store_time(value: str, zone: ZoneInfo) -> datetime:
    """A store-local date-time (ISO without offset, or `mm/dd/yyyy[ hh:mm:ss]`) as aware UTC.
    A value that carries an offset is taken at its word. Raises ValueError on anything else."""
    text = str(value).strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
        for fmt in _FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if parsed is None:
            raise ValueError(f"not a Shift4Shop date: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone, fold=0)
    return parsed.astimezone(timezone.utc)


def epoch_of(value: str, zone: ZoneInfo) -> int:
    return int(parse_store_time(value, zone).timestamp())


def local(when: datetime, zone: ZoneInfo) -> datetime:
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(zone)


def filter_date(when: datetime, zone: ZoneInfo) -> str:
    """`mm/dd/yyyy`: the `lastupdatestart` filter's format (a DATE, shift4shop.md §1.3)."""
    return local(when, zone).strftime("%m/%d/%Y")


def filter_datetime(when: datetime, zone: ZoneInfo) -> str:
    """`mm/dd/yyyy hh:mm:ss`: the `datestart`/`dateend` filters' format (shift4shop.md §1.3)."""
    return local(when, zone).strftime("%m/%d/%Y %H:%M:%S")


def shipped_date(when: datetime, zone: ZoneInfo) -> str:
    """`m/d/yyyy` without leading zeros: `ShipmentShippedDate` as the store renders it (§2.1)."""
    d = local(when, zone)
    return f"{d.month}/{d.day}/{d.year}"
