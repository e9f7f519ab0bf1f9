"""The token bucket with a fake clock: the rate holds across threads' calls, and a hold stops all."""
from __future__ import annotations

import threading

import pytest

from sagebridge_common.rate_limit import TokenBucket


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.t += s


def test_the_burst_passes_then_the_rate_holds():
    clock = Clock()
    bucket = TokenBucket(10, 5, clock=clock, sleep=clock.sleep)
    waits = [bucket.acquire() for _ in range(5)]
    assert waits == [0, 0, 0, 0, 0]
    start = clock.t
    for _ in range(20):
        bucket.acquire()
    assert clock.t - start == pytest.approx(2.0)        # 20 more calls at 10/s


def test_callers_waiting_at_once_get_successive_slots():
    clock = Clock()
    bucket = TokenBucket(4, 1, clock=clock)
    bucket._reserve()
    assert [round(bucket._reserve(), 6) for _ in range(3)] == [0.25, 0.5, 0.75]


def test_a_hold_stops_every_caller_until_it_ends():
    clock = Clock()
    bucket = TokenBucket(10, 10, clock=clock)
    bucket.hold(3)
    assert bucket._reserve() == pytest.approx(3.1)
    assert bucket._reserve() == pytest.approx(3.2)
    clock.t += 10
    assert bucket._reserve() == 0


def test_real_threads_share_one_bucket():
    bucket = TokenBucket(1, 1)             # one call per second: every later caller is owed a later slot
    owed = []
    threads = [threading.Thread(target=lambda: owed.append(bucket._reserve())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [round(w) for w in sorted(owed)] == list(range(8))


def test_a_stop_event_cuts_the_wait():
    bucket = TokenBucket(0.001, 1)
    bucket.acquire()
    stop = threading.Event()
    stop.set()
    assert bucket.acquire(stop) > 100          # the wait it was owed, not waited


def test_a_charge_of_many_tokens_is_waited_out_by_the_next_acquire():
    clock = Clock()
    bucket = TokenBucket(100, 10, clock=clock, sleep=clock.sleep)
    bucket.charge(210)                      # 10 in the bucket, 200 owed: 2 s at 100/s
    assert bucket.acquire(tokens=0) == pytest.approx(2.0)
    assert bucket.acquire(tokens=0) == 0
