"""The Shift4Shop order/customer feeds and the source against an in-memory store behind
httpx.MockTransport: 1-based offsets, 404 as the empty page, a row edited while the feed pages,
equal stamps, store-local dates (shift4shop.md §1.3)."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import httpx
import pytest

from sagebridge_common.contracts import Change
from sagebridge_connectors.shift4shop.api import Shift4ShopClient
from sagebridge_connectors.shift4shop.config import Shift4ShopStorefrontConfig
from sagebridge_connectors.shift4shop.source import Shift4ShopSource
from sagebridge_connectors.shift4shop.store_time import parse_store_time

LA = ZoneInfo("America/Los_Angeles")       # 8 h behind UTC in January
BASE = datetime(2024, 1, 15, 9, 0, 0)      # store-local


def cfg(**kw) -> Shift4ShopStorefrontConfig:
    base = {"kind": "shift4shop", "api_url": "https://s4s.test/3dCartWebAPI/v1", "secure_url": "https://shop.test",
            "private_key": "pk", "token": "tk", "page_size": 100, "overlap_s": 120,
            "rate_limit_per_s": 10000, "rate_limit_burst": 10000}
    return Shift4ShopStorefrontConfig(**(base | kw))


class FakeStore:
    """Lists sorted by (LastUpdate, id) like a store whose edits move rows to the end."""

    def __init__(self, zone: ZoneInfo = LA) -> None:
        self.zone = zone
        self.orders: dict[int, dict] = {}
        self.customers: dict[int, dict] = {}
        self.products: dict[int, dict] = {}
        self.customer_updated: dict[int, str] = {}     # the store knows it; the Customer object has no field
        self.requests: list[httpx.Request] = []
        self.after_page = None      # hook(offset) run after a list page is cut
        self.max_limit = 200        # a larger `limit` is clamped (the real maximum is not documented)

    def add_order(self, oid: int, local: datetime) -> dict:
        row = {"OrderID": oid, "InvoiceNumberPrefix": "AB-", "InvoiceNumber": 1000 + oid,
               "OrderDate": local.isoformat(), "LastUpdate": local.isoformat(), "OrderStatusID": 1,
               "OrderAmount": 10.0, "TransactionList": [], "ShipmentList": [], "OrderItemList": []}
        self.orders[oid] = row
        return row

    def edit(self, oid: int, local: datetime) -> None:
        self.orders[oid] = {**self.orders[oid], "LastUpdate": local.isoformat(), "InternalComments": "edited"}

    def _window(self, rows: list[dict], params) -> list[dict]:
        start = params.get("lastupdatestart")
        if start:
            day = datetime.strptime(start, "%m/%d/%Y")
            rows = [r for r in rows if datetime.fromisoformat(r.get("LastUpdate") or self.customer_updated.get(
                r.get("CustomerID"), "2000-01-01T00:00:00")) >= day]
        return rows

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.headers["PrivateKey"] == "pk" and request.headers["Token"] == "tk"
        path = request.url.path.removeprefix("/3dCartWebAPI/v1")
        p = request.url.params
        if m := re.fullmatch(r"/Orders/(\d+)", path):
            row = self.orders.get(int(m.group(1)))
            return httpx.Response(200, json=[row]) if row else httpx.Response(404, json=[])
        table = {"/Orders": (self.orders, lambda r: r["OrderID"]),
                 "/Customers": (self.customers, lambda r: r["CustomerID"]),
                 "/Products": (self.products, lambda r: r["SKUInfo"]["CatalogID"])}[path]
        rows = sorted(self._window(list(table[0].values()), p),
                      key=lambda r: (r.get("LastUpdate", ""), table[1](r)))
        offset, limit = int(p.get("offset", 1)), min(int(p.get("limit", 10)), self.max_limit)
        assert offset >= 1, "offset is 1-based"
        page = [json.loads(json.dumps(r)) for r in rows[offset - 1:offset - 1 + limit]]
        if self.after_page:
            self.after_page(offset)
        if not page:
            return httpx.Response(404, json=[{"Key": "Error", "Value": "", "Status": "404", "Message": "Not Found"}])
        return httpx.Response(200, json=page)


def source_for(store: FakeStore, **kw) -> Shift4ShopSource:
    return Shift4ShopSource(cfg(**kw), store.zone, transport=httpx.MockTransport(store.handler))


def drain(src: Shift4ShopSource, stream: str, cursor: str | None, limit: int = 1000):
    out, pages = [], 0
    while True:
        page = src.changes(stream, cursor, limit)
        out += page.changes
        cursor, pages = page.cursor, pages + 1
        if not page.has_more:
            return out, cursor
        assert pages < 100


def list_offsets(store: FakeStore) -> list[int]:
    return [int(r.url.params["offset"]) for r in store.requests if r.url.path.endswith("/Orders")]


def test_pages_by_one_based_offset_to_a_404_and_emits_every_order_in_key_order():
    store = FakeStore()
    for i in range(1, 201):
        store.add_order(i, BASE + timedelta(seconds=i))
    changes, cursor = drain(source_for(store), "order", None)
    assert [c.entity_id for c in changes] == [str(i) for i in range(1, 201)]
    assert list_offsets(store) == [1, 101, 201]          # the third page is the 404: read as empty
    assert json.loads(cursor) == {"v": 1, "stamp": int(parse_store_time(store.orders[200]["LastUpdate"], LA).timestamp()),
                                  "id": 200}


def test_an_empty_store_answers_404_and_the_cursor_stays():
    store = FakeStore()
    page = source_for(store).changes("order", '{"v":1,"stamp":1705338000,"id":7}', 100)
    assert page.changes == [] and json.loads(page.cursor) == {"v": 1, "stamp": 1705338000, "id": 7}


def test_the_filter_is_the_store_local_date_of_cursor_minus_overlap():
    """23:30 local in a store 8 h behind UTC is 07:30 UTC the next day: the filter must be the
    local date (01/15), not the UTC one (01/16), or the evening's orders would be skipped."""
    store = FakeStore()
    store.add_order(1, datetime(2024, 1, 15, 23, 30, 0))
    src = source_for(store)
    first = src.changes("order", None, 100)
    assert first.changes[0].occurred_at == datetime(2024, 1, 16, 7, 30, tzinfo=timezone.utc)
    assert "lastupdatestart" not in store.requests[0].url.params      # no cursor, no start_at: everything
    store.add_order(2, datetime(2024, 1, 15, 23, 45, 0))
    second = src.changes("order", first.cursor, 100)
    assert store.requests[-1].url.params["lastupdatestart"] == "01/15/2024"
    assert [c.entity_id for c in second.changes] == ["2"]


def test_equal_stamps_are_walked_by_id_across_pages_of_the_runtime_limit():
    store = FakeStore()
    for i in (5, 3, 1, 4, 2):
        store.add_order(i, BASE)
    src = source_for(store)
    ids, cursor = [], None
    for _ in range(3):
        page = src.changes("order", cursor, 2)
        ids.append([c.entity_id for c in page.changes])
        cursor = page.cursor
    assert ids == [["1", "2"], ["3", "4"], ["5"]]
    # a fresh source (no held walk) resumes inside the equal stamp from the saved cursor
    mid = json.dumps({"v": 1, "stamp": int(parse_store_time(BASE.isoformat(), LA).timestamp()), "id": 3})
    assert [c.entity_id for c in source_for(store).changes("order", mid, 100).changes] == ["4", "5"]


def test_a_row_edited_while_paging_hides_no_other_row():
    """Page 1 is read, then order 10 (on page 1) is edited: the store moves it to the end, and
    order 101 slides from offset 101 to 100, a page already read. The walk sees order 10 twice,
    emits nothing at or above its old place, and the next poll reads 101 (and 10's new version)."""
    store = FakeStore()
    for i in range(1, 151):
        store.add_order(i, BASE + timedelta(seconds=i))

    def edit_once(offset: int) -> None:
        if offset == 1 and store.after_page:
            store.after_page = None
            store.edit(10, BASE + timedelta(hours=1))
    store.after_page = edit_once
    src = source_for(store)
    first = src.changes("order", None, 1000)
    assert [c.entity_id for c in first.changes] == [str(i) for i in range(1, 10)]
    rest, _ = drain(src, "order", first.cursor)
    seen = [c.entity_id for c in first.changes + rest]
    assert sorted(map(int, seen)) == list(range(1, 151))          # none skipped, none twice
    assert seen[-1] == "10" and rest[-1].listing["InternalComments"] == "edited"


def test_an_edit_after_its_page_moves_nothing_and_comes_as_a_new_version_next_poll():
    store = FakeStore()
    for i in range(1, 4):
        store.add_order(i, BASE + timedelta(seconds=i))
    src = source_for(store)
    first = src.changes("order", None, 100)
    store.edit(2, BASE + timedelta(minutes=5))
    again = src.changes("order", first.cursor, 100)
    assert [c.entity_id for c in again.changes] == ["2"]
    assert again.changes[0].version != next(c.version for c in first.changes if c.entity_id == "2")


def test_versions_are_utc_stamp_and_hash_and_ambiguous_local_times_take_the_first_occurrence():
    ny = ZoneInfo("America/New_York")
    # 01:30 on 3 Nov 2024 happens twice in New York; fold=0 is EDT (UTC-4)
    assert parse_store_time("2024-11-03T01:30:00", ny) == datetime(2024, 11, 3, 5, 30, tzinfo=timezone.utc)
    store = FakeStore()
    store.add_order(1, datetime(2024, 1, 15, 23, 30, 0))
    change = source_for(store).changes("order", None, 10).changes[0]
    stamp, _, digest = change.version.partition("|")
    assert stamp == f"{int(datetime(2024, 1, 16, 7, 30, tzinfo=timezone.utc).timestamp()):016d}"
    assert re.fullmatch(r"[0-9a-f]{16}", digest)


def test_fetch_reuses_the_listing_and_a_webhook_change_reads_the_order():
    store = FakeStore()
    store.add_order(7, BASE)
    src = source_for(store)
    change = src.changes("order", None, 10).changes[0]
    calls = len(store.requests)
    rec = src.fetch(change)
    assert len(store.requests) == calls and rec.payload == {"order": change.listing}
    hook = src.fetch(Change("order", "7", "", datetime.now(timezone.utc)))
    assert store.requests[-1].url.path.endswith("/Orders/7")
    assert hook.payload["order"]["OrderID"] == 7 and hook.version == rec.version


def test_fetch_of_a_vanished_order_is_unknown_order():
    src = source_for(FakeStore())
    with pytest.raises(Exception) as e:
        src.fetch(Change("order", "99", "", datetime.now(timezone.utc)))
    assert getattr(e.value, "reason", "") == "unknown_order"


def test_customers_without_a_stamp_are_emitted_when_new_or_changed():
    store = FakeStore()
    store.customers = {i: {"CustomerID": i, "Email": f"c{i}@x.test", "BillingFirstName": "A"} for i in (1, 2, 3)}
    now = [datetime(2024, 1, 16, 7, 30, tzinfo=timezone.utc).timestamp()]
    src = source_for(store)
    src.customer_feed._now = lambda: now[0]
    first, cursor = drain(src, "customer", None, limit=2)
    assert [c.entity_id for c in first] == ["1", "2", "3"]
    assert json.loads(cursor) == {"v": 2, "day": "01/15/2024", "seen": {}}   # local date of (now - overlap)
    walks = [r for r in store.requests if r.url.path.endswith("/Customers") and r.url.params["offset"] == "1"]
    assert len(walks) == 1                                    # the second page came from the same walk
    store.customers[2] = {**store.customers[2], "BillingFirstName": "B"}
    store.customer_updated[2] = "2024-01-15T23:29:00"
    again, cursor = drain(src, "customer", cursor)
    assert [c.entity_id for c in again] == ["2"]
    assert store.requests[-1].url.params["lastupdatestart"] == "01/15/2024"
    assert drain(src, "customer", cursor)[0] == []


def test_the_product_feed_walks_catalog_ids_when_asked():
    store = FakeStore()
    store.products = {cid: {"SKUInfo": {"CatalogID": cid, "SKU": f"S{cid}"}, "LastUpdate": "2024-01-15T09:00:00"}
                      for cid in (30, 10, 20)}
    src = source_for(store)
    assert "product" not in src.streams()      # the hub's own writes would echo back (see source.py)
    assert Shift4ShopSource(cfg(), LA, client=src.client, poll_products=True).streams()[-1] == "product"
    changes = src.changes("product", None, 10).changes
    assert [c.entity_id for c in changes] == ["10", "20", "30"]
    assert src.fetch(changes[0]).payload == {"product": store.products[10]}


def test_a_store_that_clamps_limit_is_still_read_to_the_end():
    store = FakeStore()
    store.max_limit = 30
    for i in range(1, 101):
        store.add_order(i, BASE + timedelta(seconds=i))
    changes, _ = drain(source_for(store), "order", None)
    assert len(changes) == 100
    assert list_offsets(store) == [1, 31, 61, 91, 101]


def test_a_first_customer_sync_keeps_a_small_cursor_and_resumes_by_id():
    store = FakeStore()
    store.customers = {i: {"CustomerID": i, "Email": f"c{i}@x.test"} for i in range(1, 8)}
    src = source_for(store)
    page = src.changes("customer", None, 3)
    assert [c.entity_id for c in page.changes] == ["1", "2", "3"] and page.has_more
    assert json.loads(page.cursor)["first"]["after"] == 3
    fresh = source_for(store)                                 # another replica resumes from the cursor
    assert [c.entity_id for c in fresh.changes("customer", page.cursor, 3).changes] == ["4", "5", "6"]
