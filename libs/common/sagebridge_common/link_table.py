"""A table every instance of a service reads whole: links that any partition's records may need.

Keyed state (`keyed_state.py`) belongs to one input partition, which is right for what is keyed
like the input. A link such as "this shopper's e-mail is Sage customer W3X…" is needed by orders,
payments and refunds of that shopper, whatever partition their keys hash to, and by every replica.
So, like a Kafka Streams GlobalKTable, each instance reads the whole compacted topic: a consumer
assigned every partition from the beginning, in no group (nothing committed, nothing to rebalance),
tailing in a background thread for the life of the service.

`put(key, value)` updates memory at once and returns the `Output` to put in the handler's outputs,
so the processor's rule (outputs acknowledged before the input offset is committed) makes the link
durable with no Kafka code in the handler. Other instances see it when their tail reaches it.

Readiness: `ready()` is false until the tail has caught up with the end of every partition as the
broker reported it (the topic as it was at start); `get` waits for that (briefly, then raises a
TransientError so the processor retries) rather than answer "no link" from a half-read table. As in
keyed_state.py, tansu's ListOffsets end offset is wrong, so the end is the high watermark of fetch
responses (`get_watermark_offsets(cached=True)`) or the partition-EOF event, never ListOffsets.

A link put here whose record the tail has not read back yet is "unconfirmed": if the handler that
put it failed before its outputs were produced, a retry that finds the link in memory re-emits it
(`unconfirmed_output`), so a link is never only in memory. Values are small JSON objects.

Age: a table whose links stop mattering after a while (an order's trace, once its shipments are
long done) is given `max_age_s`. A link older than that, by its record's timestamp, reads as absent
at once and is dropped from memory by the tail within a minute; on the broker its topic is
`compact,delete` with the same retention (`topics.py`), so old segments go too. Without `max_age_s`
(the customer links) a link lives as long as its key.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from typing import Any, Callable

from confluent_kafka import OFFSET_BEGINNING, TIMESTAMP_NOT_AVAILABLE, Consumer, KafkaError, TopicPartition

from .errors import TransientError
from .events import Output
from .kafka_clients import consumer_config
from .settings import Settings

log = logging.getLogger(__name__)


class LinkTableNotReady(TransientError):
    """The table has not been read to its end yet: answering "no link" now could be wrong."""


class LinkTable:
    """Latest value per key of a compacted topic, read whole by this instance."""

    def __init__(self, settings: Settings, name: str, topic: str, *, get_wait_s: float = 5.0,
                 max_age_s: float | None = None, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.name = name
        self.topic = topic
        self.get_wait_s = get_wait_s
        self.max_age_s = max_age_s
        self.clock = clock             # wall clock, seconds: record timestamps are wall-clock milliseconds
        self.prune_every_s = 60.0
        self._lock = threading.Lock()
        self._data: dict[str, Any] = {}
        self._stamps: dict[str, float] = {}   # key -> its record's timestamp (s); kept only with max_age_s
        self._unconfirmed: dict[str, bytes] = {}
        self._caught_up = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._detail = "not started"
        self.failure: BaseException | None = None

    # -- the handler's side --------------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        if not self._caught_up.wait(self.get_wait_s):
            raise LinkTableNotReady(f"link table {self.name!r} is still reading {self.topic} ({self._detail})",
                                    reason="link_table_not_ready")
        with self._lock:
            if self._expired(self._stamps.get(key)):
                return default
            return self._data.get(key, default)

    def put(self, key: str, value: Any) -> Output:
        """Remembers `value` and returns the record to include in the handler's outputs."""
        raw = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
        with self._lock:
            self._data[key] = json.loads(raw)
            self._stamp(key, self.clock())
            self._unconfirmed[key] = raw
        return Output(self.topic, key, None, raw)

    def unconfirmed_output(self, key: str) -> Output | None:
        """The record of a `put` from here that the tail has not read back yet (to re-emit), else None."""
        with self._lock:
            raw = self._unconfirmed.get(key)
        return None if raw is None else Output(self.topic, key, None, raw)

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    # -- age -----------------------------------------------------------------------------------
    def _stamp(self, key: str, stamp: float) -> None:
        if self.max_age_s is not None:         # an ageless table spends no memory on stamps
            self._stamps[key] = stamp

    def _expired(self, stamp: float | None) -> bool:
        return self.max_age_s is not None and stamp is not None and stamp < self.clock() - self.max_age_s

    def prune(self) -> int:
        """Drops the links older than `max_age_s` from memory; the number dropped."""
        if self.max_age_s is None:
            return 0
        with self._lock:
            old = [k for k, stamp in self._stamps.items() if self._expired(stamp)]
            for k in old:
                self._data.pop(k, None)
                self._stamps.pop(k, None)
                self._unconfirmed.pop(k, None)
        if old:
            log.info("old links dropped", extra={"table": self.name, "dropped": len(old), "links": len(self)})
        return len(old)

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> "LinkTable":
        self._thread = threading.Thread(target=self._run, name=f"links-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def run(self) -> None:
        """Tails until `stop()`: for `Application.background`, which stops the service if it raises."""
        self._tail()

    def ready(self) -> tuple[bool, str]:
        """Readiness check: caught up with the topic's end as of start."""
        if self._caught_up.is_set():
            return True, f"{len(self)} links"
        return False, self._detail

    def wait_ready(self, timeout: float) -> bool:
        return self._caught_up.wait(timeout)

    def _run(self) -> None:
        try:
            self._tail()
        except BaseException as e:       # a thread started by `start()` has nobody else to tell
            self.failure = e
            self._detail = f"tail failed: {e!r}"
            log.exception("link table tail failed", extra={"table": self.name})

    # -- the tail ------------------------------------------------------------------------------
    def _consumer(self) -> Consumer:
        conf = consumer_config(self.settings, group_id=f"sagebridge.link-table.{uuid.uuid4()}")
        conf.pop("statistics.interval.ms", None)
        conf.update({"enable.partition.eof": True, "enable.auto.commit": False,
                     "enable.auto.offset.store": False, "auto.offset.reset": "earliest"})
        return Consumer(conf)

    def _partitions(self, consumer: Consumer) -> list[int]:
        """The topic's partitions, waiting for it to exist (a service may start before `topics apply`)."""
        while not self._stop.is_set():
            md = consumer.list_topics(self.topic, timeout=10).topics.get(self.topic)
            if md is not None and md.error is None and md.partitions:
                return sorted(md.partitions)
            self._detail = f"topic {self.topic} does not exist yet"
            self._stop.wait(1.0)
        return []

    def _tail(self) -> None:
        consumer = self._consumer()
        try:
            partitions = self._partitions(consumer)
            if not partitions:
                return
            consumer.assign([TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in partitions])
            position = {p: 0 for p in partitions}
            pending = set(partitions)
            started = time.monotonic()
            next_prune = started + self.prune_every_s
            self._detail = f"reading {self.topic}: {len(pending)} partition(s) to go"
            while not self._stop.is_set():
                msg = consumer.poll(0.1)
                if msg is not None:
                    self._on_message(msg, position, pending)
                if time.monotonic() >= next_prune:
                    self.prune()
                    next_prune = time.monotonic() + self.prune_every_s
                if self._caught_up.is_set():
                    continue
                self._check_ends(consumer, position, pending)
                if pending:
                    self._detail = f"reading {self.topic}: {len(pending)} partition(s) to go"
                    continue
                self._caught_up.set()
                log.info("link table caught up", extra={"table": self.name, "topic": self.topic, "links": len(self),
                                                        "seconds": round(time.monotonic() - started, 3)})
        finally:
            consumer.close()

    def _on_message(self, msg, position: dict[int, int], pending: set[int]) -> None:
        err = msg.error()
        if err is None:
            kind, ms = msg.timestamp()
            self._apply(msg.key(), msg.value(), self.clock() if kind == TIMESTAMP_NOT_AVAILABLE else ms / 1000)
            position[msg.partition()] = msg.offset() + 1
        elif err.code() == KafkaError._PARTITION_EOF:
            pending.discard(msg.partition())
        elif err.fatal():
            raise TransientError(f"link table {self.name}: {err}", reason="link_table_failed")
        else:
            log.warning("link table consumer error", extra={"table": self.name, "error": str(err)})

    def _check_ends(self, consumer: Consumer, position: dict[int, int], pending: set[int]) -> None:
        for p in list(pending):
            _low, high = consumer.get_watermark_offsets(TopicPartition(self.topic, p), cached=True)
            if high >= 0 and position[p] >= high:
                pending.discard(p)

    def _apply(self, key: bytes | None, value: bytes | None, stamp: float) -> None:
        if key is None:
            return
        k = key.decode()
        with self._lock:
            if self._unconfirmed.get(k) == value:
                del self._unconfirmed[k]
            if value is None:
                self._data.pop(k, None)
                self._stamps.pop(k, None)
                return
            if self._expired(stamp):
                if k not in self._unconfirmed:          # a newer put from here stays until read back
                    self._data.pop(k, None)
                    self._stamps.pop(k, None)
                return
            try:
                self._data[k] = json.loads(value)
                self._stamp(k, stamp)
            except ValueError:
                log.warning("unreadable link record skipped", extra={"table": self.name, "key": k})
