"""Change capture by snapshot diff, for tables that keep no trace of a change (Sage Pro: no audit
stamps, no change log; reference sage300_sagepro.md §3): a `contracts.ErpSource` for the runtime's
`source_runner.SourceRunner`, one stream per table.

Why this shape. With nothing in a row saying when it changed, the only way to see a change is to
read the row and compare it with what was sent last. So each poll is a scan of the table:

- Keyset pages in key order (`RowReader.page`: the rows after a key, at most `limit`). The cursor,
  saved by the runner after each delivered page, holds the last key read: a restart mid-scan goes
  on after it and misses nothing; a row edited behind the cursor is read by the next scan.
- Only rows whose value hash differs from `row_memory.RowMemory` become changes, so an unchanged
  table costs reads, never events, and a re-read page (a restart) emits nothing twice. Memory is
  updated only in `delivered`, after the page's events are acknowledged.
- Deletes leave no row to read: at the end of a full scan, keys remembered but not read by the scan
  become delete events (op delete, after null), as a page of the same stream, so a delete can never
  overtake a later re-insert of the key. The keys read are known when this process read the whole
  scan page after page (`_ScanKeys`); a scan it did not read from start to end (resumed after a
  restart, continued by another replica, a page asked again) ends with a key listing
  (`RowReader.keys`) instead, so no row is ever taken for deleted because its page was read elsewhere.
- The ERP must not feel it: rows read per second are bounded per table (`rows_per_s`, a token
  bucket charged with the rows each read returned, the key listing included; the debt is waited
  out before the next read, in pauses of at most `max_pause_s`: a longer debt (the key listing
  of a big table) answers empty pages meanwhile, so the runner's liveness beat goes on).
- Where the site trusts a date column to move on every edit (`changed_since`, Sage Pro's
  adddate/lckdate style), the scans between full scans read only rows with that date on or after
  the previous scan's start date, minus a day: the ERP stamps its machine's local date, whose zone
  the hub does not know, and a day before the UTC date covers every zone. Full scans (every
  `full_scan_interval_s`) still read everything and find deletes.
- Nothing in the row says when it changed, so a change's position, version and occurred_at are
  the read time of its page: `f"{read_at_utc_microseconds:016d}|{key}"`, sortable per row.

The engine-specific part is the `RowReader`: SQL through ODBC, or DBF files read directly.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Protocol, Sequence

from prometheus_client import Gauge

from .contracts import Change, ChangePage
from .rate_limit import TokenBucket
from .row_memory import RowMemory, row_hash
from .capture_pages import CommitOnDelivery
from .table_capture import CDC_LAG, CDC_QUERIES, CDC_ROWS_READ

log = logging.getLogger(__name__)

CDC_SCAN_SECONDS = Gauge("sagebridge_cdc_scan_seconds", "Duration of the last complete snapshot scan of a table "
                         "(first page to key listing)", ["pair", "table"])
CDC_SCAN_STARTED = Gauge("sagebridge_cdc_scan_started_timestamp_seconds", "When the snapshot scan of a table "
                         "in progress (or the last one) started: a change is seen at most one scan after it",
                         ["pair", "table"])


@dataclass(frozen=True)
class SnapshotTable:
    """One table to scan. `name` is the stream and the erp.raw.v1 `table`; `key` the fields of the
    row key (in the row's values); `entity` the field keying the Kafka record; `changed_since` a
    date field that moves on every edit, or None (every scan is full)."""

    name: str
    key: tuple[str, ...]
    entity: str
    changed_since: str | None = None


@dataclass(frozen=True)
class ReadRow:
    """A row as a reader returns it: `position` its key values as the reader orders and compares
    them (padding included; JSON-able, handed back as `after`), `values` the captured value
    (field -> JSON value), key fields included."""

    position: tuple[Any, ...]
    values: dict[str, Any]


class RowReader(Protocol):
    def page(self, table: str, after: Sequence[Any] | None, limit: int, since: date | None = None) -> list[ReadRow]:
        """At most `limit` rows strictly after the position `after` (None: from the first) in key
        order; `since`: only rows whose `changed_since` field is on or after that date."""

    def keys(self, table: str) -> list[dict[str, Any]]:
        """The key fields' values (converted as in `ReadRow.values`) of every row of the table."""

    def ping(self) -> tuple[bool, str]:
        """Readiness: (reachable, detail); never raises."""

    def close(self) -> None:
        ...


def key_text(table: SnapshotTable, values: dict[str, Any]) -> str:
    """The erp.raw.v1 `key`: the key fields' values joined by '|'."""
    return "|".join(str(values[f]) for f in table.key)


def position(read_at: float, key: str) -> str:
    return f"{int(round(read_at * 1_000_000)):016d}|{key}"


@dataclass
class _ScanKeys:
    """The keys a full scan read in this process, valid while its pages came one after the other:
    `after` is where the next page must start for the set to stay complete."""

    started: float
    after: list[Any] | None
    keys: set[str]


class SnapshotCapture(CommitOnDelivery):
    """`changes` / `fetch` / `delivered` for the source runner; see the module docstring.

    `now` gives the read time (UTC epoch seconds); `clock` and `sleep` pace the reads (tests give
    fake ones: no test waits for the bound)."""

    def __init__(self, *, kind: str, pair_id: str, tables: list[SnapshotTable], reader: RowReader,
                 memory: RowMemory | None, rows_per_s: float, full_scan_interval_s: float = 3600.0,
                 name: str = "snapshot", max_pause_s: float = 30.0, now: Callable[[], float] = time.time,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], Any] | None = None) -> None:
        self.kind, self.pair_id, self.name = kind, pair_id, name
        self.tables = {t.name: t for t in tables}
        self.reader, self.memory = reader, memory
        self.full_scan_interval_s = full_scan_interval_s
        self.now = now
        self._stop = threading.Event()
        self.max_pause_s = max_pause_s
        self._sleep = sleep = sleep or self._stop.wait
        burst = max(1, int(rows_per_s))
        self.buckets = {t.name: TokenBucket(rows_per_s, burst, name=f"{kind}-scan:{pair_id}:{t.name}",
                                            clock=clock, sleep=sleep) for t in tables}
        self._pending: dict[str, tuple[ChangePage, dict[str, str], list[str]]] = {}
        self._scan_keys: dict[str, _ScanKeys] = {}

    # -- ChangeSource ------------------------------------------------------------------------------
    def streams(self) -> list[str]:
        return list(self.tables)

    def changes(self, stream: str, cursor: str | None, limit: int) -> ChangePage:
        table = self.tables[stream]
        if not self._paced(stream):              # still paying for earlier reads: nothing read now
            return self._answer(stream, ChangePage([], cursor or "{}", True), {}, [])
        state = json.loads(cursor) if cursor else {}
        if state.get("mode") == "keys":
            return self._deletes(table, state)
        if state.get("after") is None:           # a new scan
            state = self._new_scan(table, state)
            if state["full"]:
                self._scan_keys[stream] = _ScanKeys(state["started"], None, set())
        since = date.fromisoformat(state["since"]) if state.get("since") else None
        read_at = self.now()
        rows = self.reader.page(table.name, state.get("after"), limit, since)
        self._count(table, "scan", len(rows))
        changes, puts = self._row_changes(table, rows, read_at)
        more = len(rows) >= limit
        self._note_keys(table, state, rows, list(rows[-1].position) if more else None)
        if more:                                 # more to read in this scan
            state = {**state, "after": list(rows[-1].position)}
            CDC_LAG.labels(self.pair_id, table.name).set(max(0.0, self.now() - state["started"]))
            return self._answer(stream, ChangePage(changes, json.dumps(state), True), puts, [])
        CDC_LAG.labels(self.pair_id, table.name).set(0.0)
        if state["full"]:                        # the key listing comes next, as a page of this stream
            state = {**state, "after": None, "mode": "keys"}
            return self._answer(stream, ChangePage(changes, json.dumps(state), True), puts, [])
        return self._answer(stream, ChangePage(changes, json.dumps(self._ended(table, state)), False), puts, [])

    def ping(self) -> tuple[bool, str]:
        up, detail = self.reader.ping()
        if not up:
            return up, detail
        ready, mdetail = self.memory.ready()
        return (True, detail) if ready else (False, f"row memory: {mdetail}")

    def close(self) -> None:
        self._stop.set()
        self.reader.close()

    # -- scans -------------------------------------------------------------------------------------
    def _new_scan(self, table: SnapshotTable, state: dict) -> dict:
        """Full, or narrowed to rows changed since the previous scan's start date (see above)."""
        started = self.now()
        last_full, prev = state.get("last_full"), state.get("prev_start")
        full = (table.changed_since is None or last_full is None or prev is None
                or started - last_full >= self.full_scan_interval_s)
        since = None if full else (datetime.fromtimestamp(prev, timezone.utc).date() - timedelta(days=1)).isoformat()
        CDC_SCAN_STARTED.labels(self.pair_id, table.name).set(started)
        return {"mode": "scan", "after": None, "full": full, "since": since, "started": started,
                "prev_start": prev, "last_full": last_full}

    def _ended(self, table: SnapshotTable, state: dict) -> dict:
        """The cursor after a scan's last page: the next poll starts a new scan."""
        CDC_SCAN_SECONDS.labels(self.pair_id, table.name).set(max(0.0, self.now() - state["started"]))
        last_full = state["started"] if state["full"] else state.get("last_full")
        return {"mode": "scan", "after": None, "prev_start": state["started"], "last_full": last_full}

    def _note_keys(self, table: SnapshotTable, state: dict, rows: list[ReadRow], next_after: list | None) -> None:
        """Adds a page's keys to the scan's set when the page follows the last one this process read."""
        scan = self._scan_keys.get(table.name)
        if scan is None:
            return
        if scan.started != state.get("started") or scan.after != state.get("after"):
            del self._scan_keys[table.name]      # a page read elsewhere or asked again: list the keys at the end
            return
        scan.keys.update(RowMemory.key(self.pair_id, table.name, key_text(table, r.values)) for r in rows)
        scan.after = next_after

    def _present_keys(self, table: SnapshotTable, state: dict) -> set[str]:
        """The memory keys of the rows in the table: those this scan read, else a key listing."""
        scan = self._scan_keys.pop(table.name, None)
        if scan is not None and scan.started == state.get("started") and scan.after is None:
            return scan.keys
        listed = self.reader.keys(table.name)
        self._count(table, "keys", len(listed))
        return {RowMemory.key(self.pair_id, table.name, key_text(table, k)) for k in listed}

    def _deletes(self, table: SnapshotTable, state: dict) -> ChangePage:
        """Keys remembered but no longer in the table: delete events at the read time."""
        read_at = self.now()
        present = self._present_keys(table, state)
        prefix = RowMemory.key(self.pair_id, table.name, "")
        gone = sorted(self.memory.keys_with_prefix(prefix) - present)
        changes = []
        for mkey in gone:
            key = mkey[len(prefix):]
            values = dict(zip(table.key, key.split("|")))
            entity = values.get(table.entity, key.split("|")[0])
            changes.append(self._change(table, key, entity, read_at, "delete", None))
        if gone:
            log.info("snapshot scan found deleted rows", extra={"pair_id": self.pair_id, "table": table.name,
                                                                "deleted": len(gone)})
        page = ChangePage(changes, json.dumps(self._ended(table, state)), False)
        return self._answer(table.name, page, {}, gone)

    def _paced(self, stream: str) -> bool:
        """Waits out what earlier reads of the table owe, at most `max_pause_s`; True: read now."""
        wait = self.buckets[stream].wait_time()
        if wait > 0:
            self._sleep(min(wait, self.max_pause_s))
        return wait <= self.max_pause_s

    def _answer(self, stream: str, page: ChangePage, puts: dict[str, str], gone: list[str]) -> ChangePage:
        self._pending[stream] = (page, puts, gone)
        return page

    def _count(self, table: SnapshotTable, kind: str, rows: int) -> None:
        self.buckets[table.name].charge(rows)
        CDC_QUERIES.labels(self.pair_id, table.name, kind).inc()
        CDC_ROWS_READ.labels(self.pair_id, table.name, kind).inc(rows)

    # -- rows -> changes ---------------------------------------------------------------------------
    def _row_changes(self, table: SnapshotTable, rows: list[ReadRow], read_at: float
                     ) -> tuple[list[Change], dict[str, str]]:
        changes, puts = [], {}
        for row in rows:
            key = key_text(table, row.values)
            after = json.dumps(row.values, sort_keys=True, separators=(",", ":"))
            h = row_hash(after)
            mkey = RowMemory.key(self.pair_id, table.name, key)
            if puts.get(mkey, self.memory.hash_of(mkey)) == h:
                continue
            puts[mkey] = h
            changes.append(self._change(table, key, str(row.values[table.entity]), read_at, "upsert", after))
        return changes, puts

    def _change(self, table: SnapshotTable, key: str, entity_key: str, read_at: float, op: str,
                after: str | None) -> Change:
        listing = {"table": table.name, "op": op, "key": key, "entity_key": entity_key, "after": after,
                   "position": position(read_at, key)}
        occurred = datetime.fromtimestamp(read_at, timezone.utc)
        return Change(table.name, key, listing["position"], occurred, listing)
