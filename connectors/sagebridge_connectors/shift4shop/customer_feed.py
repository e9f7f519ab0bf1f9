"""Change feed of Shift4Shop customers (`GET /Customers?lastupdatestart=`, shift4shop.md §1.3).

The customer object has no `LastUpdate` field (§2.3 lists none; the filter exists, the stamp is
not returned), so there is no stamp to build a keyset on. What the store does give is the set of
customers updated on or after a local DATE. The feed therefore diffs that set: the cursor holds
the filter date and, per customer listed under it, a hash of the state last emitted; a poll lists
the window (every page, 1-based offsets, 404 = empty), emits each customer whose hash differs or
is new, and remembers the hashes it saw. When the local date of (now - overlap_s) moves past the
cursor's date, the next poll lists from the new date and the hashes of customers no longer listed
are dropped, so the cursor holds about one day of updates. That date comes from the hub's clock
(the only clock a stamp-less listing offers): `overlap_s` must cover the skew between the hub's
and the store's clocks as well as late commits. (A first poll without a saved cursor
lists every customer once, from `start_at`'s date when set.)

Nothing is skipped: a customer updated after the filter date is in every listing of that window,
and a state not yet emitted has a hash the cursor does not hold, so a row missed by one walk
(offset paging over a moving list, see `feed.py`) is emitted by a later one. Version and
`occurred_at`: the UTC second the poll's read began (as X-Cart's profile source: the store
serialises writes, so a later read sees the same state or a newer one) and the row's hash.
"""
from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Callable
from zoneinfo import ZoneInfo

from sagebridge_common.contracts import Change, ChangePage

from .store_time import filter_date
from .versions import digest, stamped_version


class CustomerFeed:
    entity_type = "customer"

    def __init__(self, client, zone: ZoneInfo, *, start_at: datetime | None = None, overlap_s: int = 0,
                 page_size: int = 100, now: Callable[[], float] = time.time) -> None:
        self.client = client
        self.zone = zone
        self.start_at = start_at
        self.overlap = max(0, int(overlap_s))
        self.page_size = page_size
        self._now = now

    def _day_of(self, epoch: float) -> str:
        return filter_date(datetime.fromtimestamp(epoch - self.overlap, timezone.utc), self.zone)

    def _walk(self, day: str | None) -> list[dict]:
        params = {"lastupdatestart": day} if day else {}
        return self.client.pages("list_customers", "/Customers", params, size=self.page_size)

    def page(self, cursor: str | None, limit: int) -> ChangePage:
        began = self._now()
        state = json.loads(cursor) if cursor else {"v": 1, "day": None, "seen": {}}
        if not cursor and self.start_at is not None:
            state["day"] = filter_date(self.start_at, self.zone)
        day, seen = state.get("day"), dict(state.get("seen") or {})
        rows = {str(r["CustomerID"]): r for r in self._walk(day)}
        fresh = sorted((cid for cid, r in rows.items() if seen.get(cid) != digest(r)), key=int)
        take = fresh[:max(1, limit)]
        kept = {cid: seen[cid] for cid in rows if cid in seen and cid not in fresh}
        kept |= {cid: digest(rows[cid]) for cid in take}
        next_day = self._day_of(began)
        if day != next_day and len(take) == len(fresh):
            # the window moves on: keep the hashes of customers the new window still lists
            listed = {str(r["CustomerID"]) for r in self._walk(next_day)}
            kept, day = {cid: h for cid, h in kept.items() if cid in listed}, next_day
        stamp = int(began)
        changes = [Change("customer", cid, stamped_version(stamp, rows[cid]),
                          datetime.fromtimestamp(stamp, timezone.utc), listing=rows[cid]) for cid in take]
        return ChangePage(changes, json.dumps({"v": 1, "day": day, "seen": kept}, separators=(",", ":"),
                                              sort_keys=True), has_more=len(take) < len(fresh))


