"""Small pieces every Intacct document shares: dates, query literals, amounts, control ids.

Dates are the store's calendar date of the event (an order at 02:30 UTC in New York belongs to the
day before), written `mm/dd/yyyy` for 3.0 objects or as {year, month, day} for legacy functions
(intacct.md §4). Query literals are single-quoted with '' for a quote (the issue-9 contract; the
XML layer escapes < and &). Amounts are Decimal text, never floats.
"""
from __future__ import annotations

import hashlib
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from .envelope import element

REFERENCE_MAX = 100          # SODOCUMENT referenceno (issue-9 contract; the simulator enforces it)


def local_date(pair: Any, at: datetime) -> date:
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(pair.zone).date()


def mdy(d: date) -> str:
    return d.strftime("%m/%d/%Y")


def date_parts(tag: str, d: date):
    return element(tag, None, element("year", d.year), element("month", f"{d.month:02d}"),
                   element("day", f"{d.day:02d}"))


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def money(d: Decimal) -> str:
    """Two decimals at least, trailing zeros of finer amounts dropped (19.99, 5.00, 0.125)."""
    q = d.quantize(Decimal("0.01")) if d == d.quantize(Decimal("0.01")) else d.normalize()
    return format(q, "f")


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
