"""The store's clock and time zone, and the store-local date formats of the wire.

Shift4Shop sends and filters every date in the *store's* local time without an offset
(shift4shop.md §1.3 "Date filters and returned dates are store-local time without offset", §2.1
`"2013-09-15T20:12:52"`). The simulator keeps times as UTC epoch seconds inside and converts only at
the edge with its own store time zone, so tests can check that a connector converts correctly.

The clock runs with the wall clock plus an offset that tests move (`/_sim/clock`): placing an order at
23:30 store time means setting the clock to that local time, no sleeping.
"""
from __future__ import annotations

import threading
import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

WIRE_FORMAT = "%Y-%m-%dT%H:%M:%S"          # §2.1 returned dates
FILTER_DATETIME = "%m/%d/%Y %H:%M:%S"       # §1.3 datestart/dateend
FILTER_DATE = "%m/%d/%Y"                    # §1.3 lastupdatestart/lastupdateend


class StoreClock:
    """Controllable clock (UTC epoch seconds) plus the store's zone for wire conversions."""

    def __init__(self, tz_name: str = "America/New_York") -> None:
        self.tz = ZoneInfo(tz_name)
        self.tz_name = tz_name
        self._offset = 0.0
        self._lock = threading.Lock()
        self._last = 0.0

    # ---- the clock -----------------------------------------------------------------------
    def now(self) -> float:
        """Current simulated UTC epoch seconds, strictly increasing between calls so two writes in
        the same microsecond still get distinct LastUpdate stamps in memory."""
        with self._lock:
            t = time.time() + self._offset
            if t <= self._last:
                t = self._last + 1e-6
            self._last = t
            return t

    @property
    def offset(self) -> float:
        return self._offset

    def set_offset(self, seconds: float) -> None:
        with self._lock:
            self._offset = float(seconds)
            self._last = 0.0

    def advance(self, seconds: float) -> None:
        self.set_offset(self._offset + float(seconds))

    def set_utc(self, epoch: float) -> None:
        self.set_offset(epoch - time.time())

    def set_local(self, local: str) -> None:
        """Move the clock so that store-local time now reads `local` ("YYYY-MM-DDTHH:MM:SS")."""
        self.set_utc(self.local_to_epoch(datetime.strptime(local, WIRE_FORMAT)))

    # ---- conversions ---------------------------------------------------------------------
    def local(self, epoch: float) -> datetime:
        """Naive store-local datetime of a UTC epoch."""
        return datetime.fromtimestamp(epoch, timezone.utc).astimezone(self.tz).replace(tzinfo=None)

    def wire(self, epoch: float | None) -> str:
        """`YYYY-MM-DDTHH:MM:SS` store-local, no offset (§2.1); "" for no time."""
        if epoch is None:
            return ""
        return self.local(epoch).strftime(WIRE_FORMAT)

    def local_date(self, epoch: float) -> date:
        return self.local(epoch).date()

    def local_to_epoch(self, naive: datetime) -> float:
        """A naive store-local time as UTC epoch (an ambiguous DST hour reads as its first
        occurrence, `fold=0`, as a database without zone information would compare it)."""
        return naive.replace(tzinfo=self.tz).timestamp()

    def snapshot(self) -> dict[str, object]:
        now = self.now()
        return {"offset_seconds": self._offset, "now_utc": datetime.fromtimestamp(now, timezone.utc).isoformat(),
                "now_local": self.wire(now), "store_time_zone": self.tz_name}


def parse_filter_datetime(value: str) -> datetime | None:
    """`mm/dd/yyyy hh:mm:ss` or a bare `mm/dd/yyyy` (midnight) as a naive local time; None when the
    value cannot be read. §1.3 documents the format; what the real API does with an unreadable value
    is not documented, the simulator assumes it ignores that filter (see `query`)."""
    value = value.strip()
    for fmt in (FILTER_DATETIME, "%m/%d/%Y %H:%M", FILTER_DATE):
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None


def parse_filter_date(value: str) -> date | None:
    """`lastupdatestart/end` are DATES (§1.3 `mm/dd/yyyy`): a time part, if sent, is dropped, so a
    start day includes that whole store-local day and an end day includes all of its day too."""
    parsed = parse_filter_datetime(value)
    return parsed.date() if parsed else None


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, next day start) of a local day."""
    start = datetime(day.year, day.month, day.day)
    return start, start + timedelta(days=1)
