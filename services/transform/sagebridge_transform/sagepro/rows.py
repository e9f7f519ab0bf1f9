"""One `erp.raw.v1` record from Sage Pro change capture (issue 10 contract, "wire format") read as a row.

Sage Pro rows carry no audit stamps (reference sage300_sagepro.md §3), so erp_cdc captures them by
snapshot diff: `after` is JSON object text of the layout table's *logical* fields (the keys of
`default_layout.yaml` `columns`, never the site's physical column names): char fields stripped,
numeric fields as decimal strings at the column's scale ("12.50", never floats), integer as int,
date as "YYYY-MM-DD" or null, logical as true/false; a delete has `after` null. `position` is
"<read time, UTC microseconds, 16 digits>|<row key>", so two positions of one row compare as
strings. The kept-row model and the value readers are Sage 300's (`sage300.rows`,
`sage300.row_state`); what is Sage Pro's own is the position check and the date reader.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Any

from sagebridge_common.errors import PermanentError

from ..sage300.rows import MALFORMED, Row
from ..sage300.rows import parse as parse_sage_row

POSITION = re.compile(r"^\d{16}\|.+$")


def parse(raw: dict[str, Any], entity: str) -> Row:
    """The row of a RawErpChange record; PermanentError (`malformed_row`) when its op, key, entity,
    position or `after` is unusable, before any state is touched."""
    where = f"{str(raw.get('table') or '').upper()} {raw.get('key')!r}"
    key = str(raw.get("key") or "")
    if not key or not entity:
        raise PermanentError(f"{where}: no row key or entity key", reason=MALFORMED)
    position = raw.get("position") or ""
    if not POSITION.match(position) or position[17:] != key:
        raise PermanentError(f"{where}: position {position!r} is not <16-digit read time>|<row key>",
                             reason=MALFORMED)
    return parse_sage_row(raw, entity)


def pro_date(values: dict[str, Any], field: str, where: str = "") -> datetime | None:
    """A date field ("YYYY-MM-DD", null or blank = none) as UTC midnight."""
    value = values.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise PermanentError(f"{where} {field}: {value!r} is not a YYYY-MM-DD date", reason=MALFORMED)
    try:
        day = date.fromisoformat(value.strip())
    except ValueError as e:
        raise PermanentError(f"{where} {field}: {value!r} is not a YYYY-MM-DD date", reason=MALFORMED) from e
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
