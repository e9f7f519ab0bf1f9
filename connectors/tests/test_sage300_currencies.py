"""Many orders of a currency not yet checked arrive at once: Sage is asked once, not once per order
(the writer runs up to MAX_IN_FLIGHT orders concurrently, so a cache without a per-currency gate
turned the first burst into a burst of identical reads)."""
from __future__ import annotations

import threading
import time

import pytest

from sagebridge_common.errors import PermanentError
from sagebridge_connectors.sage300.currencies import CurrencyCheck


class SlowClient:
    def __init__(self, known: set[str]) -> None:
        self.known, self.calls = known, 0
        self._lock = threading.Lock()

    def currency_exists(self, code: str) -> bool:
        with self._lock:
            self.calls += 1
        time.sleep(0.05)            # a Sage round trip, so the other threads arrive while it is out
        return code in self.known


def test_a_burst_of_orders_in_one_new_currency_reads_it_once():
    client = SlowClient({"USD"})
    check = CurrencyCheck(client)
    start = threading.Barrier(16)

    def order() -> None:
        start.wait()
        check.require("usd")

    threads = [threading.Thread(target=order) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert client.calls == 1 and check.reads == 1


def test_an_unknown_currency_is_refused_and_asked_again_later():
    client = SlowClient({"USD"})
    check = CurrencyCheck(client)
    for _ in range(2):
        with pytest.raises(PermanentError) as refused:
            check.require("JPY")
        assert refused.value.reason == "currency_not_in_sage"
    assert client.calls == 2        # not remembered as missing: a redrive after the fix works
    client.known.add("JPY")
    check.require("JPY")
    check.require("JPY")
    assert client.calls == 3
