"""The X-Cart order change feed: every order state, read by keyset over `lastRenewDate`, never lost.

X-Cart 5.5 lists orders with `lastRenewDate[after|before|strictly_after|strictly_before]` filters
(after/before inclusive) and `order[lastRenewDate]=asc|desc`, one-second resolution, pages of at
most 100 (X-Cart 5.5.1 docs, "Retrieve a list of orders"). It offers no ordering by id. Every save
of an order resets `lastRenewDate` to now (X-Cart `Order::prepareBeforeSave()`), so while a client
reads, edited rows leave their place and jump to the end of the list.

Offset paging over that list loses orders: an edit of an already-read row moves every later row one
place up, and the row that slides from page 2 onto page 1 is never read. So every page here starts
afresh from the last stamp read (`lastRenewDate[after]=S`, page 1) and drops what was already read
at S. Rows in seconds before the page's last stamp are complete; the last second may be cut by the
page end, so the cursor keeps it open: (S, versions read at S). An edit only ever moves a row to a
later second, so it cannot hide a row from this walk, and the edited row is read again later with
its new version.

More than a page of orders in one second cannot be walked that way (page 1 of S would be the same
rows forever), so that second is walked on its own with `after=before=S`. Once the store's clock is
past S (a row exists after S), no row can enter second S, only leave it. Offset paging over a set
that only shrinks can still skip a row when an earlier one leaves, so the second is read forward to
its last page and then backward from there to page 1: a departure only moves unread rows to lower
offsets, which the backward walk has not reached yet, so every row that stays in S is read. (This
assumes the store orders equal stamps the same way on every call, as a database does for one query
plan.)

A change's version is its zero-padded stamp and a hash of the row, so versions of one order sort
in time and two different states in the same second are still two versions.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sagebridge_common.contracts import Change, ChangePage
from sagebridge_common.times import parse_iso8601

from .api import XCartClient

log = logging.getLogger(__name__)
CURSOR_VERSION = 2


def stamp_of(row: dict) -> int:
    return int(parse_iso8601(row["update_date"]).timestamp())


def version_of(order: dict) -> str:
    """`<lastRenewDate, 12 digits>-<sha256 of the order JSON, 16 hex>`: sortable, state-exact."""
    digest = hashlib.sha256(json.dumps(order, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]
    return f"{stamp_of(order):012d}-{digest}"


def _key(row: dict) -> str:
    return f"{row['id']}@{version_of(row)}"


def _stamp_of_key(key: str) -> int:
    return int(key.partition("@")[2][:12])


@dataclass(frozen=True)
class Cursor:
    """Position in the feed: every row renewed before `stamp` is read; in `stamp` itself, the
    versions in `seen` are. `closed`: all of `stamp` is read and the store is past it. With an
    overlap, `seen` also holds the versions read in the `overlap` seconds before `stamp`."""
    stamp: int
    seen: frozenset[str] = field(default_factory=frozenset)
    closed: bool = False

    def dump(self) -> str:
        return json.dumps({"v": CURSOR_VERSION, "stamp": self.stamp, "seen": sorted(self.seen),
                           "closed": self.closed}, separators=(",", ":"))

    @classmethod
    def load(cls, text: str | None, start: int) -> "Cursor":
        if not text:
            return cls(start)
        d = json.loads(text)
        if d.get("v") == 1:    # the poller's watermark: ids, not versions; re-reading its second is harmless
            return cls(int(d.get("watermark", 0)))
        return cls(int(d["stamp"]), frozenset(d.get("seen", ())), bool(d.get("closed", False)))

    def is_new(self, row: dict, overlap: int = 0) -> bool:
        s = stamp_of(row)
        if s > self.stamp:
            return True
        if s < self.stamp - overlap or (self.closed and not overlap):
            return False
        return _key(row) not in self.seen

    def advanced(self, top: int, keys: set[str], overlap: int, closed: bool = False) -> "Cursor":
        """The cursor after reading `keys` up to `top`: seen versions outside the window are dropped.
        It never moves back (an overlap read can end below the cursor)."""
        if top < self.stamp or (top == self.stamp and self.closed):
            top, closed = self.stamp, self.closed or closed
        keep = frozenset(k for k in self.seen | keys if _stamp_of_key(k) >= top - overlap)
        return Cursor(top, keep if (overlap or not closed) else frozenset(), closed)


def to_change(row: dict) -> Change:
    s = stamp_of(row)
    return Change("order", str(row["id"]), version_of(row), datetime.fromtimestamp(s, timezone.utc), listing=row)


def _changes(rows: list[dict], cur: Cursor, overlap: int) -> list[Change]:
    # carts share the order table and have no order number (reference: X-Cart 5.5 order resource)
    return [to_change(r) for r in rows if r.get("order_number") and cur.is_new(r, overlap)]


class OrderFeed:
    """`overlap_s`: every page also re-reads this many seconds before the cursor, for a row that
    became visible late (its transaction committed after later rows were read, with the stamp it
    was given before); versions already read there are dropped. When that window alone fills a
    page, the page starts at the cursor instead."""

    def __init__(self, client: XCartClient, *, start_stamp: int = 0, last_renew_filter: bool = True,
                 overlap_s: int = 0) -> None:
        self.client = client
        self.start_stamp = start_stamp
        self.last_renew_filter = last_renew_filter
        self.overlap = max(0, int(overlap_s))

    def page(self, cursor: str | None, limit: int) -> ChangePage:
        cur = Cursor.load(cursor, self.start_stamp)
        size = max(1, min(limit, 100))
        if not self.last_renew_filter:
            return self._page_without_filter(cur, size)
        if self.overlap and cur.stamp > 0:
            rows = self.client.list_orders(renewed={"after": cur.stamp - self.overlap}, size=size)
            if len(rows) < size or max(stamp_of(r) for r in rows) > cur.stamp:
                return self._page_of(rows, cur, size)
        rows = self.client.list_orders(renewed={"strictly_after" if cur.closed else "after": cur.stamp}, size=size)
        return self._page_of(rows, cur, size)

    def _page_of(self, rows: list[dict], cur: Cursor, size: int) -> ChangePage:
        if not rows:
            return ChangePage([], cur.dump())
        stamps = [stamp_of(r) for r in rows]
        top, full = max(stamps), len(rows) >= size
        if full and min(stamps) == top:
            return self._one_second(cur, top, size)
        changes = _changes(rows, cur, self.overlap)
        return ChangePage(changes, cur.advanced(top, {_key(r) for r in rows}, self.overlap).dump(), has_more=full)

    def _one_second(self, cur: Cursor, second: int, size: int) -> ChangePage:
        """Every row of one second holding at least a page of them (see the module docstring)."""
        past = bool(self.client.list_orders(renewed={"strictly_after": second}, size=1))
        window = {"after": second, "before": second}
        found: dict[str, dict] = {}
        page, last = 1, None
        while last is None:
            rows = self.client.list_orders(renewed=window, page=page, size=size)
            found.update((_key(r), r) for r in rows)
            if len(rows) < size:
                last = page
            page += 1
        for page in range(last - 1, 0, -1):
            found.update((_key(r), r) for r in self.client.list_orders(renewed=window, page=page, size=size))
        rows = [r for r in found.values() if stamp_of(r) == second]
        changes = _changes(rows, cur, self.overlap)
        keys = {_key(r) for r in rows}
        if past:      # nothing can enter this second any more
            return ChangePage(changes, cur.advanced(second, keys, self.overlap, closed=True).dump(), has_more=True)
        return ChangePage(changes, cur.advanced(second, keys, self.overlap).dump(), has_more=False)

    def _page_without_filter(self, cur: Cursor, size: int) -> ChangePage:
        """X-Cart 5.5.0 has no lastRenewDate filter: newest first until the cursor's second is
        passed. Offset paging is safe in this direction: an edit or a new order moves a row to the
        front, which shifts unread rows to later offsets (read twice at worst, never skipped)."""
        found: dict[str, dict] = {}
        page = 1
        while True:
            rows = self.client.list_orders(descending=True, page=page, size=size)
            found.update((_key(r), r) for r in rows)
            if len(rows) < size or (rows and stamp_of(rows[-1]) < cur.stamp - self.overlap):
                break
            page += 1
        low = cur.stamp - self.overlap
        rows = sorted((r for r in found.values() if stamp_of(r) >= low), key=lambda r: (stamp_of(r), r["id"]))
        if not rows:
            return ChangePage([], cur.dump())
        top = max(cur.stamp, stamp_of(rows[-1]))
        return ChangePage(_changes(rows, cur, self.overlap),
                          cur.advanced(top, {_key(r) for r in rows}, self.overlap).dump())
