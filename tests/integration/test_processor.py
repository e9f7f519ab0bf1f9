"""The runtime's processor loop on the real broker: ordering, commits, retries, DLQ, shutdown,
backpressure and rebalances."""
from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from datetime import datetime, timezone

import pytest
from confluent_kafka import Producer
from prometheus_client import REGISTRY

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

    def __init__(self, bootstrap, topic, handler, *, max_in_flight=8, group=None, service_name="test", **settings):
        self.settings = Settings(**{"kafka_bootstrap_servers": bootstrap, "service_name": service_name, "ops_port": 0,
                                    "kafka_group_id": group or unique("group"), "pair_id": "p",
                                    "retry_initial_s": 0.02, "retry_max_s": 0.2, "max_in_flight": max_in_flight,
                                    **settings})
        self.app = Application(self.settings, configure_logging=False)
        self.proc = self.app.processor(topic if isinstance(topic, list) else [topic], handler, stage="test")
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

    def metric(self, name: str, **labels) -> float:
        return REGISTRY.get_sample_value(name, {"service": self.settings.service_name, **labels}) or 0.0

    def paused(self) -> float:
        return self.metric("sagebridge_partitions_paused")

    def consumed(self, topic: str) -> float:
        return self.metric("sagebridge_events_consumed_total", topic=topic)


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

    with Running(bootstrap, src, handler, unknown_schema_retry_budget_s=0.5) as r:
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
    handed_while_down: set[tuple[int, int]] = set()

    def handler(event):
        calls[0] += 1
        if down.is_set():
            handed_while_down.add((event.partition, event.offset))
            raise TransientError("503 from target")
        return [Output(out, event.value["order_id"], SCHEMA, event.value)]

    with Running(bootstrap, src, handler, max_in_flight=4, max_buffered=10, service_name=unique("svc")) as r:
        assert wait_until(lambda: r.paused() == 2)          # every assigned partition is paused
        # held records retry far past the unknown-error bound (5 attempts) without a dead letter
        assert wait_until(lambda: calls[0] >= 4 * 10)
        assert read_all(bootstrap, src + ".dlq", idle=0.5) == []
        assert r.consumed(src) <= 10, "records were fetched past the buffered limit while paused"
        assert len(handed_while_down) <= 10
        down.clear()
        assert len(read_all(bootstrap, out, expect=60)) == 60
        assert wait_until(lambda: r.paused() == 0)


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


def produce_to(bootstrap, serde, topic, partition, keys):
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for k in keys:
        p.produce(topic, partition=partition, key=k.encode(), value=serde.serialize(SCHEMA, status_event(k, 1)))
    assert p.flush(10) == 0


def test_backpressure_pause_survives_a_rebalance(bootstrap, serde):
    """Member a is paused with a full buffer when member b leaves: what a takes over must be paused
    too, and no record of it fetched until the buffer drains. Among what it takes over is a
    partition of a topic it never had, which is where librdkafka drops a pause made before the
    assignment. (Range assignment by member id, i.e. client id: b's sorts first, so b alone gets
    the one-partition topic.)"""
    src, extra, out = unique("in"), unique("in2"), unique("out")
    create_topics(bootstrap, [src, out], partitions=2)
    create_topics(bootstrap, [extra], partitions=1)
    release = threading.Event()

    def hung_erp(event):                                  # a slow ERP call, far beyond the grace
        release.wait(60)
        return [Output(out, event.value["order_id"], SCHEMA, event.value)]

    def quick(event):
        return [Output(out, event.value["order_id"], SCHEMA, event.value)]

    group = unique("group")
    a = Running(bootstrap, [src, extra], hung_erp, group=group, service_name=unique("z-a"), max_in_flight=2,
                max_buffered=4, shutdown_grace_s=0.5)
    b = Running(bootstrap, [src, extra], quick, group=group, service_name=unique("b"))
    try:
        with b:
            assert wait_until(lambda: len(b.proc.tracker.assigned()) == 3, 30)
            with a:
                assert wait_until(lambda: a.proc.tracker.assigned() == {(src, 1)}, 30)
                produce_to(bootstrap, serde, src, 1, [f"a{i}" for i in range(10)])
                assert wait_until(lambda: a.paused() == 1)
                held = a.consumed(src)
                assert held <= 4
                b.stop()                                  # a takes over b's partitions while paused
                assert wait_until(lambda: len(a.proc.tracker.assigned()) == 3, 30)
                produce_to(bootstrap, serde, src, 0, [f"b{i}" for i in range(5)])
                produce_to(bootstrap, serde, extra, 0, [f"c{i}" for i in range(5)])
                assert len(read_all(bootstrap, extra, expect=5)) == 5     # fetchable: a reader just got them
                assert a.consumed(extra) == 0, "a partition assigned while paused was consumed"
                assert a.consumed(src) == held
                assert a.proc.tracker.outstanding() == 0
                assert a.paused() == 3
                release.set()
                assert wait_until(lambda: committed(bootstrap, group, src, 2) == {0: 5, 1: 10}
                                  and committed(bootstrap, group, extra, 1) == {0: 5}, 30)
                assert wait_until(lambda: a.paused() == 0)
    finally:
        release.set()
    keys = {m.key() for m in read_all(bootstrap, out, expect=20)}
    assert keys == {f"a{i}".encode() for i in range(10)} | {f"{p}{i}".encode() for p in "bc" for i in range(5)}


def test_rebalances_during_retries_never_run_a_record_on_a_partition_it_left(bootstrap, serde):
    """Two members on a 4-partition topic, every record failing transiently twice with a backoff
    longer than the shutdown grace; the second member joins mid-way. Every record ends with an
    output (at least once), and no handler call of a partition generation starts after that
    generation was revoked from its member (a retry must not outlive its ownership)."""
    src, out = unique("in"), unique("out")
    create_topics(bootstrap, [src, out, src + ".dlq"], partitions=4)
    total = 48
    produce(bootstrap, serde, src, [(f"k{i}", status_event(f"k{i}", i)) for i in range(total)])
    journal: list[tuple] = []                 # ("call" | "revoked", member, partition, generation), in order
    lock = threading.Lock()
    local = threading.local()
    failures: Counter = Counter()

    def note(*entry) -> None:
        with lock:
            journal.append(entry)

    def handler_for(member: str):
        def handler(event):
            note("call", member, event.partition, local.generation)
            with lock:
                failures[(member, event.partition, event.offset)] += 1
                n = failures[(member, event.partition, event.offset)]
            if n <= 2:
                raise TransientError("Sage 300 busy", retry_after=1.2)
            return [Output(out, event.value["order_id"], SCHEMA, event.value)]
        return handler

    def watch(member: str, running: Running) -> Running:
        proc = running.proc
        real_process, real_revoke = proc._process, proc.tracker.revoke

        def process(msg, generation):
            local.generation = generation
            return real_process(msg, generation)

        def revoke(tp):
            generation = proc.tracker.generation(tp)
            real_revoke(tp)
            note("revoked", member, tp[1], generation)

        proc._process, proc.tracker.revoke = process, revoke
        return running

    group = unique("group")
    settings = dict(group=group, max_in_flight=6, retry_max_s=1.2, shutdown_grace_s=0.5)
    a = watch("a", Running(bootstrap, src, handler_for("a"), service_name=unique("a"), **settings))
    b = watch("b", Running(bootstrap, src, handler_for("b"), service_name=unique("b"), **settings))
    with a:
        assert wait_until(lambda: len(read_all(bootstrap, out, idle=0.2)) >= 6, 60)
        with b:
            assert wait_until(lambda: sum(committed(bootstrap, group, src, 4).values()) == total, 90)
            outputs = read_all(bootstrap, out, expect=total)
    assert {m.key() for m in outputs} == {f"k{i}".encode() for i in range(total)}
    assert read_all(bootstrap, src + ".dlq", idle=0.5) == []
    assert any(e[0] == "revoked" and e[1] == "a" for e in journal), "the second member never took partitions"
    assert any(e[0] == "call" and e[1] == "b" for e in journal)
    revoked_at = {}
    for i, (kind, member, partition, generation) in enumerate(journal):
        if kind == "revoked":
            revoked_at.setdefault((member, partition, generation), i)
    late = [(i, e) for i, e in enumerate(journal)
            if e[0] == "call" and revoked_at.get(e[1:], len(journal)) < i]
    assert late == [], f"handler ran after its partition was revoked: {late[:5]}"


def test_an_output_too_large_for_the_broker_dead_letters_the_record(bootstrap, serde):
    """librdkafka refuses a record over message.max.bytes inside produce(): no retry can fix it,
    so the input goes to the DLQ (byte for byte) and the partition moves on."""
    src, out = unique("in"), unique("out")
    create_topics(bootstrap, [src, out, src + ".dlq"], partitions=1)
    records = [("big", status_event("big", 1)), ("ok", status_event("ok", 2))]
    produce(bootstrap, serde, src, records)
    calls: Counter = Counter()

    def handler(event):
        oid = event.value["order_id"]
        calls[oid] += 1
        value = dict(event.value)
        if oid == "big":
            value["order_number"] = "9" * 2_000_000          # over the producer's 1 MB message.max.bytes
        return [Output(out, oid, SCHEMA, value)]

    with Running(bootstrap, src, handler) as r:
        [dlq] = read_all(bootstrap, src + ".dlq", expect=1)
        outputs = read_all(bootstrap, out, expect=1)
        assert wait_until(lambda: committed(bootstrap, r.settings.group_id, src, 1)[0] == 2, 10)
    assert [m.key() for m in outputs] == [b"ok"]
    assert dlq.key() == b"big" and dlq.value() == serde.serialize(SCHEMA, records[0][1])
    assert header_dict(dlq.headers())[ERROR_PREFIX + "reason"] == "output_too_large"
    assert calls["big"] == 1
