"""Sage Intacct change capture: the pair's `erp.change_capture` block -> an `ErpSource` (kind
`intacct`) for erp_cdc's source runner, one stream per captured object (capture_streams.py).

Intacct has no change feed the hub can read back, only stamps: every record carries WHENMODIFIED
(seconds, company-local wall time, intacct.md §4 "Reading changes"). So each poll of a stream is
one `readByQuery` on `WHENMODIFIED >= '<watermark - overlap_s>'` (no earlier than `overlap_s`
before the previous complete read began, capture_cursor.py), paged with `readMore` until
`numremaining` is 0 (the gateway's `read_by_query`), then:
- sorted by (WHENMODIFIED, RECORDNO): Intacct returns rows in RECORDNO order, not change order;
- records already emitted at that same stamp are dropped (the cursor's seen set,
  capture_cursor.py), so the overlap re-read and the many records sharing one second are each
  emitted once, and a record edited again (a new stamp) is emitted again;
- up to `limit` go out per page; the rest of that read is kept and served as the next pages
  (`has_more`) without another query, as long as the runner asks with the cursor just returned.

Nothing is skipped when a record is edited while the pages are read: the watermark only moves to
stamps actually emitted, so the edit's newer stamp is at or after the next poll's floor, and not in
the seen set. A record committed after a later-stamped one is caught by `overlap_s`.

Budget: every readByQuery / readMore is an API transaction (the gateway's
`sagebridge_intacct_api_transactions_total{purpose="capture"}` counts them); the capture counts
them too, to stretch its polls within `change_capture.budget` (capture_budget.py).
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from prometheus_client import Counter

from sagebridge_common.contracts import Change, ChangePage, SourceRecord
from sagebridge_common.table_capture import CDC_CHANGES, CDC_LAG, CDC_QUERIES, CDC_ROWS_READ

from .capture_budget import CaptureBudget
from .capture_cursor import CaptureCursor, iso_utc, stamp_to_utc
from .capture_streams import RECORDNO, STAMP, CaptureStream, capture_streams
from .config import IntacctConfig

log = logging.getLogger(__name__)

KIND = "intacct"
BUFFER_TTL_S = 300.0
DEFERRED = Counter("sagebridge_intacct_capture_polls_deferred_total",
                   "Polls of an Intacct stream held back to stay within the transaction budget", ["pair", "stream"])
UNREADABLE = Counter("sagebridge_intacct_capture_rows_unreadable_total",
                     "Captured Intacct records without a usable RECORDNO or WHENMODIFIED (skipped, logged)",
                     ["pair", "table"])


@dataclass
class _Read:
    stamp: int                 # UTC epoch seconds
    recordno: int
    row: dict[str, str]
    digest: str = ""           # of the row's fields: a second edit within the stamp's second differs
    n: int = 0                 # emissions of this (RECORDNO, stamp) before this one (capture_cursor.py)


@dataclass
class _Rest:
    """The unsent part of a stream's last read, valid for the cursor it follows."""
    cursor: str
    rows: list[_Read]
    at: float                  # when that read began


def _recordno(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


class IntacctCapture:
    """`streams` / `changes` / `fetch` / `ping` for the source runner; see the module docstring.
    `gateway` is anything with the IntacctGateway's `read_by_query` and `ping` (tests pass a fake)."""

    kind = KIND

    def __init__(self, cfg: IntacctConfig, *, pair_id: str, gateway: Any,
                 now: Callable[[], float] = time.time) -> None:
        if cfg.change_capture is None:
            raise ValueError(f"pair {pair_id} has no erp.change_capture block: no change capture")
        self.cfg, self.cc = cfg, cfg.change_capture
        self.pair_id, self.gateway, self.now = pair_id, gateway, now
        self.name = cfg.company_id or KIND
        self.zone = cfg.zone
        self.overlap_s = int(math.ceil(self.cc.overlap_s))
        self.start_at = int(self.cc.start_at.timestamp()) if self.cc.start_at is not None else None
        self.specs = capture_streams(cfg, self.cc)
        self.budget = CaptureBudget(self.cc.budget, streams=len(self.specs), poll_interval_s=self.cc.poll_interval_s,
                                    now=now)
        self.memory = None            # erp_cdc sets every capture's row memory; this one needs none
        self._rest: dict[str, _Rest] = {}
        self._lock = threading.Lock()

    @property
    def min_poll_interval_s(self) -> float:
        """The poll interval erp_cdc uses: the configured one, stretched to fit the budget."""
        return self.budget.min_interval_s

    @property
    def transactions(self) -> int:
        """API transactions this capture has spent (readByQuery and readMore calls)."""
        return self.budget.transactions

    # -- ChangeSource ------------------------------------------------------------------------------
    def streams(self) -> list[str]:
        return list(self.specs)

    def changes(self, stream: str, cursor: str | None, limit: int) -> ChangePage:
        spec = self.specs[stream]
        state = CaptureCursor.load(cursor, self.cc.start_at)
        rest = self._rest.pop(stream, None)
        if rest is not None and rest.cursor == cursor and self.now() - rest.at < BUFFER_TTL_S:
            rows, began = rest.rows, rest.at
        elif not self.budget.allowed(stream):
            DEFERRED.labels(self.pair_id, stream).inc()
            return ChangePage([], state.dump(), False)
        else:
            began = self.now()
            rows = self._read(spec, state)
        page, left = rows[:max(1, limit)], rows[max(1, limit):]
        after = state.copy()
        for r in page:
            r.n = after.add(r.recordno, r.stamp, r.digest)
        if not left:                       # the read is emitted whole: the next may start near its beginning
            after.read = int(began)
        after.prune(self.overlap_s, self.zone)
        text = after.dump()
        if left:
            self._rest[stream] = _Rest(text, left, began)
        CDC_LAG.labels(self.pair_id, spec.table).set(max(0.0, self.now() - page[-1].stamp) if (page and left) else 0.0)
        return ChangePage([self._change(spec, r) for r in page], text, bool(left))

    def fetch(self, change: Change) -> SourceRecord:
        """The listing row is the record (the query read every captured field)."""
        return SourceRecord(change.entity_type, change.entity_id, change.version, change.occurred_at,
                            dict(change.listing or {}))

    def delivered(self, stream: str, page: ChangePage) -> None:
        if page.changes:
            CDC_CHANGES.labels(self.pair_id, self.specs[stream].table, "upsert").inc(len(page.changes))

    def ping(self) -> tuple[bool, str]:
        try:
            return self.gateway.ping()
        except Exception as e:          # noqa: BLE001 - readiness reports, never raises
            return False, f"Intacct unreachable: {type(e).__name__}"

    def close(self) -> None:
        close = getattr(self.gateway, "close", None)
        if close is not None:
            close()

    # -- one poll ----------------------------------------------------------------------------------
    def query(self, state: CaptureCursor) -> str:
        return f"{STAMP} >= '{state.literal(self.overlap_s, self.zone)}'"

    def _read(self, spec: CaptureStream, state: CaptureCursor) -> list[_Read]:
        """Every record of the stream's query not emitted yet, oldest first."""
        started, pages, rows = self.now(), 0, []
        try:
            with self._lock:              # one poll in flight per capture (the company's cap is the gateway's)
                for chunk in self.gateway.read_by_query(spec.obj, spec.fields, self.query(state),
                                                        pagesize=self.cc.page_size, docparid=spec.docparid,
                                                        purpose="capture"):
                    pages += 1
                    rows.extend(chunk)
        finally:
            self.budget.spent(spec.name, max(pages, 1), started)   # a failed call may have cost one too
            CDC_QUERIES.labels(self.pair_id, spec.table, "range").inc(pages)
        CDC_ROWS_READ.labels(self.pair_id, spec.table, "range").inc(len(rows))
        read_at = self.now()
        out: dict[tuple[int, int], _Read] = {}
        for row in rows:
            stamp, recordno = stamp_to_utc(row.get(STAMP, ""), self.zone, read_at), _recordno(row.get(RECORDNO))
            if stamp is None or recordno is None:
                UNREADABLE.labels(self.pair_id, spec.table).inc()
                log.error("intacct record without a usable RECORDNO or WHENMODIFIED: skipped", extra={
                    "pair_id": self.pair_id, "object": spec.obj, "recordno": row.get(RECORDNO),
                    "whenmodified": row.get(STAMP)})
                continue
            digest = hashlib.sha256(json.dumps(row, sort_keys=True).encode()).hexdigest()[:16]
            if (self.start_at is not None and stamp < self.start_at) or state.emitted(recordno, stamp, digest):
                continue
            out[(stamp, recordno)] = _Read(stamp, recordno, row, digest)
        return [out[k] for k in sorted(out)]

    def _change(self, spec: CaptureStream, r: _Read) -> Change:
        key = "|".join((r.row.get(k) or "").strip() for k in spec.key)
        after = json.dumps({**r.row, "WHENMODIFIED_UTC": iso_utc(r.stamp)}, sort_keys=True, separators=(",", ":"))
        position = f"{r.stamp:012d}|{r.recordno:012d}" + (f"|{r.n:04d}" if r.n else "")
        listing = {"entity_key": (r.row.get(spec.entity) or "").strip(), "op": "upsert", "table": spec.table,
                   "key": key, "after": after, "position": position}
        return Change(spec.table, key, position, datetime.fromtimestamp(r.stamp, timezone.utc), listing)


def build_capture(pair, gateway: Any | None = None) -> IntacctCapture:
    """The pair's capture (`erp_source`), with its own gateway unless one is given."""
    cfg: IntacctConfig = pair.erp
    if cfg.change_capture is None:
        raise ValueError(f"pair {pair.pair} has no erp.change_capture block: no change capture")
    if gateway is None:
        from .gateway import IntacctGateway
        gateway = IntacctGateway(cfg, pair_id=pair.pair)
    return IntacctCapture(cfg, pair_id=pair.pair, gateway=gateway)
