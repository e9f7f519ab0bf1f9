"""The X-Cart profile feed (keyset on `added`) and profile fetch against the simulator over HTTP."""
from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timezone

import httpx
import pytest

from sagebridge_common.contracts import Change
from sagebridge_common.errors import PermanentError
from sagebridge_connectors.xcart.api import XCartClient

from .conftest import drain


def _profiles(source, cursor=None, **kw):
    return drain(source, cursor, stream="profile", **kw)


def _moving(sim, source, *, per_call: int, step_s: float, calls: int, same_second: bool = False):
    """After each of the next `calls` profile list calls, the store moves on: its clock by `step_s`
    and `per_call` customers register (the race a real store runs while a client pages).
    Returns (the profiles made, a function telling whether every call has run)."""
    made: list[int] = []
    real = source.client.list_profiles
    state = {"calls": 0}

    def listing(**kw):
        rows = real(**kw)
        if state["calls"] < calls:
            state["calls"] += 1
            if not same_second:
                sim.store.clock_offset += step_s
            made.extend(sim.profile(f"late{len(made)}-{state['calls']}@example.com") for _ in range(per_call))
        return rows
    source.client.list_profiles = listing
    return made, lambda: state["calls"] >= calls


def _until_quiet(source, cursor, done) -> tuple[list, str]:
    """Polls until the store has stopped moving and a poll finds nothing new."""
    out = []
    for _ in range(20):
        more, cursor = _profiles(source, cursor)
        out += more
        if done() and not more:
            return out, cursor
    raise AssertionError("the feed never went quiet")


@pytest.mark.parametrize("overlap", [0, 2])
def test_profiles_registered_while_the_feed_pages_are_not_lost(sim, overlap):
    base = 1_910_000_000
    made = []
    for s in range(4):
        sim.at(base + s)
        made += [sim.profile(f"c{s}-{n}@example.com") for n in range(40)]
    source = sim.source(page_size=50, overlap_s=overlap)
    late, done = _moving(sim, source, per_call=3, step_s=0.6, calls=8)
    changes, cursor = _profiles(source, polls=2)
    more, cursor = _until_quiet(source, cursor, done)
    changes += more
    versions = Counter((c.entity_id, c.version) for c in changes)
    assert {int(pid) for pid, _v in versions} == set(made + late), "a profile was never read"
    assert max(versions.values()) == 1, "a profile was delivered twice"
    assert all(c.entity_type == "profile" for c in changes)
    assert _profiles(source, cursor)[0] == []


@pytest.mark.parametrize("overlap", [0, 2])
def test_more_than_a_page_with_one_added_stamp_is_read_whole(sim, overlap):
    second = 1_910_100_000
    sim.at(second)
    same = [sim.profile(f"s{n}@example.com") for n in range(130)]
    source = sim.source(page_size=50, overlap_s=overlap)
    late, done = _moving(sim, source, per_call=2, step_s=0, calls=3, same_second=True)   # still that second
    changes, cursor = _profiles(source)
    assert done()
    sim.at(second + 1)
    later = sim.profile("after@example.com")
    more, _ = _profiles(source, cursor, polls=2)
    versions = Counter((c.entity_id, c.version) for c in changes + more)
    assert {int(pid) for pid, _v in versions} == set(same + late + [later])
    assert max(versions.values()) == 1


def test_fetch_gives_the_profile_and_its_addresses(sim):
    pid = sim.profile("Dee@Example.com", first_name="Dee", address={"street": "2 Pine St"},
                      shipping_address={"street": "3 Fir St"})
    source = sim.source()
    [change], _ = _profiles(source)
    record = source.fetch(change)
    assert (record.entity_type, record.entity_id) == ("profile", str(pid))
    assert record.payload["profile"]["login"] == "Dee@Example.com"
    assert [a["street"] for a in record.payload["addresses"]] == ["2 Pine St", "3 Fir St"]
    assert re.fullmatch(r"\d{12}-[0-9a-f]{16}", record.version)
    # behind a push the change has no listing row; an edit gives a new version
    sim.store.profiles.update(pid, {"last_name": "Ray"})
    pushed = source.fetch(Change("profile", str(pid), "", datetime.now(timezone.utc)))
    assert pushed.payload["addresses"][0]["lastname"] == "Ray" and pushed.version != record.version
    assert pushed.version[:12] >= record.version[:12]
    with pytest.raises(PermanentError):
        source.fetch(Change("profile", "999999", "", datetime.now(timezone.utc)))
    with pytest.raises(PermanentError):
        source.fetch(Change("cart", "1", "", datetime.now(timezone.utc)))


def test_streams_are_orders_and_profiles(sim):
    source = sim.source()
    assert source.streams() == ["order", "profile"]
    with pytest.raises(ValueError):
        source.changes("product", None, 10)


def test_profile_list_sends_filters_x_cart_parses():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json=[])
    client = XCartClient("http://store", "t", transport=httpx.MockTransport(handler))
    client.list_profiles(added={"after": 1_910_000_000, "before": 1_910_000_001}, page=2, size=50)
    [url] = seen
    assert url.path == "/api/profiles"
    assert dict(url.params) == {"added[after]": "@1910000000", "added[before]": "@1910000001",
                                "order[added]": "asc", "itemsPerPage": "50", "page": "2"}


@pytest.mark.parametrize("overlap,caught", [(0, False), (2, True)])
def test_the_overlap_catches_a_profile_that_became_visible_late(sim, overlap, caught):
    """A registration stamped `added` before its transaction committed shows up behind the cursor."""
    sim.at(1_910_200_005)
    sim.profile("early@example.com")
    source = sim.source(overlap_s=overlap)
    _, cursor = _profiles(source)
    sim.at(1_910_200_004)
    late = sim.profile("late@example.com")
    changes, cursor = _profiles(source, cursor)
    assert [c.entity_id for c in changes] == ([str(late)] if caught else [])
    assert _profiles(source, cursor)[0] == []
