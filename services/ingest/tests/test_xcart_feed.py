"""The X-Cart order feed against the simulator over HTTP: nothing lost while the store moves."""
from __future__ import annotations

from collections import Counter

import pytest

from .conftest import drain


def _versions(changes):
    return Counter((c.entity_id, c.version) for c in changes)


@pytest.mark.parametrize("overlap", [0, 2])
def test_a_slow_store_edited_and_growing_during_the_walk_loses_no_order(sim, overlap):
    """The incident: each list call takes 2.5 s of store time, old orders just read are edited
    and new ones placed between page calls. Offset paging skipped the rows that slid from page 2
    to page 1, and a watermark at the newest stamp kept them behind it for good."""
    base = 1_900_000_000
    made = []
    for s in range(5):                                   # 250 old orders over five seconds
        sim.at(base + s)
        made += [sim.order() for _ in range(50)]
    sim.at(base + 100)
    sim.listing.configure({"clock_step_s": 2.5, "edit_returned": 5, "create_per_call": 2, "calls": 8})
    source = sim.source(page_size=50, overlap_s=overlap)
    changes, cursor = drain(source, polls=2)
    assert len(sim.listing.snapshot()["calls"]) > 8      # the faults ran out during the walk
    tail, cursor = drain(source, cursor)                 # the orders placed after the last faulted call
    changes += tail
    created = sim.listing.snapshot()["created"]
    everything = {str(i) for i in made + created}
    versions = _versions(changes)
    assert {oid for oid, _v in versions} == everything, "an order was never read"
    assert max(versions.values()) == 1, "a version was delivered twice"
    latest = {str(o["id"]): o for o in (sim.store.get_order(int(i)) for i in everything)}
    from sagebridge_connectors.xcart.feed import version_of
    assert all((oid, version_of(o)) in versions for oid, o in latest.items()), "an edit was missed"
    more, _ = drain(source, cursor)
    assert more == []                                    # at rest: the cursor is past everything


def test_the_filter_value_is_one_the_store_parses(sim):
    """A bare-digits value is dropped by X-Cart's DateFilter, so the old client listed the whole
    order table on every poll; the simulator records which filters it applied."""
    sim.at(1_900_100_000)
    for _ in range(120):
        sim.order()
    sim.at(1_900_100_500)
    new = [sim.order() for _ in range(3)]
    source = sim.source()
    _, cursor = drain(source)                            # cursor at the newest second
    sim.at(1_900_100_600)
    newer = sim.order()
    changes, _ = drain(source, cursor)
    assert [c.entity_id for c in changes] == [str(newer)]
    call = sim.listing.snapshot()["calls"][-1]
    assert call["filters_applied"] == ["lastRenewDate[after]"] and call["filters_ignored"] == []
    assert call["rows"] == 4 and set(call["ids"]) == {*new, newer}   # the filter cut the table


def test_a_change_within_the_cursor_second_is_exported(sim):
    second = 1_900_200_000
    sim.at(second)
    oid = sim.order(payment_code="D")
    source = sim.source()
    first, cursor = drain(source)
    sim.at(second)
    sim.store.set_status(oid, "payment", "P")           # declined -> paid in the same second
    again, _ = drain(source, cursor)
    assert [c.entity_id for c in first] == [str(oid)] and [c.entity_id for c in again] == [str(oid)]
    assert again[0].version != first[0].version and again[0].version[:12] == first[0].version[:12]
    assert source.fetch(again[0]).payload["order"]["payment_status"]["code"] == "P"


@pytest.mark.parametrize("overlap", [0, 2])
def test_more_than_a_page_in_one_second_is_read_whole_while_rows_leave_it(sim, overlap):
    second = 1_900_300_000
    sim.at(second)
    ids = [sim.order() for _ in range(130)]
    sim.at(second + 1)
    later = sim.order()
    # while that second is walked, each call moves two of the rows it answered out of it
    sim.listing.configure({"edit_returned": 2, "calls": 6})
    changes, _ = drain(sim.source(page_size=50, overlap_s=overlap), polls=2)
    versions = _versions(changes)
    assert {oid for oid, _v in versions} == {str(i) for i in ids + [later]}
    assert max(versions.values()) == 1


@pytest.mark.parametrize("overlap,caught", [(0, False), (2, True)])
def test_the_overlap_catches_an_order_that_became_visible_late(sim, overlap, caught):
    """A save stamps lastRenewDate before its transaction commits; a row committed after later
    rows were read carries an older stamp than the cursor."""
    sim.at(1_900_350_005)
    sim.order()
    source = sim.source(overlap_s=overlap)
    _, cursor = drain(source)
    sim.at(1_900_350_004)
    late = sim.order()
    changes, cursor = drain(source, cursor)
    assert [c.entity_id for c in changes] == ([str(late)] if caught else [])
    again, _ = drain(source, cursor)
    assert again == []                                   # read once, not again on the next poll


def test_first_start_honours_start_at(sim):
    from datetime import datetime, timezone
    sim.at(1_900_400_000)
    sim.order()
    sim.at(1_900_400_100)
    new = sim.order()
    start = datetime.fromtimestamp(1_900_400_050, timezone.utc)
    changes, _ = drain(sim.source(start_at=start))
    assert [c.entity_id for c in changes] == [str(new)]


def test_without_the_server_filter_the_walk_stops_at_the_cursor():
    """X-Cart 5.5.0 ignores lastRenewDate[...]: newest first, stop at the cursor, oldest first out."""
    from .conftest import Sim
    sim = Sim(last_renew_filter=False)
    try:
        sim.at(1_900_500_000)
        for _ in range(120):
            sim.order()
        source = sim.source(last_renew_filter=False, page_size=50)
        _, cursor = drain(source)
        sim.at(1_900_500_100)
        new = [sim.order() for _ in range(130)]
        changes, _ = drain(source, cursor)
        assert [c.entity_id for c in changes] == [str(i) for i in new]
    finally:
        sim.stop()


def test_the_old_pollers_saved_watermark_is_resumed():
    from sagebridge_connectors.xcart.feed import Cursor
    assert Cursor.load('{"v": 1, "watermark": 1730828882, "seen": ["9"]}', 0) == Cursor(1730828882)
    assert Cursor.load(None, 77) == Cursor(77)
    c = Cursor(5, frozenset({"9@000000000005-ab"}), closed=True)
    assert Cursor.load(c.dump(), 0) == c
