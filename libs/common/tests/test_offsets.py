from sagebridge_common.offsets import OffsetTracker

TP = ("orders", 0)


def test_commit_point_never_passes_an_unfinished_record():
    t = OffsetTracker()
    gen = t.assign(TP)
    for off in (10, 11, 12, 13):
        t.add(TP, off)
    t.done(TP, 12, gen)
    t.done(TP, 13, gen)
    assert t.committable() == {}          # 10 and 11 still running
    t.done(TP, 10, gen)
    assert t.committable() == {TP: 11}
    t.done(TP, 11, gen)
    assert t.committable() == {TP: 14}
    assert t.outstanding() == 0


def test_records_of_a_revoked_generation_are_ignored():
    t = OffsetTracker()
    old = t.assign(TP)
    t.add(TP, 5)
    t.close(TP)
    assert not t.is_current(TP, old)
    t.revoke(TP)
    new = t.assign(TP)
    t.add(TP, 5)
    t.done(TP, 5, old)                    # a late finish from before the rebalance
    assert t.committable() == {}
    t.done(TP, 5, new)
    assert t.committable() == {TP: 6}
