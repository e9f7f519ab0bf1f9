"""Change feed of Shift4Shop customers (`GET /Customers?lastupdatestart=`, shift4shop.md §1.3).

The customer object has no `LastUpdate` field in the reference (§2.3 lists none; the filter
exists, a stamp is not documented; the simulator renders one, which this feed does not rely on),
so there is no stamp to build a keyset on. What the store does give is the set of customers
updated on or after a local DATE. The feed therefore works in two phases:

- first sync (no saved cursor): every customer (from `start_at`'s local date when set) once, in
  CustomerID order, the cursor holding the last id emitted: a small cursor however big the store.
  The local date of (start of the sync - overlap_s) is kept for the next phase;
- then it diffs: the cursor holds the filter date and, per customer listed under it, a hash of
  the state last emitted; a poll lists the window (every page, 1-based offsets, 404 = empty),
  emits each customer whose hash is new, and remembers the hashes it saw. When the local date of
  (now - overlap_s) moves past the cursor's date, the next poll lists from the new date and the
  hashes of customers no longer listed are dropped, so the cursor holds about a day of updates.

Nothing is skipped: a customer updated after the filter date is in every listing of that window,
and a state not yet emitted has a hash the cursor does not hold, so a row missed by one walk
(offset paging over a moving list, see `feed.py`) is emitted by a later one. The first diff after
the first sync re-emits that day's customers once (harmless: a customer update is idempotent).
The filter date comes from the hub's clock (the only clock a stamp-less listing offers):
`overlap_s` must cover the skew between the hub's and the store's clocks as well as late commits.

Version and `occurred_at`: the UTC second the poll's read began (as X-Cart's profile source: the
store serialises writes, so a later read sees the same state or a newer one) and the row's hash.
A walk is reused for the next page (at most `REUSE_S` old) so a backlog costs one walk, not one
per page.
"""
from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo

from sagebridge_common.contracts import Change, ChangePage

from .feed import REUSE_S
from .store_time import filter_date
from .versions import digest, stamped_version


class CustomerFeed:
    entity_type = "customer"

    def __init__(self, client, zone: ZoneInfo, *, start_at: datetime | None = None, overlap_s: int = 0,
                 page_size: int = 100, now: Callable[[], float] = time.time,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.zone = zone
        self.start_at = start_at
        self.overlap = max(0, int(overlap_s))
        self.page_size = page_size
        self._now = now
        self._clock = clock
        self._held: tuple[str, float, dict[str, dict]] | None = None     # (cursor, at, rows by id)

    def _day_of(self, epoch: float) -> str:
        return filter_date(datetime.fromtimestamp(epoch - self.overlap, timezone.utc), self.zone)

    def _rows(self, cursor: str | None, day: str | None) -> dict[str, dict]:
        held = self._held
        if held is not None and cursor is not None and held[0] == cursor and self._clock() - held[1] < REUSE_S:
            return held[2]
        params = {"lastupdatestart": day} if day else {}
        return {str(r["CustomerID"]): r for r in self.client.pages("list_customers", "/Customers", params,
                                                                    size=self.page_size)}

    def _page(self, rows: dict[str, dict], take: list[str], stamp: int, state: dict[str, Any],
              more: bool) -> ChangePage:
        cursor = json.dumps(state, separators=(",", ":"), sort_keys=True)
        self._held = (cursor, self._clock(), rows) if more else None
        changes = [Change("customer", cid, stamped_version(stamp, rows[cid]),
                          datetime.fromtimestamp(stamp, timezone.utc), listing=rows[cid]) for cid in take]
        return ChangePage(changes, cursor, has_more=more)

    def page(self, cursor: str | None, limit: int) -> ChangePage:
        began = self._now()
        limit = max(1, limit)
        if cursor:
            state = json.loads(cursor)
        else:
            start = filter_date(self.start_at, self.zone) if self.start_at else None
            state = {"v": 2, "first": {"from": start, "after": 0, "then": self._day_of(began)}}
        if "first" in state:
            return self._first_sync(cursor, state["first"], int(began), limit)
        return self._diff(cursor, state, began, limit)

    def _first_sync(self, cursor: str | None, first: dict[str, Any], stamp: int, limit: int) -> ChangePage:
        rows = self._rows(cursor, first["from"])
        fresh = sorted((cid for cid in rows if int(cid) > int(first["after"])), key=int)
        take, more = fresh[:limit], len(fresh) > limit
        if more:
            state: dict[str, Any] = {"v": 2, "first": {**first, "after": int(take[-1])}}
        else:
            state = {"v": 2, "day": first["then"], "seen": {}}
        return self._page(rows, take, stamp, state, more)

    def _diff(self, cursor: str | None, state: dict[str, Any], began: float, limit: int) -> ChangePage:
        day, seen = state.get("day"), dict(state.get("seen") or {})
        rows = self._rows(cursor, day)
        fresh = sorted((cid for cid, r in rows.items() if seen.get(cid) != digest(r)), key=int)
        take, more = fresh[:limit], len(fresh) > limit
        kept = {cid: seen[cid] for cid in rows if cid in seen and cid not in fresh}
        kept |= {cid: digest(rows[cid]) for cid in take}
        next_day = self._day_of(began)
        if day != next_day and not more:
            # the window moves on: keep the hashes of customers the new window still lists
            listed = self._rows(None, next_day)
            kept, day = {cid: h for cid, h in kept.items() if cid in listed}, next_day
        return self._page(rows, take, int(began), {"v": 2, "day": day, "seen": kept}, more)
