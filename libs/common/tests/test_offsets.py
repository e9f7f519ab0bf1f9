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


def test_a_partition_that_is_not_assigned_is_not_tracked():
    """A record fetched before a revoke and returned after it must not start a fresh state
    from which its offset would be committed by a member that no longer owns the partition."""
    t = OffsetTracker()
    assert t.add(TP, 5) is None
    gen = t.assign(TP)
    t.close(TP)
    assert t.add(TP, 6) is None                    # being revoked: nothing new starts
    t.revoke(TP)
    assert t.add(TP, 7) is None
    assert t.outstanding() == 0 and t.committable() == {} and t.assigned() == set()
    assert not t.is_current(TP, gen)


def test_each_generation_has_a_revoked_signal_set_when_revocation_begins():
    t = OffsetTracker()
    gen = t.assign(TP)
    revoked = t.revoked_event(TP, gen)
    assert not revoked.is_set()
    t.close(TP)
    assert revoked.is_set()
    new = t.assign(TP)
    assert not t.revoked_event(TP, new).is_set()
    assert t.revoked_event(TP, gen).is_set()        # an old generation is always revoked
    assert t.revoked_event(("other", 0), 1).is_set()


def test_reassigning_without_a_revoke_ends_the_old_generation():
    t = OffsetTracker()
    old = t.assign(TP)
    signal = t.revoked_event(TP, old)
    t.assign(TP)
    assert signal.is_set() and not t.is_current(TP, old)
