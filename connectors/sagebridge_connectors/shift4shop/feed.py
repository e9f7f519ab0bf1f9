"""Keyset change feed over `LastUpdate` for Shift4Shop orders and products (shift4shop.md §1.3).

The store filters on `lastupdatestart=mm/dd/yyyy`: a store-local DATE, no time of day, pages by
`limit` and a 1-based record `offset`, and answers 404 for an empty result. It offers neither a
time filter nor a stable sort key, so the keyset lives here:

- the cursor is `(stamp, id)`: the UTC second of the last emitted row's `LastUpdate` and its id;
- each poll asks from the store-local date of `stamp - overlap_s` (so a row stamped in the hours
  just before the cursor, committed late, is still listed), reads every page by offset to a
  404 (an empty page), sorts the rows by `(LastUpdate, id)` and emits only rows strictly after the
  cursor (equal stamps: by id). The same id read twice in one walk keeps its newest version. The
  walk ends on an empty page, not a short one (see `api.Shift4ShopClient.pages`).

Why nothing is skipped. Rows only ever enter the filtered set (an edit sets `LastUpdate` to now,
which is still on or after the filter date), so the only way offset paging loses a row is a row
*already read* leaving its place while the walk goes on: the store then lists it again at the end
(its stamp is now the newest), every later row slides one offset down, and the one sliding onto
an offset already read is missed. Such a walk shows the moved row twice (old stamp early, new
stamp at the end). A missed row sat after the moved row's old position, so its key is above the
moved row's old key: this poll emits only rows below the lowest such old key, and the cursor stays
below every row that may have been missed. The next poll lists them again (same filter date), and
the moved row's new version (newer stamp) comes with them. A row edited after its page was read
but not moved before the walk ended costs nothing: its new state has a newer stamp, above the
cursor, for the next poll. Assumed (not confirmed by the reference): the listing is sorted by
`LastUpdate` or by id, consistently across calls; a deleted row shifts later rows the same way but
cannot be detected (orders are rarely deleted; a product deletion is its own webhook event).

Versions and `occurred_at`: `LastUpdate` (store-local, no offset) converted to UTC with the pair's
zone (DST-ambiguous local times read with fold=0, see `store_time.py`).

Cost: each poll walks every row updated since local midnight of (cursor - overlap_s), i.e. the
day's updated orders: ceil(rows / page_size) + 1 calls (the last one the 404). A store updating
thousands of orders a day needs a longer `poll_interval_s` or a higher rate limit; the date
filter offers nothing finer.

A poll that finds more rows than the runtime's `limit` keeps the sorted remainder of that walk in
memory (for at most `REUSE_S`), so the next page is served without reading the window again.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo

from sagebridge_common.contracts import Change, ChangePage

from .store_time import epoch_of, filter_date
from .versions import stamped_version

log = logging.getLogger(__name__)
REUSE_S = 60.0
Key = tuple[int, int]


@dataclass(frozen=True)
class Stream:
    """What a feed walks: `list_page(params, offset, size)` answers one page of the list call;
    `id_of` / `stamp_of` read a row's id and `LastUpdate` (None: the row has no stamp yet)."""
    entity_type: str
    list_page: Callable[[dict[str, Any], int, int], list[dict]]
    id_of: Callable[[dict], int]
    stamp_text: Callable[[dict], str | None]


def dump_cursor(key: Key) -> str:
    return json.dumps({"v": 1, "stamp": key[0], "id": key[1]}, separators=(",", ":"))


def load_cursor(text: str | None, start: int) -> Key:
    if not text:
        return (start, -1)
    d = json.loads(text)
    return (int(d["stamp"]), int(d["id"]))


class KeysetFeed:
    def __init__(self, stream: Stream, zone: ZoneInfo, *, start_stamp: int = 0, overlap_s: int = 0,
                 page_size: int = 100, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.zone = zone
        self.start_stamp = start_stamp
        self.overlap = max(0, int(overlap_s))
        self.page_size = page_size
        self._clock = clock
        self._held: tuple[str, float, list[tuple[Key, dict]]] | None = None   # (cursor, at, rows after it)

    def stamp(self, row: dict) -> int:
        text = self.stream.stamp_text(row)
        try:
            return epoch_of(text, self.zone) if text else 0
        except OverflowError:       # "0001-01-01T00:00:00", a never-set date: before every cursor
            return 0

    def key(self, row: dict) -> Key:
        return (self.stamp(row), self.stream.id_of(row))

    def change(self, row: dict) -> Change:
        stamp = self.stamp(row)
        return Change(self.stream.entity_type, str(self.stream.id_of(row)), stamped_version(stamp, row),
                      datetime.fromtimestamp(stamp, timezone.utc), listing=row)

    # -- one walk ---------------------------------------------------------------------------
    def params_for(self, cursor: Key) -> dict[str, Any]:
        """The filter of a poll after `cursor`: the store-local date of (stamp - overlap)."""
        if cursor[0] <= 0:
            return {}
        since = datetime.fromtimestamp(max(0, cursor[0] - self.overlap), timezone.utc)
        return {"lastupdatestart": filter_date(since, self.zone)}

    def walk(self, params: dict[str, Any]) -> tuple[list[tuple[Key, dict]], Key | None]:
        """Every page of the window. Returns the rows (newest version per id, sorted by key) and
        the lowest old key of a row seen to move during the walk (None: no move seen)."""
        newest: dict[int, tuple[Key, dict]] = {}
        moved: Key | None = None
        offset = 1
        while True:
            rows = self.stream.list_page(params, offset, self.page_size)
            for row in rows:
                k = self.key(row)
                old = newest.get(k[1])
                if old is not None and old[0] != k:
                    low = min(old[0], k)
                    moved = low if moved is None else min(moved, low)
                if old is None or k >= old[0]:
                    newest[k[1]] = (k, row)
            if not rows:        # a short page may be a clamped `limit`: only an empty one ends (api.pages)
                break
            offset += len(rows)
        return sorted(newest.values(), key=lambda kr: kr[0]), moved

    # -- the runtime's call -------------------------------------------------------------------
    def page(self, cursor: str | None, limit: int) -> ChangePage:
        cur = load_cursor(cursor, self.start_stamp)
        held = self._held
        if held is not None and cursor is not None and held[0] == cursor and self._clock() - held[1] < REUSE_S:
            pending = held[2]
        else:
            rows, moved = self.walk(self.params_for(cur))
            pending = [(k, r) for k, r in rows if k > cur and (moved is None or k < moved)]
            if moved is not None:
                log.info("a row moved while the feed was paging; the rest of the window is read again next poll",
                         extra={"stream": self.stream.entity_type, "moved_stamp": moved[0], "moved_id": moved[1]})
        take, rest = pending[:max(1, limit)], pending[max(1, limit):]
        if not take:
            self._held = None
            return ChangePage([], dump_cursor(cur))
        new_cursor = dump_cursor(take[-1][0])
        self._held = (new_cursor, self._clock(), rest) if rest else None
        return ChangePage([self.change(r) for _, r in take], new_cursor, has_more=bool(rest))


def order_stream(client) -> Stream:
    """`GET /Orders?lastupdatestart=&limit=&offset=` (§1.3)."""
    def list_page(params: dict[str, Any], offset: int, size: int) -> list[dict]:
        return client.get_list("list_orders", "/Orders", {**params, "limit": size, "offset": offset})
    return Stream("order", list_page, lambda r: int(r["OrderID"]), lambda r: r.get("LastUpdate") or r.get("OrderDate"))


def product_stream(client) -> Stream:
    """`GET /Products?lastupdatestart=&limit=&offset=` (§1.3); id = SKUInfo.CatalogID (§2.2)."""
    def list_page(params: dict[str, Any], offset: int, size: int) -> list[dict]:
        return client.get_list("list_products", "/Products", {**params, "limit": size, "offset": offset})
    return Stream("product", list_page, lambda r: int((r.get("SKUInfo") or {}).get("CatalogID", r.get("CatalogID"))),
                  lambda r: r.get("LastUpdate"))
