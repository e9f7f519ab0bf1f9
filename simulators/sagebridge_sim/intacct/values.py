"""Values on the Intacct wire: company-zone datetimes, dates, decimals (issue-9 contract §1).

Datetimes are held as aware UTC datetimes at SECONDS resolution (equal stamps happen, as they do in
Intacct) and written `mm/dd/yyyy HH:MM:SS` in the company's time zone; dates `mm/dd/yyyy`
(intacct.md §4 "Reading changes"). The zone of WHENMODIFIED is "not confirmed" (intacct.md §6): the
simulator chose the company zone (env INTACCT_TIME_ZONE) and the client makes it configurable.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

DT_FORMAT = "%m/%d/%Y %H:%M:%S"
D_FORMAT = "%m/%d/%Y"


class CompanyClock:
    """The sim clock (real time, truncated to seconds) and the company zone conversions."""

    def __init__(self, tz: str = "America/Los_Angeles") -> None:
        self.tz_name = tz
        self.zone = ZoneInfo(tz)

    def now(self) -> datetime:
        return datetime.now(timezone.utc).replace(microsecond=0)

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.zone)

    def format_dt(self, at: datetime) -> str:
        return self.local(at).strftime(DT_FORMAT)

    def iso(self, at: datetime) -> str:
        return self.local(at).isoformat()

    def parse_dt(self, text: str) -> datetime:
        """`mm/dd/yyyy HH:MM:SS` or `mm/dd/yyyy` (midnight) in the company zone -> UTC."""
        text = text.strip()
        for fmt in (DT_FORMAT, D_FORMAT):
            try:
                naive = datetime.strptime(text, fmt)
            except ValueError:
                continue
            return naive.replace(tzinfo=self.zone).astimezone(timezone.utc)
        raise ValueError(f"not a datetime: {text!r}")

    def today(self) -> date:
        return self.local(self.now()).date()


def parse_date(text: str) -> date:
    return datetime.strptime(text.strip(), D_FORMAT).date()


def parse_decimal(text: str | None) -> Decimal:
    try:
        value = Decimal((text or "").strip())
    except InvalidOperation:
        raise ValueError(f"not a number: {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a number: {text!r}")
    return value


def render(value: Any, clock: CompanyClock) -> str:
    """A stored value as element text ('' for None)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return clock.format_dt(value)
    if isinstance(value, date):
        return value.strftime(D_FORMAT)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
