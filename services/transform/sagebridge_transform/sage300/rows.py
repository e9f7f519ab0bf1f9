"""One `erp.raw.v1` record (RawErpChange v1 from erp_cdc) read as a Sage 300 row.

erp_cdc writes `after` as JSON object text: CHAR columns right-trimmed, DECIMAL columns as decimal
strings ("12.5000", never floats), SMALLINT as ints, AUDTDATE/AUDTTIME as ints, AUDTUSER trimmed;
a delete has `after` null. `position` is "<AUDTDATE*10^8+AUDTTIME, 16 digits>|<row key>", so two
positions of one row compare as strings. The helpers read columns into exact values: quantities
and prices become Decimal from their text (a float never touches them); a value that cannot be
read is the row's fault, a PermanentError (DLQ) with reason `malformed_row`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from sagebridge_common.errors import PermanentError

MALFORMED = "malformed_row"


@dataclass(frozen=True)
class Row:
    table: str
    op: str                     # upsert | delete
    key: str                    # primary-key values, trimmed, joined by "|"
    entity: str                 # the Kafka key: ITEMNO, IDCUST, ORDUNIQ or SHIUNIQ
    after: str | None           # the JSON text as captured (kept as is in keyed state)
    position: str
    occurred_at: datetime
    metadata: dict[str, Any]

    @property
    def deleted(self) -> bool:
        return self.op == "delete"

    def values(self) -> dict[str, Any]:
        return parse_after(self.after, f"{self.table} {self.key}")


def parse_after(after: str | None, where: str) -> dict[str, Any]:
    """The captured columns of a row ({} for a delete)."""
    if after is None:
        return {}
    try:
        doc = json.loads(after, parse_float=Decimal)
    except ValueError as e:
        raise PermanentError(f"{where}: `after` is not JSON: {e}", reason=MALFORMED) from e
    if not isinstance(doc, dict):
        raise PermanentError(f"{where}: `after` is not a JSON object", reason=MALFORMED)
    return doc


def parse(raw: dict[str, Any], entity: str) -> Row:
    """The row of a RawErpChange record; PermanentError when its op, key or position is unusable."""
    table, op = str(raw.get("table") or "").upper(), raw.get("op")
    where = f"{table} {raw.get('key')!r}"
    if op not in ("upsert", "delete"):
        raise PermanentError(f"{where}: op {op!r} is neither upsert nor delete", reason=MALFORMED)
    position = raw.get("position") or ""
    if not position[:16].isdigit():
        raise PermanentError(f"{where}: position {position!r} does not start with a 16-digit stamp",
                             reason=MALFORMED)
    if op == "upsert" and raw.get("after") is None:
        raise PermanentError(f"{where}: an upsert without `after`", reason=MALFORMED)
    occurred = raw["metadata"]["occurred_at"]
    if isinstance(occurred, datetime) and occurred.tzinfo is None:
        occurred = occurred.replace(tzinfo=timezone.utc)
    row = Row(table, op, str(raw.get("key") or ""), entity, raw.get("after") if op == "upsert" else None,
              position, occurred, raw["metadata"])
    row.values()                # malformed JSON fails here, before any state is touched
    return row


def dec(values: dict[str, Any], column: str, where: str = "") -> Decimal:
    """A DECIMAL column as Decimal (absent or null: 0)."""
    value = values.get(column)
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, bool) or isinstance(value, float):
        raise PermanentError(f"{where} {column}: {value!r} is not a decimal string", reason=MALFORMED)
    try:
        return Decimal(str(value).strip())
    except InvalidOperation as e:
        raise PermanentError(f"{where} {column}: {value!r} is not a number", reason=MALFORMED) from e


def integer(values: dict[str, Any], column: str, where: str = "") -> int:
    """A SMALLINT (or DECIMAL(n,0)) column as int (absent or null: 0)."""
    number = dec(values, column, where)
    if number != number.to_integral_value():
        raise PermanentError(f"{where} {column}: {number} is not a whole number", reason=MALFORMED)
    return int(number)


def text(values: dict[str, Any], column: str) -> str | None:
    """A CHAR column, trimmed; None when blank."""
    value = values.get(column)
    if value is None:
        return None
    s = str(value).strip()
    return s or None


def sage_date(value: int) -> datetime | None:
    """A Sage date (YYYYMMDD, 0 = blank) as UTC midnight."""
    if not value:
        return None
    try:
        return datetime(value // 10000, value // 100 % 100, value % 100, tzinfo=timezone.utc)
    except ValueError as e:
        raise PermanentError(f"{value} is not a YYYYMMDD date", reason=MALFORMED) from e
