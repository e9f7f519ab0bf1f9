"""The processor's coalescing hook on the real broker: a burst of 10,000 stock changes over 500 keys
is handled about once per key once it settles, always with the key's latest record, and the
committed offsets still reach the end (the replaced records count as finished)."""
from __future__ import annotations

import threading
from collections import Counter

from confluent_kafka import Producer

from sagebridge_common.app import Application
from sagebridge_common.coalescer import Coalescer
from sagebridge_common.settings import Settings

from .conftest import committed, create_topics, unique, wait_until
from .test_processor import SCHEMA, status_event

KEYS, CHANGES = 500, 10_000


def test_a_burst_over_500_keys_is_handled_about_once_per_key_with_the_latest_value(bootstrap, serde):
    topic, group = unique("coalesce"), unique("group")
    create_topics(bootstrap, [topic], partitions=3)
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for n in range(CHANGES):
        p.produce(topic, key=f"sku-{n % KEYS}".encode(), value=serde.serialize(SCHEMA, status_event(f"sku-{n % KEYS}", n)))
        if n % 1000 == 0:
            p.poll(0)
    assert p.flush(30) == 0

    handled: Counter = Counter()
    latest: dict[str, int] = {}
    lock = threading.Lock()

    def handler(event):
        with lock:
            key = event.key.decode()
            handled[key] += 1
            latest[key] = int(event.value["order_number"])
        return []

    settings = Settings(kafka_bootstrap_servers=bootstrap, service_name="coalesce-test", ops_port=0,
                        kafka_group_id=group, pair_id="p", max_in_flight=8)
    app = Application(settings, configure_logging=False)
    app.processor([topic], handler, stage="test", coalescer=Coalescer(0.5, 5.0, [topic]))
    thread = threading.Thread(target=app.run, kwargs={"install_signals": False}, daemon=True)
    thread.start()
    try:
        final = {f"sku-{k}": CHANGES - KEYS + k for k in range(KEYS)}
        wait_until(lambda: latest == final, timeout=120, message="every key's latest record handled")
        wait_until(lambda: sum(committed(bootstrap, group, topic, 3).values()) == CHANGES, timeout=60,
                   message="offsets committed to the end")
        with lock:
            total = sum(handled.values())
        assert total <= 1.2 * KEYS, f"{total} handler calls for {KEYS} keys"
    finally:
        app.request_stop()
        thread.join(20)


def test_records_held_when_their_partition_moves_are_handled_by_the_new_owner(bootstrap, serde):
    """Member a holds every key for a long settle window; member b joins and takes some of a's
    partitions. What a held for them is dropped unhandled (not committed), and b, reading from the
    last commit, handles each key's latest record: every key ends handled with its latest value."""
    from .test_processor import Running, produce

    topic, group = unique("coalesce-move"), unique("group")
    create_topics(bootstrap, [topic], partitions=4)
    latest: dict[str, int] = {}
    by_member: Counter = Counter()
    lock = threading.Lock()

    def handler_for(member: str):
        def handler(event):
            with lock:
                latest[event.key.decode()] = int(event.value["order_number"])
                by_member[member] += 1
            return []
        return handler

    def member(name: str, window_s: float) -> Running:
        run = Running(bootstrap, topic, handler_for(name), group=group, service_name=unique(name))
        run.proc.coalescer = Coalescer(window_s, window_s, [topic])
        return run

    a = member("a", 600.0)                 # a never releases on its own within the test
    with a:
        assert wait_until(lambda: len(a.proc.tracker.assigned()) == 4, 30)
        produce(bootstrap, serde, topic, [(f"k{n % 40}", status_event(f"k{n % 40}", n)) for n in range(400)])
        assert wait_until(lambda: len(a.proc.coalescer) == 40, 30)
        b = member("b", 0.2)
        with b:
            assert wait_until(lambda: b.proc.tracker.assigned(), 60)
            final = {f"k{k}": 360 + k for k in range(40)}

            def moved_keys_handled() -> bool:       # a holds its own partitions' keys again, b did the rest
                with lock:
                    return (by_member["b"] > 0 and len(latest) + len(a.proc.coalescer) == 40
                            and all(v == final[k] for k, v in latest.items()))
            assert wait_until(moved_keys_handled, 60, message="the moved keys' latest records handled by b")
            assert by_member["a"] == 0               # a's window never passed: it handled nothing
            assert all((topic, p) not in a.proc.tracker.assigned() for _t, p in b.proc.tracker.assigned())


def test_two_pairs_records_with_one_key_are_coalesced_apart(bootstrap, serde):
    """Two stores share the topics and can share a SKU: the runtime names the pair in a header of
    every event it publishes, and coalescing keeps one held record per pair and key."""
    from sagebridge_common.events import Output

    topic, group = unique("coalesce-pairs"), unique("group")
    create_topics(bootstrap, [topic], partitions=1)
    producer = Application(Settings(kafka_bootstrap_servers=bootstrap, service_name="coalesce-producer",
                                    ops_port=0), configure_logging=False)
    outputs = []
    for n in range(20):
        for pair in ("store-a", "store-b"):
            value = status_event("sku-1", n if pair == "store-a" else 100 + n)
            value["metadata"]["pair_id"] = pair
            outputs.append(Output(topic, "sku-1", SCHEMA, value))
    producer.publish_sync(outputs)
    latest: dict[str, int] = {}

    def handler(event):
        latest[event.value["metadata"]["pair_id"]] = int(event.value["order_number"])
        return []

    app = Application(Settings(kafka_bootstrap_servers=bootstrap, service_name="coalesce-pairs-test", ops_port=0,
                               kafka_group_id=group), configure_logging=False)
    app.processor([topic], handler, stage="test", coalescer=Coalescer(0.5, 5.0, [topic]))
    thread = threading.Thread(target=app.run, kwargs={"install_signals": False}, daemon=True)
    thread.start()
    try:
        wait_until(lambda: latest == {"store-a": 19, "store-b": 119}, timeout=60,
                   message="each pair's latest record of the shared key handled")
    finally:
        app.request_stop()
        thread.join(20)
        producer.close()
