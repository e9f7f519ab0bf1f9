"""One `erp.raw.v1` record from Intacct change capture (issue 9 contract §6) read as a row.

erp_cdc writes `after` as JSON object text of the record's flattened fields as the XML API
returned them (every value text: decimals like "12.50" stay strings, a float never touches them),
plus WHENMODIFIED_UTC (ISO UTC). `position` is "<12-digit epoch s>|<12-digit RECORDNO>" (then "|<n:04d>"
for a second edit within one second, capture_cursor.py), so two
positions of one record compare as strings; tables are ITEM, ITEMWAREHOUSEINFO, SODOCUMENT (the
orders' definition) and SHIPPER (the shipment definition's SODOCUMENTs). Intacct capture emits
upserts only. The kept-row model and value readers are Sage 300's (`sage300.rows`,
`sage300.row_state`): the same keyed state, entity by entity.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from sagebridge_common.errors import PermanentError

from ..sage300.rows import MALFORMED, Row

POSITION = re.compile(r"^\d{12}\|\d{12}(\|\d{4})?$")   # |n: a second edit within one second


def parse(raw: dict[str, Any], entity: str) -> Row:
    """The row of a RawErpChange record; PermanentError when its op, key or position is unusable."""
    table, op = str(raw.get("table") or "").upper(), raw.get("op")
    where = f"{table} {raw.get('key')!r}"
    if op != "upsert":
        raise PermanentError(f"{where}: op {op!r}: Intacct capture emits upserts only", reason=MALFORMED)
    position = raw.get("position") or ""
    if not POSITION.match(position):
        raise PermanentError(f"{where}: position {position!r} is not <12-digit epoch>|<12-digit RECORDNO>",
                             reason=MALFORMED)
    if raw.get("after") is None:
        raise PermanentError(f"{where}: an upsert without `after`", reason=MALFORMED)
    if not entity:
        raise PermanentError(f"{where}: no entity key", reason=MALFORMED)
    occurred = raw["metadata"]["occurred_at"]
    if isinstance(occurred, datetime) and occurred.tzinfo is None:
        occurred = occurred.replace(tzinfo=timezone.utc)
    row = Row(table, op, str(raw.get("key") or ""), entity, raw["after"], position, occurred, raw["metadata"])
    row.values()                # malformed JSON fails here, before any state is touched
    return row


def capture_config(pair):
    """The pair's `erp.change_capture` block (its field names and order states); the defaults
    when the pair has none (its rows then come from an older config or a replay)."""
    cc = getattr(pair.erp, "change_capture", None)
    if cc is None:
        from sagebridge_connectors.intacct.config import ChangeCaptureConfig
        cc = ChangeCaptureConfig()
    return cc


def intacct_date(value: str | None) -> datetime | None:
    """An Intacct date (`mm/dd/yyyy`, the company's calendar) as UTC midnight; None when blank."""
    if not value or not value.strip():
        return None
    try:
        return datetime.strptime(value.strip(), "%m/%d/%Y").replace(tzinfo=timezone.utc)
    except ValueError as e:
        raise PermanentError(f"{value!r} is not a mm/dd/yyyy date", reason=MALFORMED) from e
