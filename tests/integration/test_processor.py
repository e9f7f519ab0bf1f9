"""The runtime's processor loop on the real broker: ordering, commits, retries, DLQ, shutdown."""
from __future__ import annotations

import threading
import time
from collections import defaultdict
from datetime import datetime, timezone

import pytest
from confluent_kafka import Producer

from sagebridge_common.app import Application
from sagebridge_common.dead_letter import ERROR_PREFIX, header_dict
from sagebridge_common.errors import PermanentError, TransientError
from sagebridge_common.events import Output, new_metadata
from sagebridge_common.settings import Settings

from .conftest import committed, create_topics, read_all, unique, wait_until

SCHEMA = "sagebridge.v1.OrderStatus"


def status_event(order_id: str, seq: int) -> dict:
    now = datetime.now(timezone.utc)
    return {"metadata": new_metadata("order.status", source_system="test", source_instance="t",
                                     source_entity_id=order_id, pair_id="p", occurred_at=now),
            "order_id": order_id, "order_number": str(seq), "status": "paid", "fulfilment_status": "new",
            "changed_at": now}


def produce(bootstrap, serde, topic, records):
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for key, value in records:
        p.produce(topic, key=key.encode(), value=value if isinstance(value, bytes) else serde.serialize(SCHEMA, value))
    assert p.flush(10) == 0


class Running:
    """An Application running in a thread, as a service's main would run it."""

    def __init__(self, bootstrap, topic, handler, *, max_in_flight=8, **settings):
        self.settings = Settings(kafka_bootstrap_servers=bootstrap, service_name="test", ops_port=0,
                                 kafka_group_id=unique("group"), pair_id="p", retry_initial_s=0.02, retry_max_s=0.2,
                                 max_in_flight=max_in_flight, **settings)
        self.app = Application(self.settings, configure_logging=False)
        self.app.processor([topic], handler, stage="test")
        self.exit_code = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        self.exit_code = self.app.run(install_signals=False)

    def __enter__(self):
        self.thread.start()
        return self

    def stop(self) -> float:
        started = time.monotonic()
        self.app.request_stop()
        self.thread.join(15)
        return time.monotonic() - started

    def __exit__(self, *exc):
        if self.thread.is_alive():
            self.stop()


def test_per_key_order_concurrency_outputs_and_commits(bootstrap, serde):
    src, out = unique("in"), unique("out")
    create_topics(bootstrap, [src, out], partitions=3)
    keys = [f"order-{k}" for k in range(10)]
    records = [(keys[i % 10], status_event(keys[i % 10], i)) for i in range(300)]
    produce(bootstrap, serde, src, records)
    seen: dict[str, list[int]] = defaultdict(list)
    active, peak = [0], [0]
    lock = threading.Lock()

    def handler(event):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.005)
        with lock:
            seen[event.value["order_id"]].append(int(event.value["order_number"]))
            active[0] -= 1
        return [Output(out, event.value["order_id"], SCHEMA, event.value)]

    with Running(bootstrap, src, handler) as r:
        assert wait_until(lambda: sum(map(len, seen.values())) == 300)
        group = r.settings.group_id
        assert wait_until(lambda: sum(committed(bootstrap, group, src, 3).values()) == 300, 10)
    for key, seqs in seen.items():
        assert seqs == sorted(seqs), f"{key} out of order"
    assert peak[0] > 1, "different keys never ran concurrently"
    assert len(read_all(bootstrap, out, expect=300)) == 300


def test_transient_errors_retry_without_dlq_and_permanent_ones_go_to_dlq(bootstrap, serde):
    src, out = unique("in"), unique("out")
    create_topics(bootstrap, [src, out, src + ".dlq"], partitions=2)
    records = [(f"k{i}", status_event(f"k{i}", i)) for i in range(20)]
    records.append(("poison", b"\xc3\x01not-avro-at-all"))
    produce(bootstrap, serde, src, records)
    failures = defaultdict(int)

    def handler(event):
        oid = event.value["order_id"]
        if oid == "k3" and failures[oid] < 3:
            failures[oid] += 1
            raise TransientError("target down", retry_after=0.05)
        if oid == "k7":
            raise PermanentError("unknown SKU NOPE", reason="unknown_sku")
        return [Output(out, oid, SCHEMA, event.value)]

    with Running(bootstrap, src, handler) as r:
        outputs = read_all(bootstrap, out, expect=19)
        dlq = read_all(bootstrap, src + ".dlq", expect=2)
        group = r.settings.group_id
        assert wait_until(lambda: sum(committed(bootstrap, group, src, 2).values()) == 21, 10)
    assert sorted(m.key() for m in outputs) == sorted(f"k{i}".encode() for i in range(20) if i != 7)
    assert failures["k3"] == 3
    by_key = {m.key(): m for m in dlq}
    assert set(by_key) == {b"k7", b"poison"}
    h = header_dict(by_key[b"k7"].headers())
    assert h[ERROR_PREFIX + "reason"] == "unknown_sku"
    assert h[ERROR_PREFIX + "topic"] == src
    assert h[ERROR_PREFIX + "stage"] == "test"
    assert "NOPE" in h[ERROR_PREFIX + "exception.message"]
    assert by_key[b"k7"].value() == serde.serialize(SCHEMA, records[7][1])   # the original record
    assert by_key[b"poison"].value() == b"\xc3\x01not-avro-at-all"        # original bytes, unchanged
    assert header_dict(by_key[b"poison"].headers())[ERROR_PREFIX + "reason"] in ("malformed_payload", "permanent",
                                                                               "unknown_schema")


def test_dlq_copy_is_byte_identical(bootstrap, serde):
    src = unique("in")
    create_topics(bootstrap, [src, src + ".dlq"], partitions=1)
    value = serde.serialize(SCHEMA, status_event("x", 1))
    produce(bootstrap, serde, src, [("x", value)])

    def handler(event):
        raise PermanentError("refused", reason="refused")

    with Running(bootstrap, src, handler):
        dlq = read_all(bootstrap, src + ".dlq", expect=1)
    assert dlq[0].value() == value and dlq[0].key() == b"x"


def test_a_target_that_stays_down_pauses_instead_of_flooding_the_dlq(bootstrap, serde):
    src, out = unique("in"), unique("out")
    create_topics(bootstrap, [src, out, src + ".dlq"], partitions=2)
    produce(bootstrap, serde, src, [(f"k{i}", status_event(f"k{i}", i)) for i in range(60)])
    down = threading.Event()
    down.set()
    calls = [0]

    def handler(event):
        calls[0] += 1
        if down.is_set():
            raise TransientError("503 from target")
        return [Output(out, event.value["order_id"], SCHEMA, event.value)]

    with Running(bootstrap, src, handler, max_in_flight=4, max_buffered=10):
        time.sleep(3)
        assert read_all(bootstrap, src + ".dlq", idle=0.5) == []
        down.clear()
        assert len(read_all(bootstrap, out, expect=60)) == 60


def test_stop_finishes_in_flight_work_commits_and_exits_within_10s(bootstrap, serde):
    src, out = unique("in"), unique("out")
    create_topics(bootstrap, [src, out], partitions=1)
    produce(bootstrap, serde, src, [(f"k{i}", status_event(f"k{i}", i)) for i in range(5)])
    started = threading.Event()

    def handler(event):
        started.set()
        time.sleep(1.0)                                   # a slow ERP call in flight at stop time
        return [Output(out, event.value["order_id"], SCHEMA, event.value)]

    r = Running(bootstrap, src, handler, max_in_flight=2).__enter__()
    assert started.wait(20)
    took = r.stop()
    assert took < 10
    assert r.exit_code == 0
    produced = read_all(bootstrap, out, idle=1.0)
    done = committed(bootstrap, r.settings.group_id, src, 1)[0]
    assert len(produced) >= 1
    assert done == len(produced)          # committed exactly what was produced, never ahead


def test_events_of_other_pairs_are_skipped_and_committed(bootstrap, serde):
    src, out = unique("in"), unique("out")
    create_topics(bootstrap, [src, out], partitions=1)
    foreign = status_event("theirs", 1)
    foreign["metadata"]["pair_id"] = "another-pair"
    produce(bootstrap, serde, src, [("theirs", foreign), ("ours", status_event("ours", 2))])
    handled = []

    def handler(event):
        handled.append(event.value["order_id"])
        return [Output(out, event.value["order_id"], SCHEMA, event.value)]

    with Running(bootstrap, src, handler) as r:
        assert wait_until(lambda: handled == ["ours"])
        assert wait_until(lambda: committed(bootstrap, r.settings.group_id, src, 1)[0] == 2, 10)
    assert handled == ["ours"]


def test_schema_registry_framing_end_to_end(bootstrap, serde):
    """With SCHEMA_REGISTRY_URL set, inputs in Confluent framing are read and outputs are written
    in it (magic byte 0 + schema id), against a real registry HTTP server."""
    from sagebridge_common.avro_serde import ConfluentSerde
    from sagebridge_common.schema_registry import SchemaRegistryClient
    from sagebridge_common.schemas import SchemaCatalog
    from sagebridge_sim.schema_registry import create_app as registry_app
    from sagebridge_sim.serve import BackgroundServer

    src, out = unique("in"), unique("out")
    create_topics(bootstrap, [src, out], partitions=1)
    with BackgroundServer(registry_app()) as registry:
        confluent = ConfluentSerde(SchemaCatalog.load(), SchemaRegistryClient(registry.url))
        p = Producer({"bootstrap.servers": bootstrap})
        p.produce(src, key=b"r1", value=confluent.serialize(SCHEMA, status_event("r1", 1)))
        p.flush(10)

        def handler(event):
            return [Output(out, event.value["order_id"], SCHEMA, event.value)]

        with Running(bootstrap, src, handler, schema_registry_url=registry.url):
            [msg] = read_all(bootstrap, out, expect=1)
        assert msg.value()[0] == 0
        name, value = confluent.deserialize(msg.value())
        assert name == SCHEMA and value["order_id"] == "r1"
