"""The X-Cart connector and the poll state against the X-Cart simulator over real HTTP."""
from __future__ import annotations

import pytest

from sagebridge_common.errors import PermanentError, TransientError
from sagebridge_common.times import parse_iso8601
from sagebridge_ingest.poller import PollState
from sagebridge_ingest.xcart.api import XCartClient
from sagebridge_sim.faults import FaultInjector
from sagebridge_sim.serve import BackgroundServer
from sagebridge_sim.xcart import XCartStore, create_app

ITEM = {"sku": "WIDGET-1", "name": "Widget", "price": "12.50", "amount": 1}


@pytest.fixture(scope="module")
def xcart():
    store, injector = XCartStore(), FaultInjector()
    with BackgroundServer(create_app(store, token_read="read-tok", token_all="all-tok", injector=injector)) as s:
        yield s, store, injector


def test_paging_walks_every_order_in_pages_of_at_most_100(xcart):
    server, store, _ = xcart
    store.clock_offset += 10_000                      # a fresh second nobody else used
    since = int(store.now())
    ids = [store.create_order({"items": [ITEM]})["id"] for _ in range(230)]
    client = XCartClient(server.url, "read-tok")
    got = [o["id"] for o in client.orders_renewed_since(since)]
    assert got == ids
    assert client.orders_renewed_since(since, page_size=500)   # clamped, not refused


def test_full_order_has_payment_transactions(xcart):
    server, store, _ = xcart
    oid = store.create_order({"items": [ITEM], "payment_method": "PayPal"})["id"]
    full = XCartClient(server.url, "read-tok").full_order(oid)
    assert full["order"]["id"] == oid and full["payment_transactions"][0]["name"] == "PayPal"


def test_failures_are_classified(xcart):
    server, _store, injector = xcart
    with pytest.raises(TransientError) as e:          # held until the token is fixed, not dead-lettered
        XCartClient(server.url, "bad-token").order(1)
    assert e.value.reason == "xcart_auth"
    with pytest.raises(PermanentError):
        XCartClient(server.url, "read-tok").order(99999999)
    injector.configure(rate_limit_count=1, retry_after_s=3)
    with pytest.raises(TransientError) as e:
        XCartClient(server.url, "read-tok").order(1)
    assert e.value.retry_after == 3
    injector.configure(reset=True)


def test_poll_state_dedupes_within_the_watermark_second():
    s = PollState()
    assert s.is_new("1", 100)
    s.advance("1", 100)
    s.advance("2", 100)
    assert not s.is_new("1", 100) and not s.is_new("2", 100)
    assert s.is_new("3", 100)                   # arrived later in the same second
    assert s.is_new("1", 101)                   # renewed again: an update, emitted
    s.advance("1", 101)
    assert s.seen_at_watermark == {"1"} and s.watermark == 101
    assert PollState.from_dict(__import__("json").loads(s.to_json())).seen_at_watermark == {"1"}


def test_xcart_times_without_colon_offset():
    assert parse_iso8601("2024-11-05T15:42:10+0000").isoformat() == "2024-11-05T15:42:10+00:00"
    assert parse_iso8601("2024-11-05T17:42:10+0200").isoformat() == "2024-11-05T15:42:10+00:00"
    assert parse_iso8601("2024-11-05T15:42:10Z") == parse_iso8601("2024-11-05T15:42:10")


def test_without_the_server_filter_the_walk_stops_at_the_watermark():
    """X-Cart 5.5.0 ignores lastRenewDate[...]: newest first, stop at the watermark, oldest first out."""
    store = XCartStore()
    with BackgroundServer(create_app(store, token_read="r", token_all="w", last_renew_filter=False)) as server:
        old = [store.create_order({"items": [ITEM]})["id"] for _ in range(120)]
        store.clock_offset += 50
        since = int(store.now())
        new = [store.create_order({"items": [ITEM]})["id"] for _ in range(130)]
        client = XCartClient(server.url, "r", last_renew_filter=False)
        got = [o["id"] for o in client.orders_renewed_since(since, page_size=50)]
        assert got == new and not set(got) & set(old)
        # the filtering client against the same store would have received everything
        assert len(list(XCartClient(server.url, "r").orders_renewed_since(since))) == 250


def test_first_start_honours_poll_start_at_but_a_saved_watermark_wins(monkeypatch):
    from datetime import datetime, timezone
    from types import SimpleNamespace

    from sagebridge_ingest import poller as poller_mod
    from sagebridge_ingest.config import IngestSettings

    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    app = SimpleNamespace(settings=IngestSettings(poll_start_at=start))
    p = poller_mod.OrderPoller(app, client=None, interval_s=1, page_size=100)
    monkeypatch.setattr(poller_mod, "read_latest", lambda *a, **k: None)
    p.load()
    assert p.state.watermark == int(start.timestamp())
    monkeypatch.setattr(poller_mod, "read_latest", lambda *a, **k: {"watermark": 5, "seen": ["9"]})
    p.load()
    assert (p.state.watermark, p.state.seen_at_watermark) == (5, {"9"})
