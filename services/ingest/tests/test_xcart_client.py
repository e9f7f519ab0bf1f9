"""The X-Cart client's calls and error classes against the simulator over HTTP."""
from __future__ import annotations

import pytest

from sagebridge_common.errors import PermanentError, TransientError
from sagebridge_common.times import parse_iso8601
from sagebridge_connectors.xcart.api import XCartClient


def test_full_order_has_payment_transactions(sim):
    oid = sim.order(payment_method="PayPal")
    full = XCartClient(sim.server.url, "read-tok").full_order(oid)
    assert full["order"]["id"] == oid and full["payment_transactions"][0]["name"] == "PayPal"


def test_failures_are_classified(sim):
    with pytest.raises(TransientError) as e:          # held until the token is fixed, not dead-lettered
        XCartClient(sim.server.url, "bad-token").order(1)
    assert e.value.reason == "xcart_auth"
    with pytest.raises(PermanentError) as e:
        XCartClient(sim.server.url, "read-tok").order(99999999)
    assert e.value.reason == "xcart_not_found"
    sim.injector.configure(rate_limit_count=1, retry_after_s=3)
    with pytest.raises(TransientError) as e:
        XCartClient(sim.server.url, "read-tok").order(1)
    assert e.value.retry_after == 3
    oid = sim.order()
    sim.listing.configure({"broken_json": [oid]})
    with pytest.raises(PermanentError) as e:
        XCartClient(sim.server.url, "read-tok").order(oid)
    assert e.value.reason == "xcart_bad_json"



def test_xcart_times_without_colon_offset():
    assert parse_iso8601("2024-11-05T15:42:10+0000").isoformat() == "2024-11-05T15:42:10+00:00"
    assert parse_iso8601("2024-11-05T17:42:10+0200").isoformat() == "2024-11-05T15:42:10+00:00"
