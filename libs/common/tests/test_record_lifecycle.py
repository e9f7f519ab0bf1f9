"""One record's life in the processor, driven step by step: the real Application and Processor,
with a consumer and a producer whose rebalances and delivery reports the test controls.

Each test pins a way a record could be lost, committed twice, or silently stall its partition:
a retry continuing after its partition moved, a completion firing twice or on half an
acknowledgement, and an exception vanishing in the worker pool.
"""
from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition
from prometheus_client import REGISTRY

from sagebridge_common.app import Application
from sagebridge_common.avro_serde import SingleObjectSerde
from sagebridge_common.dead_letter import ERROR_PREFIX, header_dict
from sagebridge_common.errors import BudgetedError, PermanentError, TransientError
from sagebridge_common.events import Output, new_metadata
from sagebridge_common.processor import Processor
from sagebridge_common.schemas import SchemaCatalog
from sagebridge_common.settings import Settings
from sagebridge_devstack.processes import wait_until

TOPIC = "orders.test"
SCHEMA = "sagebridge.v1.OrderStatus"
SERDE = SingleObjectSerde(SchemaCatalog.load())


def status(order_id: str) -> dict:
    now = datetime.now(timezone.utc)
    return {"metadata": new_metadata("order.status", source_system="test", source_instance="t",
                                     source_entity_id=order_id, pair_id="p", occurred_at=now),
            "order_id": order_id, "order_number": "1", "status": "paid", "fulfilment_status": "new",
            "changed_at": now}


class Msg:
    """The parts of confluent_kafka.Message the processor reads."""

    def __init__(self, partition: int, offset: int, key: bytes, value: bytes, headers=None) -> None:
        self._p, self._o, self._k, self._v, self._h = partition, offset, key, value, headers

    def topic(self): return TOPIC
    def partition(self): return self._p
    def offset(self): return self._o
    def key(self): return self._k
    def value(self): return self._v
    def headers(self): return self._h
    def timestamp(self): return (1, 0)
    def error(self): return None


@dataclass
class Sent:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: list | None
    on_delivery: object


class Delivered:
    def __init__(self, topic: str) -> None:
        self._topic = topic

    def topic(self):
        return self._topic


class Producer:
    """Records produce() calls; delivery reports fire only when the test calls `ack`. `refuse`
    makes produce() raise synchronously for a topic, as librdkafka does for an oversize record."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.refuse: dict[str, BaseException] = {}
        self.lock = threading.Lock()

    def produce(self, topic, value=None, key=None, headers=None, on_delivery=None):
        if topic in self.refuse:
            raise self.refuse[topic]
        with self.lock:
            self.sent.append(Sent(topic, key, value, headers, on_delivery))

    def on(self, topic: str) -> list[Sent]:
        with self.lock:
            return [s for s in self.sent if s.topic == topic]

    def ack(self, topic: str, err: KafkaError | None = None) -> None:
        for s in self.on(topic):
            s.on_delivery(err, Delivered(topic))

    def poll(self, timeout=0):
        threading.Event().wait(min(timeout, 0.05))
        return 0

    def flush(self, timeout=None):
        return 0


class Consumer:
    def __init__(self) -> None:
        self.assigned: list[TopicPartition] = []
        self.paused: set[tuple[str, int]] = set()
        self.commits: list[dict] = []

    def assignment(self):
        return list(self.assigned)

    def assign(self, partitions):
        self.assigned = list(partitions)

    def pause(self, partitions):
        self.paused |= {(p.topic, p.partition) for p in partitions}

    def resume(self, partitions):
        self.paused -= {(p.topic, p.partition) for p in partitions}

    def commit(self, offsets=None, asynchronous=True):
        self.commits.append({(o.topic, o.partition): o.offset for o in offsets})

    def close(self):
        pass


class World:
    def __init__(self) -> None:
        self.service = f"t{uuid.uuid4().hex[:8]}"
        self.producer = Producer()
        self.consumer = Consumer()
        self.apps: list[Application] = []
        self.procs: list[Processor] = []

    def processor(self, handler, failure_outputs=None, **settings) -> Processor:
        defaults = {"retry_initial_s": 0.01, "retry_max_s": 0.05, "shutdown_grace_s": 5.0}
        s = Settings(service_name=self.service, pair_id="p", **(defaults | settings))
        app = Application(s, producer=self.producer, configure_logging=False)
        self.apps.append(app)
        proc = Processor(app, [TOPIC], handler, stage="test", failure_outputs=failure_outputs)
        self.procs.append(proc)
        self.app = app
        return proc

    def assign(self, proc: Processor, *partitions: int) -> None:
        parts = [TopicPartition(TOPIC, p) for p in partitions]
        proc._on_assign(self.consumer, parts)
        self.consumer.assign(parts)

    def revoke(self, proc: Processor, *partitions: int) -> None:
        proc._on_revoke(self.consumer, [TopicPartition(TOPIC, p) for p in partitions])

    def metric(self, name: str, **labels) -> float:
        return REGISTRY.get_sample_value(name, {"service": self.service, **labels}) or 0.0

    def close(self) -> None:
        for app in self.apps:
            app.stop_event.set()
            app.close(0.1)
        for proc in self.procs:
            proc.executor.shutdown()


@pytest.fixture
def world():
    w = World()
    yield w
    w.close()


def record(partition: int, offset: int, key: str = "k1", headers=None) -> Msg:
    return Msg(partition, offset, key.encode(), SERDE.serialize(SCHEMA, status(key)), headers)


def committable(proc: Processor) -> dict:
    return proc.tracker.committable()


# -- 1. a retry never continues on a partition that moved ---------------------------------------

def test_revoke_interrupts_the_backoff_and_the_record_is_never_retried_after_it(world):
    calls: list[int] = []

    def handler(event):
        calls.append(event.offset)
        raise TransientError("Sage 300 unreachable", retry_after=60)   # a backoff far longer than the grace

    proc = world.processor(handler, retry_max_s=120.0, shutdown_grace_s=5.0)
    world.assign(proc, 0)
    proc._dispatch(record(0, 0))
    assert wait_until(lambda: world.metric("sagebridge_retries_total", topic=TOPIC, kind="transient") == 1, 10)

    world.revoke(proc, 0)

    # The drain ended because the sleeping retry woke and gave up, not because the grace ran out.
    assert proc.executor.wait_idle(0), "revoke returned while the record was still in its backoff"
    assert calls == [0]
    assert world.producer.sent == []                  # neither produced nor dead-lettered
    assert all((TOPIC, 0) not in c for c in world.consumer.commits)


def test_a_record_is_not_retried_once_its_partition_is_being_revoked(world):
    """The revoke begins while the handler call is in progress: the failure that follows must not
    start another attempt, however short the backoff."""
    entered, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def handler(event):
        calls.append(event.offset)
        entered.set()
        release.wait(10)
        raise TransientError("timeout before sending")

    proc = world.processor(handler)
    world.assign(proc, 0)
    proc._dispatch(record(0, 0))
    assert entered.wait(10)
    proc.tracker.close((TOPIC, 0))                    # what _on_revoke does first
    release.set()
    assert proc.executor.wait_idle(10)
    assert calls == [0]


# -- 2. completion fires exactly once, and only on a full acknowledgement -----------------------

def failed_result(event, exc):
    return [Output("results.test", event.value["order_id"], SCHEMA, event.value)]


def refused(event):
    raise PermanentError("unknown SKU", reason="unknown_sku")


@pytest.mark.parametrize("failed,acked", [("results.test", "orders.test.dlq"), ("orders.test.dlq", "results.test")])
def test_half_acknowledged_dead_letter_never_completes_the_record(world, caplog, failed, acked):
    proc = world.processor(refused, failure_outputs=failed_result)
    world.assign(proc, 0)
    proc._dispatch(record(0, 0))
    assert wait_until(lambda: world.producer.on("orders.test.dlq") and world.producer.on("results.test"), 10)
    with caplog.at_level(logging.ERROR):
        world.producer.ack(failed, KafkaError(KafkaError._MSG_TIMED_OUT))
        world.producer.ack(acked)
    assert world.app.fatal is not None and world.app.stop_event.is_set()
    assert committable(proc) == {}, "a record neither fully dead-lettered nor reported was made committable"


def test_both_parts_failing_stops_once(world, caplog):
    proc = world.processor(refused, failure_outputs=failed_result)
    world.assign(proc, 0)
    proc._dispatch(record(0, 0))
    assert wait_until(lambda: world.producer.on("orders.test.dlq") and world.producer.on("results.test"), 10)
    with caplog.at_level(logging.ERROR):
        world.producer.ack("orders.test.dlq", KafkaError(KafkaError._MSG_TIMED_OUT))
        world.producer.ack("results.test", KafkaError(KafkaError._MSG_TIMED_OUT))
    stops = [r for r in caplog.records if "not acknowledged" in r.getMessage()]
    assert len(stops) == 1
    assert committable(proc) == {}


def test_dead_letter_completes_only_after_both_acknowledgements(world):
    proc = world.processor(refused, failure_outputs=failed_result)
    done_calls: list[int] = []
    real_done = proc.tracker.done
    proc.tracker.done = lambda tp, off, gen: (done_calls.append(off), real_done(tp, off, gen))
    world.assign(proc, 0)
    proc._dispatch(record(0, 0))
    assert wait_until(lambda: world.producer.on("orders.test.dlq") and world.producer.on("results.test"), 10)
    world.producer.ack("orders.test.dlq")
    assert committable(proc) == {}                    # the failure output is not acknowledged yet
    world.producer.ack("results.test")
    assert committable(proc) == {(TOPIC, 0): 1}
    assert done_calls == [0]
    assert world.app.fatal is None


# -- 3. nothing escapes a worker silently --------------------------------------------------------

def test_an_undecodable_traceparent_starts_a_new_trace_with_a_warning(world, caplog):
    handled: list[int] = []
    proc = world.processor(lambda e: handled.append(e.offset) or [])
    world.assign(proc, 0)
    with caplog.at_level(logging.WARNING, logger="sagebridge_common.processor"):
        proc._dispatch(record(0, 0, headers=[("traceparent", b"\xff\xfe-not-utf8")]))
        assert wait_until(lambda: committable(proc) == {(TOPIC, 0): 1}, 10)
    assert handled == [0]
    assert any("trace" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


def too_large() -> KafkaException:
    return KafkaException(KafkaError(KafkaError.MSG_SIZE_TOO_LARGE, "Broker: Message size too large"))


def test_an_output_too_large_to_produce_sends_the_record_to_the_dlq_without_retrying(world):
    calls: list[int] = []

    def handler(event):
        calls.append(event.offset)
        return [Output("out.test", event.value["order_id"], SCHEMA, event.value)]

    proc = world.processor(handler)
    world.producer.refuse["out.test"] = too_large()
    world.assign(proc, 0)
    proc._dispatch(record(0, 0))
    assert wait_until(lambda: world.producer.on("orders.test.dlq"), 10)
    [dlq] = world.producer.on("orders.test.dlq")
    assert header_dict(dlq.headers)[ERROR_PREFIX + "reason"] == "output_too_large"
    assert calls == [0]                                # permanent: the handler is not run again
    world.producer.ack("orders.test.dlq")
    assert committable(proc) == {(TOPIC, 0): 1}


def test_a_dead_letter_copy_that_cannot_be_produced_stops_the_service(world, caplog):
    proc = world.processor(refused)
    world.producer.refuse["orders.test.dlq"] = too_large()
    world.assign(proc, 0)
    with caplog.at_level(logging.ERROR):
        proc._dispatch(record(0, 0))
        assert wait_until(lambda: world.app.stop_event.is_set(), 10)
    assert isinstance(world.app.fatal, KafkaException)
    assert any("dead-letter" in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
    assert committable(proc) == {}


class Crash(BaseException):
    """Not an Exception: slips past `except Exception`."""


def test_an_unexpected_base_exception_in_a_worker_is_logged_and_stops_the_service(world, caplog):
    def handler(event):
        raise Crash("interpreter-level failure")

    proc = world.processor(handler)
    world.assign(proc, 0)
    with caplog.at_level(logging.ERROR):
        proc._dispatch(record(0, 0))
        assert wait_until(lambda: world.app.stop_event.is_set(), 10)
    assert isinstance(world.app.fatal, Crash)
    assert any(r.exc_info and r.exc_info[0] is Crash for r in caplog.records)
    assert committable(proc) == {}


# -- 4. records of a partition this member does not own are dropped -----------------------------

def test_records_of_an_unowned_or_revoked_partition_are_not_processed(world):
    handled: list[tuple[int, int]] = []
    proc = world.processor(lambda e: handled.append((e.partition, e.offset)) or [])
    world.assign(proc, 0, 1)
    world.revoke(proc, 1)
    proc._dispatch(record(1, 5))                      # fetched before the revoke, returned after it
    proc._dispatch(record(2, 9))                      # never assigned here
    proc._dispatch(record(0, 3))                      # same key, queued behind the others
    assert wait_until(lambda: committable(proc) == {(TOPIC, 0): 4}, 10)
    assert handled == [(0, 3)]
    assert proc.tracker.outstanding() == 0
    assert set(committable(proc)) == {(TOPIC, 0)}



def test_each_assignment_and_revocation_is_counted_for_the_runtime_dashboard(world):
    proc = world.processor(lambda e: [])
    world.assign(proc, 0, 1)
    world.revoke(proc, 1)
    world.assign(proc, 1)
    assert world.metric("sagebridge_rebalances_total", event="assigned") == 2
    assert world.metric("sagebridge_rebalances_total", event="revoked") == 1


def test_paused_partitions_and_failed_commits_are_exported_at_zero_from_the_start(world):
    world.processor(lambda e: [])
    assert REGISTRY.get_sample_value("sagebridge_partitions_paused", {"service": world.service}) == 0.0
    assert REGISTRY.get_sample_value("sagebridge_offset_commits_total",
                                     {"service": world.service, "outcome": "failed"}) == 0.0

# -- 6/7. budgeted failures ------------------------------------------------------------------------

def test_an_unknown_schema_fingerprint_is_retried_for_its_budget_then_dead_lettered(world):
    """A producer already on a newer release: the record waits, then goes to the DLQ."""
    proc = world.processor(lambda e: [], unknown_schema_retry_budget_s=0.3, unknown_error_max_attempts=2)
    world.assign(proc, 0)
    value = record(0, 0).value()
    unknown = value[:2] + bytes.fromhex("0123456789abcdef") + value[10:]
    proc._dispatch(Msg(0, 0, b"k1", unknown))
    assert wait_until(lambda: world.producer.on("orders.test.dlq"), 10)
    [dlq] = world.producer.on("orders.test.dlq")
    h = header_dict(dlq.headers)
    assert h[ERROR_PREFIX + "reason"] == "unknown_schema"
    assert int(h[ERROR_PREFIX + "attempts"]) > 2       # more than an unknown error would get
    assert int(h[ERROR_PREFIX + "failed.at.ms"]) - int(h[ERROR_PREFIX + "first.failure.ms"]) >= 300
    assert dlq.value == unknown


def test_a_record_retrying_on_schedule_keeps_the_service_alive(world):
    """Liveness must not restart a pod whose record waits out a record-lock budget longer than
    LIVENESS_STALL_S: the restart would only reset the budget."""
    def handler(event):
        raise BudgetedError("record locked by another user", budget="record_lock")

    proc = world.processor(handler, liveness_stall_s=0.2, retry_initial_s=0.01, retry_max_s=0.02)
    world.assign(proc, 0)
    proc._dispatch(record(0, 0))
    proc._last_commit_progress -= 10
    assert wait_until(lambda: world.metric("sagebridge_retries_total", topic=TOPIC, kind="budgeted") >= 1, 10)
    ok, detail = proc.liveness_check()
    assert ok, detail
