"""Keyed state on the real broker: values survive a restart (restored from the changelog before any
record), and after a rebalance each group member restores exactly its own partitions."""
from __future__ import annotations

from datetime import datetime, timezone

from confluent_kafka import Producer

from sagebridge_common.app import Application
from sagebridge_common.events import Output, new_metadata
from sagebridge_common.keyed_state import KeyedState
from sagebridge_common.settings import Settings

from .conftest import RunsInThread, create_topics, read_all, unique, wait_until

SCHEMA = "sagebridge.v1.OrderStatus"


def status(order_id: str) -> dict:
    now = datetime.now(timezone.utc)
    return {"metadata": new_metadata("order.status", source_system="test", source_instance="t",
                                     source_entity_id=order_id, pair_id="p", occurred_at=now),
            "order_id": order_id, "order_number": order_id, "status": "paid", "fulfilment_status": "new",
            "changed_at": now}


def produce(bootstrap, serde, topic, keys):
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for key in keys:
        p.produce(topic, key=key.encode(), value=serde.serialize(SCHEMA, status(key)))
    assert p.flush(10) == 0


class Counter(RunsInThread):
    """A service counting records per key in keyed state, emitting `key=count` for each record."""

    def __init__(self, bootstrap, src, changelog, out, group):
        self.settings = Settings(kafka_bootstrap_servers=bootstrap, service_name="state-test", ops_port=0,
                                 kafka_group_id=group, pair_id="p")
        self.app = Application(self.settings, configure_logging=False)
        self.state = KeyedState(self.settings, "counts", src, changelog)
        self.partition_of: dict[str, int] = {}
        self.out = out
        proc = self.app.processor([src], self.handle, stage="count")
        proc.partition_listeners.append(self.state)

    def handle(self, event):
        key = event.key.decode()
        self.partition_of[key] = event.partition
        view = self.state.for_event(event)
        n = view.get(key, 0) + 1
        return [Output(self.out, key, None, f"{key}={n}".encode()), view.set(key, n)]

    def keys(self) -> dict[str, int]:
        return {k: v for p in self.state.assigned() for k, v in self.state.snapshot(p).items()}



def outputs(bootstrap, topic, expect):
    return sorted(m.value().decode() for m in read_all(bootstrap, topic, expect=expect))


def test_state_survives_a_restart(bootstrap, serde):
    src, changelog, out, group = unique("in"), unique("changelog"), unique("out"), unique("group")
    create_topics(bootstrap, [src, changelog, out], partitions=2)
    produce(bootstrap, serde, src, ["a", "a", "a", "b", "b"])
    with Counter(bootstrap, src, changelog, out, group):
        assert outputs(bootstrap, out, 5) == ["a=1", "a=2", "a=3", "b=1", "b=2"]
    produce(bootstrap, serde, src, ["a", "b"])
    with Counter(bootstrap, src, changelog, out, group) as second:
        wait_until(lambda: second.state.assigned() == {0, 1}, 30, message="assignment")
        # counted on from the restored state (a fresh store would say a=1, b=1 again)
        assert outputs(bootstrap, out, 7) == ["a=1", "a=2", "a=3", "a=4", "b=1", "b=2", "b=3"]
        assert second.keys() == {"a": 4, "b": 3}


def test_after_a_rebalance_each_member_restores_only_its_partitions(bootstrap, serde):
    src, changelog, out, group = unique("in"), unique("changelog"), unique("out"), unique("group")
    create_topics(bootstrap, [src, changelog, out], partitions=4)
    keys = [f"k{i}" for i in range(16)]
    produce(bootstrap, serde, src, keys)
    with Counter(bootstrap, src, changelog, out, group) as first:
        assert outputs(bootstrap, out, 16) == sorted(f"{k}=1" for k in keys)
        where = dict(first.partition_of)
        assert len(set(where.values())) > 1
        with Counter(bootstrap, src, changelog, out, group) as second:
            def split():
                a, b = first.state.assigned(), second.state.assigned()
                return a and b and not (a & b) and a | b == {0, 1, 2, 3}
            wait_until(split, 60, message="both members assigned")
            for member in (first, second):
                mine = {k for k, p in where.items() if p in member.state.assigned()}
                assert member.keys() == {k: 1 for k in mine}      # its own partitions, all of them, nothing else
            produce(bootstrap, serde, src, keys)
            assert outputs(bootstrap, out, 32) == sorted([f"{k}=1" for k in keys] + [f"{k}=2" for k in keys])
            assert set(second.partition_of) == {k for k, p in where.items() if p in second.state.assigned()}
