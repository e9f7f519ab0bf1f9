"""Keyed state without a broker: what a handler gets back from `set`/`delete`, and how partition
assignment and revocation scope the data (the broker round trip is in tests/integration)."""
from __future__ import annotations

import json

import pytest

from sagebridge_common.events import Event, Output
from sagebridge_common.keyed_state import KeyedState, _apply
from sagebridge_common.settings import Settings


def state() -> KeyedState:
    return KeyedState(Settings(), "counts", "in.v1", "in.counts.changelog")


def event(partition: int, topic: str = "in.v1") -> Event:
    return Event(topic, partition, 0, b"k", "x", {}, [], 0)


def test_set_returns_the_changelog_record_pinned_to_the_event_partition():
    s = state()
    out = s.for_event(event(3)).set("a", {"n": 1})
    assert isinstance(out, Output)
    assert (out.topic, out.key, out.partition, out.schema) == ("in.counts.changelog", "a", 3, None)
    assert json.loads(out.value) == {"n": 1}
    assert s.for_event(event(3)).get("a") == {"n": 1}
    assert s.for_event(event(2)).get("a") is None          # another partition, another store


def test_memory_holds_what_a_restore_would_give_back_not_the_callers_object():
    s = state()
    value = {"n": 1}
    s.partition(0).set("a", value)
    value["n"] = 2
    assert s.partition(0).get("a") == {"n": 1}


def test_delete_returns_a_tombstone():
    s = state()
    s.partition(1).set("a", {"n": 1})
    out = s.partition(1).delete("a")
    assert (out.key, out.value, out.partition) == ("a", None, 1)
    assert s.partition(1).get("a") is None


def test_revoke_drops_only_the_source_topic_partitions_given():
    s = state()
    s.partition(0).set("a", 1)
    s.partition(1).set("b", 2)
    s.on_revoke([("in.v1", 0), ("other.v1", 1)])
    assert s.assigned() == {1} and s.snapshot(1) == {"b": 2}


def test_assignment_of_other_topics_restores_nothing():
    s = state()
    s.on_assign([("other.v1", 0)])                       # would need a broker if it tried
    assert s.assigned() == set()


def test_once_a_processor_assigns_partitions_an_unassigned_one_is_refused(monkeypatch):
    import sagebridge_common.keyed_state as ks
    monkeypatch.setattr(ks, "restore", lambda settings, topic, partitions, timeout: {p: {} for p in partitions})
    s = state()
    s.on_assign([("in.v1", 0)])
    s.partition(0).set("a", 1)
    with pytest.raises(ks.StateRestoreError, match="partition 1 is not assigned"):
        s.partition(1)


def test_an_event_of_another_topic_is_refused():
    with pytest.raises(ValueError, match="in.v1"):
        state().for_event(event(0, topic="other.v1"))


def test_replaying_a_changelog_keeps_the_last_value_and_honours_tombstones():
    data: dict = {}
    for key, value in [(b"a", b'{"n":1}'), (b"b", b'{"n":1}'), (b"a", b'{"n":2}'), (b"b", None),
                       (None, b'{"n":9}'), (b"c", b"not json")]:
        _apply(data, key, value)
    assert data == {"a": {"n": 2}}
