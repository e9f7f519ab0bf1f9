"""Keyed state that survives restarts and rebalances, backed by a compacted changelog topic.

The design is Quix Streams' State: state belongs to an input partition; every write also goes to
the changelog partition with the same number; when the consumer is assigned an input partition, the
store is rebuilt from that changelog partition before any record of it is processed; when the
partition is revoked, its state is dropped (whoever gets it next restores it).

A handler stays a plain function. `KeyedState.for_event(event)` gives the view of the event's
partition; `view.set(key, value)` updates memory and returns the changelog `Output`, which the
handler puts in its outputs list. The processor's existing rule - offsets are committed only after
every output is acknowledged - then makes the write durable before the input offset moves, with no
extra Kafka plumbing in the service. A restart therefore sees the state as of the last committed
input offset or later (a write acknowledged ahead of its commit is fine: values are latest-version
data and the record that wrote them is redelivered to the same state).

Rules for handlers: call `set` last, once nothing after it can raise (memory is updated at once, so
a write followed by an exception would be remembered without its outputs); and only for keys whose
records live in the event's partition (the input key decides the partition).

Values are small JSON objects; `delete` writes a tombstone (null value). Restore reads the whole
changelog partition: on real Kafka compaction keeps it short; tansu does not compact, and its
ListOffsets end offset is wrong, so restore stops at the high watermark reported by fetch responses
(`get_watermark_offsets(cached=True)`, or the partition-EOF event), never at ListOffsets.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from typing import Any, Iterable

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from .errors import TransientError
from .events import Event, Output
from .kafka_clients import consumer_config
from .settings import Settings

log = logging.getLogger(__name__)

Partition = tuple[str, int]


class StateRestoreError(TransientError):
    """The changelog could not be read back in time: records must not be processed without it."""


class PartitionState:
    """The state of one input partition, as a handler sees it."""

    def __init__(self, owner: "KeyedState", partition: int, data: dict[str, Any]) -> None:
        self._owner = owner
        self.partition = partition
        self._data = data

    def get(self, key: str, default: Any = None) -> Any:
        with self._owner._lock:
            return self._data.get(key, default)

    def set(self, key: str, value: Any) -> Output:
        """Remembers `value` and returns the changelog record to include in the handler's outputs."""
        raw = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
        with self._owner._lock:
            self._data[key] = json.loads(raw)     # what a restore would give back, not the caller's object
        return self._owner._changelog_output(self.partition, key, raw)

    def delete(self, key: str) -> Output:
        """Forgets `key`; the returned tombstone deletes it from the changelog too."""
        with self._owner._lock:
            self._data.pop(key, None)
        return self._owner._changelog_output(self.partition, key, None)


class KeyedState:
    """Latest value per key for the partitions of `source_topic` this consumer owns.

    Register it as a partition listener of the processor consuming `source_topic`
    (`processor.partition_listeners.append(state)`); the processor calls `on_assign` before it
    fetches a newly assigned partition and `on_revoke` after the partition's work is committed.
    `changelog_topic` must have at least as many partitions as `source_topic`."""

    def __init__(self, settings: Settings, name: str, source_topic: str, changelog_topic: str, *,
                 restore_timeout_s: float = 60.0) -> None:
        self.settings = settings
        self.name = name
        self.source_topic = source_topic
        self.changelog_topic = changelog_topic
        self.restore_timeout_s = restore_timeout_s
        self._lock = threading.Lock()
        self._partitions: dict[int, dict[str, Any]] = {}
        self._managed = False       # a processor assigns partitions (else: used directly, e.g. in tests)

    # -- the handler's side --------------------------------------------------------------------
    def for_event(self, event: Event) -> PartitionState:
        if event.topic != self.source_topic:
            raise ValueError(f"state {self.name!r} belongs to {self.source_topic}, not {event.topic}")
        return self.partition(event.partition)

    def partition(self, partition: int) -> PartitionState:
        with self._lock:
            data = self._partitions.get(partition)
            if data is None:
                if self._managed:
                    raise StateRestoreError(f"state {self.name!r}: partition {partition} is not assigned here "
                                            "(revoked, or not restored yet)", reason="state_not_assigned")
                # Used without a processor (a handler called directly): start empty, as a fresh store would.
                data = self._partitions.setdefault(partition, {})
        return PartitionState(self, partition, data)

    def assigned(self) -> set[int]:
        with self._lock:
            return set(self._partitions)

    def snapshot(self, partition: int) -> dict[str, Any]:
        with self._lock:
            return dict(self._partitions.get(partition, {}))

    def _changelog_output(self, partition: int, key: str, raw: bytes | None) -> Output:
        return Output(self.changelog_topic, key, None, raw, partition=partition)

    # -- the processor's side ------------------------------------------------------------------
    def on_assign(self, partitions: Iterable[Partition]) -> None:
        mine = sorted({p for topic, p in partitions if topic == self.source_topic})
        if not mine:
            return
        self._managed = True
        started = time.monotonic()
        restored = restore(self.settings, self.changelog_topic, mine, self.restore_timeout_s)
        with self._lock:
            self._partitions.update(restored)
        log.info("state restored", extra={"state": self.name, "changelog": self.changelog_topic,
                                          "partitions": mine, "keys": sum(len(d) for d in restored.values()),
                                          "seconds": round(time.monotonic() - started, 3)})

    def on_revoke(self, partitions: Iterable[Partition]) -> None:
        with self._lock:
            for topic, p in partitions:
                if topic == self.source_topic:
                    self._partitions.pop(p, None)


def _restore_consumer(settings: Settings) -> Consumer:
    conf = consumer_config(settings, group_id=f"sagebridge.state-restore.{uuid.uuid4()}")
    conf.pop("statistics.interval.ms", None)
    conf["enable.partition.eof"] = True
    return Consumer(conf)


def _check_partitions(consumer: Consumer, topic: str, wanted: list[int]) -> None:
    md = consumer.list_topics(topic, timeout=10).topics.get(topic)
    have = len(md.partitions) if md is not None and md.error is None else 0
    missing = [p for p in wanted if p >= have]
    if missing:
        raise StateRestoreError(f"changelog {topic} has {have} partitions; partition(s) {missing} are needed "
                                "(it must have as many partitions as the input topic; run `sagebridge topics apply`)",
                                reason="changelog_partitions")


def restore(settings: Settings, topic: str, partitions: list[int], timeout_s: float = 60.0) -> dict[int, dict]:
    """Every key's latest value in the given changelog partitions, read from the beginning up to the
    high watermark that fetch responses report (a tombstone removes its key)."""
    consumer = _restore_consumer(settings)
    data: dict[int, dict] = {p: {} for p in partitions}
    try:
        _check_partitions(consumer, topic, partitions)
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        position = {p: 0 for p in partitions}
        pending = set(partitions)
        deadline = time.monotonic() + timeout_s
        while pending:
            if time.monotonic() > deadline:
                raise StateRestoreError(f"restoring {topic} partitions {sorted(pending)} took over {timeout_s}s",
                                        reason="state_restore_timeout")
            msg = consumer.poll(0.05)
            if msg is not None:
                err = msg.error()
                if err is None:
                    _apply(data[msg.partition()], msg.key(), msg.value())
                    position[msg.partition()] = msg.offset() + 1
                elif err.code() == KafkaError._PARTITION_EOF:
                    pending.discard(msg.partition())
                elif err.fatal():
                    raise StateRestoreError(f"restoring {topic}: {err}", reason="state_restore_failed")
            for p in list(pending):
                _low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), cached=True)
                if high >= 0 and position[p] >= high:
                    pending.discard(p)
        return data
    finally:
        consumer.close()


def _apply(data: dict, key: bytes | None, value: bytes | None) -> None:
    if key is None:
        return
    k = key.decode()
    if value is None:
        data.pop(k, None)
        return
    try:
        data[k] = json.loads(value)
    except ValueError:
        log.warning("unreadable state record skipped", extra={"key": k})
