"""The X-Cart connector and the poll state against the X-Cart simulator over real HTTP."""
from __future__ import annotations

import pytest

from sagebridge_common.errors import PermanentError, TransientError
from sagebridge_ingest.poller import PollState, parse_xcart_time
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
    with pytest.raises(PermanentError) as e:
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
    assert parse_xcart_time("2024-11-05T15:42:10+0000").isoformat() == "2024-11-05T15:42:10+00:00"
    assert parse_xcart_time("2024-11-05T17:42:10+0200").isoformat() == "2024-11-05T15:42:10+00:00"
