"""Change capture from tables that stamp every row on write (Sage 300's AUDTDATE/AUDTTIME): a
`contracts.ErpSource` for the runtime's `source_runner.SourceRunner`, one stream per table.

Why this shape. Such tables have no change log: a row's stamp is all there is, written by the ERP's
clock when its transaction runs, not when it commits, and many rows share one stamp (hundredths
of a second). So:

- Keyset paging on (stamp date, stamp time, key...) with one indexed range query per table and
  page (`sql_dialect.range_query`): rows sharing a stamp are told apart by their key, never skipped.
- The cursor is the position of the last row read. While a scan pages (`has_more`) the next page
  continues strictly after it; a new poll starts again `overlap_s` before it, so a transaction that
  committed late with an older stamp is still read (but no earlier than `overlap_s` before the
  previous read began: the ERP's clock, in `zone`, and ours must agree within the overlap).
- What was already emitted is recognised by value, not position: `row_memory.RowMemory` keeps a
  hash of each row's captured value, so an overlap re-read, a re-poll or a restart emits nothing,
  and each distinct value of a row is emitted once. Memory is updated only after the page's events
  are acknowledged (`delivered`, called by the runner before it saves the cursor).
- Deletes leave no trace in the table: every `reconcile_interval_s`, once a scan reached the end,
  the next page of the same stream is a key listing; keys remembered but absent become delete
  events. Being a page of the same stream, a delete can never overtake a later re-insert of the key.

The engine-specific parts come from outside: the SQL dialect, a `connect()` that opens a DB-API
connection, `convert(column, value)` for each column read, `classify(exc)` mapping driver errors
to the runtime's `TransientError` / `PermanentError`.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable
from zoneinfo import ZoneInfo

from prometheus_client import Counter, Gauge

from .capture_pages import CDC_CHANGES, CommitOnDelivery  # noqa: F401  (CDC_CHANGES: re-exported)
from .contracts import Change, ChangePage
from .row_memory import RowMemory, row_hash
from .sql_connection import SqlConnection
from .sql_dialect import Dialect, key_query, ping_query, range_query

log = logging.getLogger(__name__)

CDC_QUERIES = Counter("sagebridge_cdc_queries_total", "Queries change capture ran",
                      ["pair", "table", "kind"])        # kind: range | keys
CDC_ROWS_READ = Counter("sagebridge_cdc_rows_read_total", "Rows change capture read", ["pair", "table", "kind"])
CDC_LAG = Gauge("sagebridge_cdc_lag_seconds", "Now minus the stamp of the newest row read while a scan "
                "still has rows to read (0 once it reached the end)", ["pair", "table"])


@dataclass(frozen=True)
class CapturedTable:
    """One table to capture. `columns` are read and emitted (key and stamp columns included);
    `entity_column` gives the Kafka key (rows the consumer combines share it); `filters` are
    equality conditions (column, value) that select this pair's rows."""

    name: str
    key: tuple[str, ...]
    columns: tuple[str, ...]
    entity_column: str
    filters: tuple[tuple[str, Any], ...] = ()
    stamp: tuple[str, str] = ("AUDTDATE", "AUDTTIME")
    numeric_key: tuple[str, ...] = ()      # key columns that are numbers (bound back as numbers)

    @property
    def order(self) -> tuple[str, ...]:
        return self.stamp + self.key


# -- stamps: (YYYYMMDD, HHMMSShh) on the ERP's local clock -------------------------------------
def stamp_to_local(date: int, time_: int) -> datetime:
    """A naive datetime on the ERP's clock; a blank (0) date is the epoch."""
    if date <= 0:
        return datetime(1970, 1, 1)
    hh, rest = divmod(int(time_), 1000000)
    mm, rest = divmod(rest, 10000)
    ss, cs = divmod(rest, 100)
    return datetime(date // 10000, date // 100 % 100, date % 100, min(hh, 23), min(mm, 59), min(ss, 59), cs * 10000)


def local_to_stamp(dt: datetime) -> tuple[int, int]:
    return (dt.year * 10000 + dt.month * 100 + dt.day,
            dt.hour * 1000000 + dt.minute * 10000 + dt.second * 100 + dt.microsecond // 10000)


def position(date: int, time_: int, key: str) -> str:
    """The contract's sortable position: `AUDTDATE*100000000+AUDTTIME` zero-padded, `|`, the key."""
    return f"{int(date) * 100000000 + int(time_):016d}|{key}"


def _raw_json(value: Any, numeric: bool) -> Any:
    """A position value as the cursor keeps it: a number as an int (or its decimal text), a CHAR
    value as read, padding included (bound back, the engine compares it as it ordered it). Some
    drivers (sqlite3odbc) return DECIMAL columns as text, hence `numeric`."""
    if not numeric and isinstance(value, str):
        return value
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else str(number)


class TableCapture(CommitOnDelivery):
    """`changes` / `fetch` / `delivered` for the source runner; see the module docstring."""

    def __init__(self, *, kind: str, pair_id: str, tables: list[CapturedTable], connect: Callable[[], Any],
                 dialect: Dialect, memory: RowMemory | None, convert: Callable[[str, Any], Any],
                 classify: Callable[[BaseException], BaseException], zone: ZoneInfo | None = None,
                 overlap_s: float = 2.0, reconcile_interval_s: float = 600.0, name: str = "cdc",
                 now: Callable[[], float] = time.time) -> None:
        self.kind, self.pair_id, self.name = kind, pair_id, name
        self.tables = {t.name: t for t in tables}
        self.dialect, self.memory = dialect, memory
        self.convert, self.classify = convert, classify
        self.db = SqlConnection(connect, classify)
        self.zone = zone or ZoneInfo("UTC")
        self.overlap = timedelta(seconds=overlap_s)
        self.reconcile_interval_s = reconcile_interval_s
        self.now = now
        self._pending: dict[str, tuple[ChangePage, dict[str, str], list[str]]] = {}

    # -- ChangeSource ------------------------------------------------------------------------------
    def streams(self) -> list[str]:
        return list(self.tables)

    def changes(self, stream: str, cursor: str | None, limit: int) -> ChangePage:
        table = self.tables[stream]
        state = json.loads(cursor) if cursor else {"pos": None, "mode": "rewind", "rec": self.now()}
        if state["mode"] == "reconcile":
            return self._reconcile(table, state)
        pos = state["pos"]
        read_at = self._erp_now()
        start = self._rewind_start(state) if pos is not None and state["mode"] == "rewind" else None
        if pos is None:
            query = range_query(self.dialect, table.name, table.columns, table.order, limit, filters=table.filters)
        elif start is None:
            query = range_query(self.dialect, table.name, table.columns, table.order, limit, after=pos,
                                filters=table.filters)
        else:
            query = range_query(self.dialect, table.name, table.columns, table.order, limit, at_least=start,
                                filters=table.filters)
        rows = self._run(query, table, "range")
        changes, puts = self._row_changes(table, rows)
        if rows:
            last = rows[-1]
            numeric = set(table.stamp) | set(table.numeric_key)
            pos = [_raw_json(last[c], c in numeric) for c in table.order]
        has_more = len(rows) >= limit
        mode = "seek" if has_more else "rewind"
        if not has_more and self.now() - state.get("rec", 0) >= self.reconcile_interval_s:
            mode, has_more = "reconcile", True
        CDC_LAG.labels(self.pair_id, table.name).set(
            max(0.0, self.now() - changes[-1].occurred_at.timestamp()) if (changes and mode == "seek") else 0.0)
        new_cursor = json.dumps({"pos": pos, "mode": mode, "rec": state.get("rec", 0),
                                 "read": list(local_to_stamp(read_at))})
        page = ChangePage(changes, new_cursor, has_more)
        self._pending[stream] = (page, puts, [])
        return page

    def _erp_now(self) -> datetime:
        return datetime.fromtimestamp(self.now(), self.zone).replace(tzinfo=None)

    def _rewind_start(self, state: dict) -> tuple[int, int] | None:
        """Where a new poll starts: `overlap_s` before the cursor, but no earlier than `overlap_s`
        before the previous read began (a row stamped before that and committed after it would be a
        transaction longer than the overlap). None: nothing can be late, continue after the cursor.
        So a burst of rows sharing the last stamp is re-read for `overlap_s`, not on every poll."""
        pos = state["pos"]
        cursor_at = stamp_to_local(pos[0], pos[1])
        start = cursor_at - self.overlap
        if state.get("read"):
            floor = stamp_to_local(*state["read"]) - self.overlap
            if floor > cursor_at:
                return None
            start = max(start, floor)
        return local_to_stamp(start)

    def ping(self) -> tuple[bool, str]:
        up, detail = self.db.ping(ping_query(self.dialect))
        if not up:
            return up, detail
        ready, detail = self.memory.ready()
        return (True, "database reachable") if ready else (False, f"row memory: {detail}")

    def close(self) -> None:
        self.db.close()

    # -- rows -> changes ---------------------------------------------------------------------------
    def _row_changes(self, table: CapturedTable, rows: list[dict[str, Any]]) -> tuple[list[Change], dict[str, str]]:
        changes, puts = [], {}
        for raw in rows:
            row = {c: self.convert(c, raw[c]) for c in table.columns}
            key = "|".join(str(row[k]) for k in table.key)
            after = json.dumps(row, sort_keys=True, separators=(",", ":"))
            h = row_hash(after)
            mkey = RowMemory.key(self.pair_id, table.name, key)
            if self.memory.hash_of(mkey) == h:
                continue
            puts[mkey] = h
            date, time_ = int(row[table.stamp[0]]), int(row[table.stamp[1]])
            changes.append(self._change(table, key, str(row[table.entity_column]), date, time_, "upsert", after))
        return changes, puts

    def _change(self, table: CapturedTable, key: str, entity_key: str, date: int, time_: int, op: str,
                after: str | None) -> Change:
        occurred = stamp_to_local(date, time_).replace(tzinfo=self.zone).astimezone(timezone.utc)
        listing = {"table": table.name, "op": op, "key": key, "entity_key": entity_key, "after": after,
                   "position": position(date, time_, key)}
        return Change(table.name, key, listing["position"], occurred, listing)

    def _reconcile(self, table: CapturedTable, state: dict) -> ChangePage:
        """Keys remembered but no longer in the table: delete events, stamped with the ERP-local now."""
        rows = self._run(key_query(self.dialect, table.name, table.key, filters=table.filters), table, "keys")
        present = {RowMemory.key(self.pair_id, table.name, "|".join(str(self.convert(k, r[k])) for k in table.key))
                   for r in rows}
        prefix = RowMemory.key(self.pair_id, table.name, "")
        gone = sorted(self.memory.keys_with_prefix(prefix) - present)
        date, time_ = local_to_stamp(self._erp_now())
        changes = []
        for mkey in gone:
            key = mkey[len(prefix):]
            values = dict(zip(table.key, key.split("|")))
            entity = values.get(table.entity_column, key.split("|")[0])
            changes.append(self._change(table, key, entity, date, time_, "delete", None))
        if gone:
            log.info("reconciliation found deleted rows", extra={"pair_id": self.pair_id, "table": table.name,
                                                                 "deleted": len(gone)})
        cursor = json.dumps({"pos": state["pos"], "mode": "rewind", "rec": self.now(), "read": state.get("read")})
        page = ChangePage(changes, cursor, False)
        self._pending[table.name] = (page, {}, gone)
        return page

    # -- the database --------------------------------------------------------------------------------
    def _run(self, query, table: CapturedTable, kind: str) -> list[dict[str, Any]]:
        rows = self.db.rows(query)
        CDC_QUERIES.labels(self.pair_id, table.name, kind).inc()
        CDC_ROWS_READ.labels(self.pair_id, table.name, kind).inc(len(rows))
        return rows
