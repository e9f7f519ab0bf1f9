"""What every Sage 300 document the hub writes shares: its batch Description and its local date.

A receipt, an adjustment or a G/L journal has a generated batch number, so the hub finds its own by
the batch Description (char 60: ARBTA.BTCHDESC, GLBCTL.BTCHDESC), which it builds from the order
reference and the store's transaction: `<prefix><number>-P<txn>` (payment), `-F<txn>` (gateway fee),
`-R<refund>` (refund). Cutting it could make two documents share one Description, so one that does
not fit is refused instead. Dates are the store's calendar date, as for orders (an event at 02:30
UTC in New York belongs to the day before).
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sagebridge_common.errors import PermanentError

from .config import DESCRIPTION_MAX

PAYMENT, FEE, REFUND = "P", "F", "R"


def batch_description(pair: Any, order_number: str, kind: str, source_id: str) -> str:
    description = f"{pair.reference(order_number)}-{kind}{source_id}"
    if len(description) > DESCRIPTION_MAX:
        raise PermanentError(f"batch description {description!r} has {len(description)} characters; Sage 300's "
                             f"batch Description holds {DESCRIPTION_MAX}: shorten reference_prefix",
                             reason="sage300_description_too_long")
    return description


def local_date(pair: Any, at: datetime) -> date:
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(pair.zone).date()


def num(d: Any) -> str:
    """Decimals travel as JSON strings so no float rounding happens on our side of the wire."""
    return format(d.normalize(), "f")
