"""X-Cart change feeds read by keyset over a time stamp, never losing a row: orders over
`lastRenewDate`, profiles over `added`. The discipline below is written for orders; a profile feed
is the same walk over `added` (`GET /api/profiles` with `added[...]`, X-Cart 5.5.0's profile
resource), where rows never move (`added` is set once) but new ones arrive while it reads.

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
from typing import Any, Callable

from sagebridge_common.contracts import Change, ChangePage
from sagebridge_common.times import parse_iso8601

from .api import XCartClient

log = logging.getLogger(__name__)
CURSOR_VERSION = 2


def unix_of(value: Any) -> int:
    """A 5.5 DTO date (ISO-8601, offset with or without a colon) or unix seconds, as unix seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    return int(parse_iso8601(value).timestamp())


def stamped_version(stamp: int, record: Any) -> str:
    """`<stamp, 12 digits>-<sha256 of the record JSON, 16 hex>`: sortable, state-exact."""
    digest = hashlib.sha256(json.dumps(record, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]
    return f"{stamp:012d}-{digest}"


def stamp_of(row: dict) -> int:
    return unix_of(row["update_date"])


def version_of(order: dict) -> str:
    """An order's version: its lastRenewDate and a hash of the order JSON."""
    return stamped_version(stamp_of(order), order)


@dataclass(frozen=True)
class Stream:
    """What a feed walks: `list_rows(window, descending=, page=, size=)` answers one page of rows
    filtered by `window` (DateFilter operator -> unix seconds) on `stamp_field`, sorted by it;
    `keep` drops rows that are not records (carts in the order table)."""
    entity_type: str
    stamp_field: str
    list_rows: Callable[..., list[dict]]
    keep: Callable[[dict], bool] = lambda _row: True

    def stamp(self, row: dict) -> int:
        return unix_of(row[self.stamp_field])

    def version(self, row: dict) -> str:
        return stamped_version(self.stamp(row), row)

    def key(self, row: dict) -> str:
        return f"{row['id']}@{self.version(row)}"

    def change(self, row: dict) -> Change:
        return Change(self.entity_type, str(row["id"]), self.version(row),
                      datetime.fromtimestamp(self.stamp(row), timezone.utc), listing=row)


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

    def is_new(self, stamp: int, key: str, overlap: int = 0) -> bool:
        if stamp > self.stamp:
            return True
        if stamp < self.stamp - overlap or (self.closed and not overlap):
            return False
        return key not in self.seen

    def advanced(self, top: int, keys: set[str], overlap: int, closed: bool = False) -> "Cursor":
        """The cursor after reading `keys` up to `top`: seen versions outside the window are dropped.
        It never moves back (an overlap read can end below the cursor)."""
        if top < self.stamp or (top == self.stamp and self.closed):
            top, closed = self.stamp, self.closed or closed
        keep = frozenset(k for k in self.seen | keys if _stamp_of_key(k) >= top - overlap)
        return Cursor(top, keep if (overlap or not closed) else frozenset(), closed)


def _is_order(row: dict) -> bool:
    # carts share the order table and have no order number (reference: X-Cart 5.5 order resource)
    return bool(row.get("order_number"))


class KeysetFeed:
    """`overlap_s`: every page also re-reads this many seconds before the cursor, for a row that
    became visible late (its transaction committed after later rows were read, with the stamp it
    was given before); versions already read there are dropped. When that window alone fills a
    page, the page starts at the cursor instead. `server_filter=False`: the store ignores the
    stamp filter (X-Cart 5.5.0 and lastRenewDate), so the walk goes newest first to the cursor."""

    def __init__(self, stream: Stream, *, start_stamp: int = 0, server_filter: bool = True,
                 overlap_s: int = 0) -> None:
        self.stream = stream
        self.start_stamp = start_stamp
        self.server_filter = server_filter
        self.overlap = max(0, int(overlap_s))

    def _list(self, window: dict[str, int] | None = None, *, descending: bool = False, page: int = 1,
              size: int = 100) -> list[dict]:
        return self.stream.list_rows(window or {}, descending=descending, page=page, size=size)

    def _changes(self, rows: list[dict], cur: "Cursor") -> list[Change]:
        st = self.stream
        return [st.change(r) for r in rows if st.keep(r) and cur.is_new(st.stamp(r), st.key(r), self.overlap)]

    def page(self, cursor: str | None, limit: int) -> ChangePage:
        cur = Cursor.load(cursor, self.start_stamp)
        size = max(1, min(limit, 100))
        if not self.server_filter:
            return self._page_without_filter(cur, size)
        stamp = self.stream.stamp
        if self.overlap and cur.stamp > 0:
            rows = self._list({"after": cur.stamp - self.overlap}, size=size)
            if len(rows) < size or max(stamp(r) for r in rows) > cur.stamp:
                return self._page_of(rows, cur, size)
        rows = self._list({"strictly_after" if cur.closed else "after": cur.stamp}, size=size)
        return self._page_of(rows, cur, size)

    def _page_of(self, rows: list[dict], cur: "Cursor", size: int) -> ChangePage:
        if not rows:
            return ChangePage([], cur.dump())
        stamps = [self.stream.stamp(r) for r in rows]
        top, full = max(stamps), len(rows) >= size
        if full and min(stamps) == top:
            return self._one_second(cur, top, size)
        keys = {self.stream.key(r) for r in rows}
        return ChangePage(self._changes(rows, cur), cur.advanced(top, keys, self.overlap).dump(), has_more=full)

    def _one_second(self, cur: "Cursor", second: int, size: int) -> ChangePage:
        """Every row of one second holding at least a page of them (see the module docstring)."""
        st = self.stream
        past = bool(self._list({"strictly_after": second}, size=1))
        window = {"after": second, "before": second}
        found: dict[str, dict] = {}
        page, last = 1, None
        while last is None:
            rows = self._list(window, page=page, size=size)
            found.update((st.key(r), r) for r in rows)
            if len(rows) < size:
                last = page
            page += 1
        for page in range(last - 1, 0, -1):
            found.update((st.key(r), r) for r in self._list(window, page=page, size=size))
        rows = [r for r in found.values() if st.stamp(r) == second]
        changes = self._changes(rows, cur)
        keys = {st.key(r) for r in rows}
        if past:      # nothing can enter this second any more
            return ChangePage(changes, cur.advanced(second, keys, self.overlap, closed=True).dump(), has_more=True)
        return ChangePage(changes, cur.advanced(second, keys, self.overlap).dump(), has_more=False)

    def _page_without_filter(self, cur: "Cursor", size: int) -> ChangePage:
        """Without the server's filter: newest first until the cursor's second is passed. Offset
        paging is safe in this direction: an edit or a new row moves a row to the front, which
        shifts unread rows to later offsets (read twice at worst, never skipped)."""
        st = self.stream
        found: dict[str, dict] = {}
        page = 1
        while True:
            rows = self._list(descending=True, page=page, size=size)
            found.update((st.key(r), r) for r in rows)
            if len(rows) < size or (rows and st.stamp(rows[-1]) < cur.stamp - self.overlap):
                break
            page += 1
        low = cur.stamp - self.overlap
        rows = sorted((r for r in found.values() if st.stamp(r) >= low), key=lambda r: (st.stamp(r), r["id"]))
        if not rows:
            return ChangePage([], cur.dump())
        top = max(cur.stamp, st.stamp(rows[-1]))
        return ChangePage(self._changes(rows, cur), cur.advanced(top, {st.key(r) for r in rows}, self.overlap).dump())


def order_stream(client: XCartClient) -> Stream:
    """Orders over lastRenewDate (`GET /api/orders`, `lastRenewDate[...]`, `order[lastRenewDate]`)."""
    def list_rows(window: dict[str, int], *, descending: bool, page: int, size: int) -> list[dict]:
        return client.list_orders(renewed=window, descending=descending, page=page, size=size)
    return Stream("order", "update_date", list_rows, _is_order)


def profile_stream(client: XCartClient) -> Stream:
    """Profiles over `added` (`GET /api/profiles`, `added[...]`, `order[added]`)."""
    def list_rows(window: dict[str, int], *, descending: bool, page: int, size: int) -> list[dict]:
        return client.list_profiles(added=window, descending=descending, page=page, size=size)
    return Stream("profile", "added", list_rows)


class OrderFeed(KeysetFeed):
    """The order feed (kept under its old name and signature)."""

    def __init__(self, client: XCartClient, *, start_stamp: int = 0, last_renew_filter: bool = True,
                 overlap_s: int = 0) -> None:
        super().__init__(order_stream(client), start_stamp=start_stamp, server_filter=last_renew_filter,
                         overlap_s=overlap_s)
        self.client = client


class ProfileFeed(KeysetFeed):
    """New profiles by `added`. X-Cart 5.5.0's profile resource declares the `added[...]` filter, so
    there is no unfiltered variant; edits never move a profile (no modification stamp), they
    arrive only through the push module's `customer.updated`."""

    def __init__(self, client: XCartClient, *, start_stamp: int = 0, overlap_s: int = 0) -> None:
        super().__init__(profile_stream(client), start_stamp=start_stamp, overlap_s=overlap_s)
        self.client = client
