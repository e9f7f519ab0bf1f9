"""The order-stuck alert's gauge: an order is pending from its first attempt while the ERP fails
transiently, until it is written or dead-lettered; its age counts from the record's timestamp, and
an entry no retry touches any more (its partition moved) is dropped."""
from __future__ import annotations

from prometheus_client import REGISTRY

from sagebridge_common.errors import PermanentError, TransientError
from sagebridge_common.events import Event
from sagebridge_common.topics import ORDERS
from sagebridge_erp_writer.handler import make_handler
from sagebridge_erp_writer.pending import PendingOrders

from . import fakes
from .test_handler import SCHEMAS, Writer


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def order_event(order_id: str, number: str, pair: str, ts_s: float) -> Event:
    value = fakes.order(order_id, number, pair, customer=fakes.order_customer(guest_default=True))
    return Event(ORDERS, 0, 0, order_id.encode(), SCHEMAS[ORDERS], value, [], int(ts_s * 1000))


def gauges(pair: str) -> tuple[float | None, float | None]:
    labels = {"connector": "sage300", "pair": pair}
    return (REGISTRY.get_sample_value("sagebridge_erp_oldest_unwritten_order_age_seconds", labels),
            REGISTRY.get_sample_value("sagebridge_erp_unwritten_orders", labels))


def writer(make_pair, clock: Clock, pair: str) -> tuple[Writer, PendingOrders]:
    pending = PendingOrders(clock=clock, stale_after_s=300)
    w = Writer({pair: make_pair()})
    w.handle, w.on_failure = make_handler(w.sinks, {pair: make_pair()}, links=w.links, order_state=w.state,
                                          pending=pending)
    return w, pending


def test_series_exist_at_zero_before_any_order(make_pair):
    writer(make_pair, Clock(), "pend-zero")
    assert gauges("pend-zero") == (0.0, 0.0)


def test_an_order_the_erp_refuses_transiently_ages_until_written(make_pair):
    clock = Clock()
    w, _ = writer(make_pair, clock, "pend-t")
    ev = order_event("o1", "1001", "pend-t", ts_s=clock.now - 30)      # 30 s in Kafka before it was read
    w.sinks["pend-t"].fail_next_order = TransientError("503 from Sage")
    try:
        w.handle(ev)
    except TransientError:
        pass
    else:
        raise AssertionError("the fake sink did not fail")
    assert gauges("pend-t") == (30.0, 1.0)
    clock.now += 200                                                  # the processor retries later...
    assert gauges("pend-t") == (230.0, 1.0)
    outputs = w.handle(ev)                                            # ...and this time Sage takes it
    assert any(o.value and o.value.get("outcome") == "created" for o in outputs if isinstance(o.value, dict))
    assert gauges("pend-t") == (0.0, 0.0)


def test_a_dead_lettered_order_is_no_longer_pending(make_pair):
    clock = Clock()
    w, _ = writer(make_pair, clock, "pend-d")
    ev = order_event("o2", "1002", "pend-d", ts_s=clock.now)
    exc = PermanentError("unknown SKU", reason="unknown_sku")
    w.sinks["pend-d"].fail_next_order = exc
    try:
        w.handle(ev)
    except PermanentError:
        pass
    clock.now += 5
    assert gauges("pend-d") == (5.0, 1.0)
    w.on_failure(ev, exc)
    assert gauges("pend-d") == (0.0, 0.0)


def test_the_oldest_of_several_counts_and_untouched_entries_expire():
    clock = Clock()
    pending = PendingOrders(clock=clock, stale_after_s=300)
    pending.export("sage300", "pend-s")
    pending.started("pend-s", "a", order_event("a", "1", "pend-s", ts_s=clock.now - 100))
    clock.now += 200
    pending.started("pend-s", "b", order_event("b", "2", "pend-s", ts_s=clock.now - 10))
    assert gauges("pend-s") == (300.0, 2.0)
    pending.started("pend-s", "a", order_event("a", "1", "pend-s", ts_s=0))   # a retry: keeps its first age
    assert pending.oldest_age("pend-s") == 300.0
    clock.now += 301                                                  # b was never retried: moved away
    pending.started("pend-s", "a", order_event("a", "1", "pend-s", ts_s=0))
    assert gauges("pend-s") == (601.0, 1.0)                           # a retried just now; b dropped


def test_a_record_without_timestamp_counts_from_its_first_attempt():
    clock = Clock()
    pending = PendingOrders(clock=clock)
    pending.started("pend-n", "a", order_event("a", "1", "pend-n", ts_s=0))
    clock.now += 7
    assert pending.oldest_age("pend-n") == 7.0


def test_a_revoked_partition_takes_its_pending_orders_with_it():
    clock = Clock()
    pending = PendingOrders(clock=clock)
    on_0 = order_event("a", "1", "pend-r", ts_s=clock.now - 60)
    on_1 = Event(ORDERS, 1, 0, b"b", SCHEMAS[ORDERS], on_0.value, [], int((clock.now - 10) * 1000))
    pending.started("pend-r", "a", on_0)
    pending.started("pend-r", "b", on_1)
    pending.on_assign([(ORDERS, 2)])
    assert pending.count("pend-r") == 2.0
    pending.on_revoke([(ORDERS, 0)])                                  # a's new owner reports it now
    assert (pending.count("pend-r"), pending.oldest_age("pend-r")) == (1.0, 10.0)
