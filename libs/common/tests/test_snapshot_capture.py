"""The snapshot-diff engine over a fake reader, driven page by page the way the source runner does
(changes -> delivered -> save the cursor): hash diff, deletes, restart from a saved cursor, edits
while a scan pages, narrowing, and the rows-per-second bound on a fake clock."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest
from prometheus_client import REGISTRY

from sagebridge_common.row_memory import DictRowMemory
from sagebridge_common.snapshot_capture import ReadRow, SnapshotCapture, SnapshotTable

ILOC = SnapshotTable("ICILOC", ("item", "loctid"), "item")
CUST = SnapshotTable("ARCUST", ("custno",), "custno", changed_since="adddate")


class Clock:
    """Read time and pacing on one fake clock: a sleep moves it on."""

    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.t += s


class FakeReader:
    """Rows per table keyed by their position (padded, as a CHAR column holds them)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.rows: dict[str, dict[tuple, dict]] = {"ICILOC": {}, "ARCUST": {}}
        self.calls: list[tuple[str, float, int]] = []      # (kind, clock time, rows returned)
        self.pages: list[tuple] = []                        # (table, after, limit, since)
        self.on_page = None                                 # called after each page is read

    def put(self, table: str, **values) -> None:
        t = ILOC if table == "ICILOC" else CUST
        self.rows[table][tuple(str(values[k]).ljust(8) for k in t.key)] = values

    def drop(self, table: str, *key: str) -> None:
        del self.rows[table][tuple(k.ljust(8) for k in key)]

    def page(self, table, after, limit, since=None):
        self.pages.append((table, after, limit, since))
        rows = sorted((p, v) for p, v in self.rows[table].items()
                      if (after is None or p > tuple(after))
                      and (since is None or (v.get("adddate") or "") >= since.isoformat()))[:limit]
        self.calls.append(("page", self.clock(), len(rows)))
        out = [ReadRow(p, dict(v)) for p, v in rows]
        if self.on_page:
            self.on_page(len(self.pages))
        return out

    def keys(self, table):
        t = ILOC if table == "ICILOC" else CUST
        self.calls.append(("keys", self.clock(), len(self.rows[table])))
        return [{k: v[k] for k in t.key} for v in self.rows[table].values()]

    def ping(self):
        return True, "fake"

    def close(self):
        pass


@pytest.fixture
def rig():
    clock = Clock()
    reader = FakeReader(clock)
    memory = DictRowMemory()

    def capture(**kw) -> SnapshotCapture:
        opts = {"rows_per_s": 1_000_000, "full_scan_interval_s": 3600}
        opts.update(kw)
        return SnapshotCapture(kind="sagepro", pair_id="p1", tables=[ILOC, CUST], reader=reader, memory=memory,
                               now=clock, clock=clock, sleep=clock.sleep, **opts)
    return clock, reader, memory, capture


def scan(cap: SnapshotCapture, stream: str, cursor: str | None, limit: int = 2, pages: int | None = None):
    """Pages as the runner asks for them until the scan ends (or `pages` pages): (changes, cursor)."""
    seen, n = [], 0
    while True:
        page = cap.changes(stream, cursor, limit)
        cap.delivered(stream, page)
        cursor, n = page.cursor, n + 1
        seen += page.changes
        if not page.has_more or (pages is not None and n >= pages):
            return seen, cursor


def rows_read(kind: str) -> float:
    return REGISTRY.get_sample_value("sagebridge_cdc_rows_read_total",
                                     {"pair": "p1", "table": "ICILOC", "kind": kind}) or 0.0


def values(changes):
    return [(c.listing["op"], c.entity_id, json.loads(c.listing["after"])["qty"] if c.listing["after"] else None)
            for c in changes]


def test_first_scan_emits_every_row_then_only_rows_whose_value_changed(rig):
    clock, reader, memory, capture = rig
    for i, item in enumerate(["A1", "A2", "A3", "A4", "A5"]):
        reader.put("ICILOC", item=item, loctid="MAIN", qty=f"{i}.00")
    cap = capture()
    read_before, keys_before = rows_read("scan"), rows_read("keys")
    first, cursor = scan(cap, "ICILOC", None)
    assert values(first) == [("upsert", f"A{i + 1}|MAIN", f"{i}.00") for i in range(5)]
    c = first[0]
    assert c.listing["entity_key"] == "A1" and c.listing["table"] == "ICILOC"
    assert c.version == c.listing["position"] == f"{int(clock.t * 1_000_000):016d}|A1|MAIN"
    assert c.occurred_at == datetime.fromtimestamp(clock.t, timezone.utc)
    assert json.loads(c.listing["after"]) == {"item": "A1", "loctid": "MAIN", "qty": "0.00"}
    assert rows_read("scan") - read_before == 5 and rows_read("keys") - keys_before == 0   # read whole here
    reader.put("ICILOC", item="A3", loctid="MAIN", qty="9.00")
    reader.put("ICILOC", item="A5", loctid="MAIN", qty="4.00")     # written again with the same value
    clock.t += 30
    second, _ = scan(cap, "ICILOC", cursor)
    assert values(second) == [("upsert", "A3|MAIN", "9.00")]
    assert second[0].version > c.version


def test_a_page_not_delivered_is_not_remembered(rig):
    _clock, reader, memory, capture = rig
    reader.put("ICILOC", item="A1", loctid="MAIN", qty="1.00")
    cap = capture()
    page = cap.changes("ICILOC", None, 10)         # read, never acknowledged (crash before publish)
    assert memory.data == {}
    again = cap.changes("ICILOC", None, 10)
    assert values(again.changes) == values(page.changes) == [("upsert", "A1|MAIN", "1.00")]


def test_a_deleted_row_becomes_one_delete_event_after_the_full_scan(rig):
    clock, reader, memory, capture = rig
    for item in ["D1", "D2", "D3"]:
        reader.put("ICILOC", item=item, loctid="MAIN", qty="1.00")
    cap = capture()
    _, cursor = scan(cap, "ICILOC", None)
    reader.drop("ICILOC", "D2", "MAIN")
    clock.t += 30
    changes, cursor = scan(cap, "ICILOC", cursor)
    assert [(c.listing["op"], c.entity_id, c.listing["entity_key"], c.listing["after"]) for c in changes] == [
        ("delete", "D2|MAIN", "D2", None)]
    assert changes[0].listing["position"] == f"{int(clock.t * 1_000_000):016d}|D2|MAIN"
    assert "p1|ICILOC|D2|MAIN" not in memory.data
    clock.t += 30
    assert scan(cap, "ICILOC", cursor)[0] == []                    # said once
    reader.put("ICILOC", item="D2", loctid="MAIN", qty="1.00")      # back again: a new upsert
    assert values(scan(cap, "ICILOC", cursor)[0]) == [("upsert", "D2|MAIN", "1.00")]


def test_a_scan_read_whole_here_needs_no_key_listing_one_resumed_ends_with_one(rig):
    clock, reader, memory, capture = rig
    for item in ["K1", "K2", "K3", "K4", "K5"]:
        reader.put("ICILOC", item=item, loctid="MAIN", qty="1.00")
    cap = capture()
    _, cursor = scan(cap, "ICILOC", None, limit=2)
    assert [k for k, _t, _n in reader.calls] == ["page", "page", "page"]
    # the next scan: two pages here, then another process (a restart, another replica) goes on
    reader.drop("ICILOC", "K1", "MAIN")                  # read by no one: deleted
    clock.t += 30
    _, mid = scan(cap, "ICILOC", cursor, limit=2, pages=1)
    reader.calls.clear()
    rest, cursor = scan(capture(), "ICILOC", mid, limit=2)
    assert [k for k, _t, _n in reader.calls] == ["page", "page", "keys"]
    assert [(c.listing["op"], c.entity_id) for c in rest] == [("delete", "K1|MAIN")]
    # the first process gets the stream back later in a scan it did not read whole: it lists the keys
    # too, and takes nothing for deleted because another process read its page
    clock.t += 30
    _, mid = scan(capture(), "ICILOC", cursor, limit=2, pages=1)
    reader.calls.clear()
    assert scan(cap, "ICILOC", mid, limit=2)[0] == []
    assert [k for k, _t, _n in reader.calls] == ["page", "page", "keys"]
    assert "p1|ICILOC|K2|MAIN" in memory.data and "p1|ICILOC|K3|MAIN" in memory.data


def test_a_page_asked_again_ends_the_scan_with_a_key_listing(rig):
    _clock, reader, _memory, capture = rig
    for item in ["G1", "G2", "G3", "G4", "G5"]:
        reader.put("ICILOC", item=item, loctid="MAIN", qty="1.00")
    cap = capture()
    first = cap.changes("ICILOC", None, 2)
    cap.delivered("ICILOC", first)
    cap.changes("ICILOC", first.cursor, 2)               # not delivered (a failed publish) ...
    reader.drop("ICILOC", "G3", "MAIN")                  # ... its row deleted meanwhile ...
    again = cap.changes("ICILOC", first.cursor, 2)       # ... and the page asked again
    cap.delivered("ICILOC", again)
    changes, _ = scan(cap, "ICILOC", again.cursor, limit=2)
    assert [k for k, _t, _n in reader.calls] == ["page", "page", "page", "page", "keys"]
    assert [(c.listing["op"], c.entity_id) for c in changes] == []     # G3 was never remembered


def test_a_restart_mid_scan_resumes_after_the_saved_key_and_misses_nothing(rig):
    clock, reader, memory, capture = rig
    items = [f"R{i:02d}" for i in range(10)]
    for item in items:
        reader.put("ICILOC", item=item, loctid="MAIN", qty="1.00")
    before, cursor = scan(capture(), "ICILOC", None, limit=3, pages=2)    # 6 rows delivered, then a crash
    assert json.loads(cursor)["after"] == ["R05     ", "MAIN    "]
    reader.put("ICILOC", item="R01", loctid="MAIN", qty="2.00")          # behind the cursor
    reader.put("ICILOC", item="R08", loctid="MAIN", qty="2.00")          # ahead of it
    reader.pages.clear()
    after, cursor = scan(capture(), "ICILOC", cursor, limit=3)           # a new process, the saved cursor
    assert reader.pages[0][1] == ["R05     ", "MAIN    "]
    assert values(after) == [("upsert", f"R{i:02d}|MAIN", "2.00" if i == 8 else "1.00") for i in range(6, 10)]
    clock.t += 30
    assert values(scan(capture(), "ICILOC", cursor, limit=3)[0]) == [("upsert", "R01|MAIN", "2.00")]
    got = {c.entity_id for c in before + after}
    assert got == {f"{i}|MAIN" for i in items}


def test_rows_edited_while_a_scan_pages_are_caught_in_this_scan_or_the_next(rig):
    clock, reader, _memory, capture = rig
    for item in ["E1", "E2", "E3", "E4", "E5", "E6"]:
        reader.put("ICILOC", item=item, loctid="MAIN", qty="1.00")

    def edit(n_pages):
        if n_pages == 1:                    # after the first page (E1, E2) was read
            reader.put("ICILOC", item="E1", loctid="MAIN", qty="5.00")      # behind the cursor
            reader.put("ICILOC", item="E5", loctid="MAIN", qty="5.00")      # ahead of it
            reader.drop("ICILOC", "E6", "MAIN")                             # moved behind the cursor:
            reader.put("ICILOC", item="E0", loctid="MAIN", qty="7.00")      # deleted, re-keyed E0
    reader.on_page = edit
    cap = capture()
    first, cursor = scan(cap, "ICILOC", None, limit=2)
    assert values(first) == [("upsert", "E1|MAIN", "1.00"), ("upsert", "E2|MAIN", "1.00"),
                             ("upsert", "E3|MAIN", "1.00"), ("upsert", "E4|MAIN", "1.00"),
                             ("upsert", "E5|MAIN", "5.00")]
    reader.on_page = None
    clock.t += 30
    second, _ = scan(cap, "ICILOC", cursor, limit=2)
    assert sorted(values(second)) == [("upsert", "E0|MAIN", "7.00"), ("upsert", "E1|MAIN", "5.00")]


def test_between_full_scans_only_rows_changed_since_the_previous_scan_are_read(rig):
    clock, reader, _memory, capture = rig
    day = datetime.fromtimestamp(clock.t, timezone.utc).date()
    reader.put("ARCUST", custno="C1", qty="1", adddate="2020-01-01")
    reader.put("ARCUST", custno="C2", qty="1", adddate="2020-01-01")
    cap = capture(full_scan_interval_s=3600)
    first, cursor = scan(cap, "ARCUST", None)
    assert reader.pages[0][3] is None and len(first) == 2                # the first scan is full
    reader.put("ARCUST", custno="C2", qty="2", adddate=day.isoformat())   # edited: its date moves
    reader.drop("ARCUST", "C1")
    reader.calls.clear()
    reader.pages.clear()
    clock.t += 60
    narrow, cursor = scan(cap, "ARCUST", cursor)
    assert values(narrow) == [("upsert", "C2", "2")]                      # no delete between full scans
    assert [p[3] for p in reader.pages] == [date.fromordinal(day.toordinal() - 1)]
    assert "keys" not in [k for k, _t, _n in reader.calls]
    clock.t += 3600
    full, _ = scan(cap, "ARCUST", cursor)
    assert values(full) == [("delete", "C1", None)]
    assert reader.pages[-1][3] is None


def test_a_table_without_changed_since_always_scans_fully(rig):
    clock, reader, _memory, capture = rig
    reader.put("ICILOC", item="F1", loctid="MAIN", qty="1.00")
    cap = capture()
    _, cursor = scan(cap, "ICILOC", None)
    clock.t += 5
    scan(cap, "ICILOC", cursor)
    assert [p[3] for p in reader.pages] == [None, None]
    assert [k for k, _t, _n in reader.calls] == ["page", "page"]   # both full: each read whole, no listing


def test_rows_read_per_second_stay_under_the_bound_key_listing_included(rig):
    clock, reader, _memory, capture = rig
    for i in range(100):
        reader.put("ICILOC", item=f"B{i:03d}", loctid="MAIN", qty="1.00")
    cap = capture(rows_per_s=20)
    start = clock.t
    cursor = None
    for _ in range(3):      # three full scans whose second page is asked twice: 3 x (10 + 100 rows + 100 keys)
        first = cap.changes("ICILOC", cursor, 10)
        cap.delivered("ICILOC", first)
        cap.changes("ICILOC", first.cursor, 10)
        second = cap.changes("ICILOC", first.cursor, 10)
        cap.delivered("ICILOC", second)
        _, cursor = scan(cap, "ICILOC", second.cursor, limit=10)
    total = 0
    for kind, t, n in reader.calls:                 # before each read, what was read so far is paid for
        assert total <= 20 * (t - start) + 20, (kind, t - start, total)
        total += n
    assert total == 630 and [k for k, _t, _n in reader.calls].count("keys") == 3
    assert clock.t - start >= (630 - 20 - 100) / 20     # the clock really moved: 25 s of pacing at least


def test_delivered_ignores_a_page_it_did_not_answer_last(rig):
    _clock, reader, memory, capture = rig
    reader.put("ICILOC", item="A1", loctid="MAIN", qty="1.00")
    cap = capture()
    old = cap.changes("ICILOC", None, 10)
    cap.changes("ICILOC", None, 10)
    cap.delivered("ICILOC", old)
    assert memory.data == {}


def test_a_long_pacing_debt_answers_empty_pages_instead_of_one_long_sleep(rig):
    clock, reader, _memory, capture = rig
    for i in range(100):
        reader.put("ICILOC", item=f"L{i:03d}", loctid="MAIN", qty="1.00")
    cap = capture(rows_per_s=10, max_pause_s=2)
    first = cap.changes("ICILOC", None, 100)          # 100 rows read: 9 s owed beyond the burst of 10
    cap.delivered("ICILOC", first)
    start, empty = clock.t, 0
    while True:
        page = cap.changes("ICILOC", first.cursor, 100)
        if len(reader.calls) > 1:                      # the next read happened
            break
        assert page.changes == [] and page.has_more and page.cursor == first.cursor
        empty += 1
    assert empty == 4 and clock.t - start == pytest.approx(9.0)     # pauses of 2 s, then the read
