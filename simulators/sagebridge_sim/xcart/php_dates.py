"""The part of PHP's date parsing that an X-Cart 5.5 date filter value goes through.

X-Cart 5.5's API is API Platform; its DateFilter (`?lastRenewDate[after]=value`, also `before`,
`strictly_after`, `strictly_before`) documents that "the value can take any date format supported
by the \\DateTime constructor" (api-platform.com, Doctrine ORM DateFilter reference), and when the
constructor throws it ignores that filter instead of answering 400 (the filter's `addWhere` catches
the exception and returns). A client whose value PHP cannot parse therefore silently gets the whole
unfiltered collection.

The formats accepted here are the ones PHP's manual lists ("Supported Date and Time Formats",
php.net) that a client would send: `@<unix seconds>` (optionally negative or with a fraction),
ISO 8601 dates and date-times with `T` or a space, optional fraction, and an offset written `Z`,
`+HH`, `+HHMM` or `+HH:MM`. A value without an offset is in the store's default time zone (UTC in
the simulator). Everything else is unparseable, including bare digit strings such as `1730828882`:
the `\\DateTime` constructor does not read them as Unix time, so the filter is dropped. A `+` that
a client forgot to percent-encode reaches the server as a space (form decoding), which no format
above accepts either, so that value is dropped too.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

_UNIX = re.compile(r"^@(-?\d+(?:\.\d+)?)$")
_ISO = re.compile(
    r"^(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})"
    r"(?:[T ](?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d{1,6})\d*)?)?"
    r"(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?)?$", re.IGNORECASE)


def _offset(tz: str | None) -> timezone:
    if not tz or tz.upper() == "Z":
        return timezone.utc
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError("offset out of range")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def php_datetime(value: str) -> float | None:
    """Unix seconds for a value `new \\DateTime($value)` accepts (the subset above); None otherwise."""
    value = value.strip()
    m = _UNIX.match(value)
    if m:
        return float(m.group(1))
    m = _ISO.match(value)
    if not m:
        return None
    try:
        dt = datetime(int(m["y"]), int(m["m"]), int(m["d"]), int(m["H"] or 0), int(m["M"] or 0),
                      int(m["S"] or 0), int((m["f"] or "0").ljust(6, "0")), tzinfo=_offset(m["tz"]))
    except ValueError:
        return None
    return dt.timestamp()
