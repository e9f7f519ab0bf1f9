"""Reading 3dcart / Shift4Shop values (REST JSON and SOAP XML-as-dict alike): money, store-local
times, text, repeated XML children. Anything unreadable is the record's fault: PermanentError.

- Money: REST sends JSON numbers (parsed straight to Decimal), SOAP sends the store's text, which
  may carry thousands separators ("1,500.00", shift4shop.md §4). A float never touches it.
- Times: both APIs give store-local times WITHOUT an offset (shift4shop.md §1.3, §2.1): REST
  "2013-09-15T20:12:52", SOAP Date "6/22/2009" with Time "12:44:37 PM" (the recorded mock even
  writes "12: 44:37 PM", so whitespace around the colons is tolerated). They are read in the
  pair's `store_time_zone` and turned into UTC; an offset, if a store ever sends one, is honoured.
- XML-as-dict: an empty container element is "" (xmltodict: a leaf's text), so `children()` reads
  a container that may be "", a dict of one child, or the list the connector promises.
"""
from __future__ import annotations

import functools
import json
import re
from datetime import datetime, time, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Callable, TypeVar
from zoneinfo import ZoneInfo

from sagebridge_common.errors import PermanentError

from ..xcart.values import FOUR_PLACES, text

__all__ = ["FOUR_PLACES", "children", "is_date_only", "malformed_is_permanent", "money", "parse_json",
           "store_time", "text"]

_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
_SOAP_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y")
_DATE_ONLY = re.compile(r"^\d{1,2}/\d{1,2}/\d{4}$|^\d{4}-\d{2}-\d{2}$")
F = TypeVar("F", bound=Callable[..., Any])


def money(value: Any, field: str, reason: str = "invalid_order") -> Decimal:
    """Exact Decimal (4 places); missing or "" is 0 (SOAP writes empty amounts as empty elements)."""
    if isinstance(value, bool):
        raise PermanentError(f"{field} is not a number: {value!r}", reason=reason)
    s = "" if value is None else str(value).strip()
    if _GROUPED.match(s):
        s = s.replace(",", "")
    try:
        d = Decimal(s or 0)
    except InvalidOperation as e:
        raise PermanentError(f"{field} is not a number: {value!r}", reason=reason) from e
    if not d.is_finite():
        raise PermanentError(f"{field} is not a number: {value!r}", reason=reason)
    return d.quantize(FOUR_PLACES, ROUND_HALF_UP)


def _normalised(value: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\s*:\s*", ":", value.strip()))


def is_date_only(value: Any) -> bool:
    return isinstance(value, str) and bool(_DATE_ONLY.match(value.strip()))


def store_time(value: Any, zone: ZoneInfo, field: str, reason: str = "invalid_order") -> datetime:
    """A store-local time (REST ISO without offset, or SOAP "m/d/yyyy[ h:mm:ss AM]") as aware UTC."""
    s = _normalised(value) if isinstance(value, str) else ""
    if not s:
        raise PermanentError(f"{field} missing", reason=reason)
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        for fmt in _SOAP_FORMATS:
            try:
                parsed = datetime.strptime(s.upper(), fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        raise PermanentError(f"{field} is not a date: {value!r}", reason=reason)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError as e:          # "0001-01-01T00:00:00" in a zone ahead of UTC
        raise PermanentError(f"{field} is out of range: {value!r}", reason=reason) from e


def store_day_start(at: datetime, zone: ZoneInfo) -> datetime:
    """Midnight of `at`'s store-local day, in UTC."""
    local = at.astimezone(zone)
    return datetime.combine(local.date(), time(0), tzinfo=zone).astimezone(timezone.utc)


def children(container: Any, name: str) -> list[dict]:
    """The `name` children of an XML container read as a dict ("" when empty); non-elements dropped."""
    if not isinstance(container, dict):
        return []
    found = container.get(name)
    items = found if isinstance(found, list) else [found]
    return [i for i in items if isinstance(i, dict)]


def parse_json(payload: str, required: str) -> dict:
    """The raw record's JSON document; it must hold an object under `required`."""
    try:
        doc = json.loads(payload, parse_float=Decimal)
    except (TypeError, ValueError) as e:
        raise PermanentError(f"raw payload is not JSON: {e}", reason="malformed_payload") from e
    if not isinstance(doc, dict) or not isinstance(doc.get(required), dict):
        raise PermanentError(f"raw payload has no `{required}` object", reason="malformed_payload")
    return doc


def malformed_is_permanent(what: str, reason: str) -> Callable[[F], F]:
    """A payload of the wrong shape (a list where an object belongs, a missing key) is the record's
    fault: PermanentError naming the exception, never a crash that would be retried."""
    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except (KeyError, TypeError, AttributeError, IndexError, ValueError, OverflowError) as e:
                raise PermanentError(f"{what} of an unexpected shape: {type(e).__name__}: {e}",
                                     reason=reason) from e
        return inner  # type: ignore[return-value]
    return wrap
