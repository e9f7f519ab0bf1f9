"""The coalescer with a fake clock: latest per key after the settle window, forced after the max hold."""
from __future__ import annotations

from sagebridge_common.coalescer import Coalescer


class Clock:
    t = 0.0

    def __call__(self) -> float:
        return self.t


def test_only_the_latest_of_a_burst_is_released_once_the_key_settles():
    clock = Clock()
    c = Coalescer(0.5, 5.0, clock=clock)
    replaced = [c.offer("a", n) for n in range(10)]
    assert replaced == [None, 0, 1, 2, 3, 4, 5, 6, 7, 8]
    c.offer("b", "b1")
    clock.t = 0.4
    assert c.due() == []
    c.offer("b", "b2")
    clock.t = 0.5
    assert c.due() == [("a", 9)]
    clock.t = 0.9
    assert c.due() == [("b", "b2")] and len(c) == 0


def test_a_key_that_never_settles_is_released_at_the_max_hold():
    clock = Clock()
    c = Coalescer(0.5, 2.0, clock=clock)
    released = []
    for step in range(50):                     # a change every 0.1 s for 5 s
        clock.t = step * 0.1
        c.offer("hot", step)
        released += c.due()
    assert [v for _, v in released] == [20, 41]


def test_10000_changes_over_500_keys_release_one_record_per_key():
    clock = Clock()
    c = Coalescer(0.5, 5.0, clock=clock)
    for n in range(10_000):
        c.offer(f"sku-{n % 500}", n)
    clock.t = 1
    out = dict(c.due())
    assert len(out) == 500 and all(v >= 9_500 for v in out.values())


def test_drop_forgets_the_held_records_of_revoked_partitions():
    c = Coalescer(0.5, 5.0)
    c.offer(("t", "k1"), ("p0", 1))
    c.offer(("t", "k2"), ("p1", 2))
    assert c.drop(lambda _k, item: item[0] != "p0") == [("p0", 1)]
    assert len(c) == 1


def test_window_zero_turns_it_off():
    assert not Coalescer(0, 0).applies("any")
    assert Coalescer(0.5, 1, ["inv"]).applies("inv") and not Coalescer(0.5, 1, ["inv"]).applies("ship")
