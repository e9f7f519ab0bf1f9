"""The consume → handle → produce → commit loop.

A handler is a plain function `Event -> list[Output]` that may call external systems; it knows
nothing of Kafka. The processor gives it these guarantees:

- ordering: records with the same key are handled one at a time, in offset order; different keys
  run concurrently up to `max_in_flight` (KeyedExecutor);
- at-least-once, never ahead: a record counts as finished only when its handler returned and every
  output (or its dead-letter copy) was acknowledged by the broker; the committed offset never passes
  an unfinished record (OffsetTracker). Commit ordering as in Quix Streams: outputs first, then offsets;
- failure handling split as in Kafka Connect: the RetryPolicy decides whether to try again (transient
  errors wait with backoff, holding their key; when too much is held, partitions pause), and the
  dead-letter reporter decides where a given-up record goes (record_completion.py);
- ownership: a record runs only while this member owns its partition's generation. It is checked
  before every attempt, a backoff wakes on revoke as well as on stop, and records fetched for a
  partition no longer owned are dropped (the new owner reads them from the last commit);
- coalescing (optional, `coalescer.py`): on latest-value topics a record is held per key for a
  settle window and only the newest of a burst is handled; the ones it replaced are completed
  unhandled (their offsets are below the held one, so the commit still never passes it);
- no silent stall: whatever goes wrong in a worker is logged and either handled (retry, DLQ) or
  stops the service before anything is committed past the record.
"""
from __future__ import annotations

import json
import logging
import time
from contextlib import ExitStack
from typing import Callable

from confluent_kafka import KafkaError, KafkaException, Message, TopicPartition

from . import metrics, tracing
from .coalescer import COALESCED, Coalescer
from .errors import PermanentError, classify
from .events import Event, Output, pair_of_headers
from .kafka_clients import make_consumer
from .keyed_executor import KeyedExecutor
from .offsets import OffsetTracker
from .record_completion import Completion, DeadLetterReporter, FailureOutputs, produce_failure
from .retry import RetryPolicy, interruptible_sleep

log = logging.getLogger(__name__)

Handler = Callable[[Event], list[Output]]


class Processor:
    def __init__(self, app, topics: list[str], handler: Handler, *, stage: str,
                 max_in_flight: int | None = None, group_id: str | None = None,
                 failure_outputs: FailureOutputs | None = None, coalescer: Coalescer | None = None) -> None:
        """`failure_outputs` builds records to publish when a record is dead-lettered (e.g. a
        `failed` result event), so downstream sees failures without reading the DLQ.
        `coalescer`: hold records of its topics per key and handle only the latest of a burst."""
        s = app.settings
        self.app = app
        self.topics = topics
        self.handler = handler
        self.stage = stage
        self.group_id = group_id or s.group_id
        self.max_buffered = s.max_buffered
        self.policy = RetryPolicy.from_settings(s)
        self.executor = KeyedExecutor(max_in_flight or s.max_in_flight, name=f"{stage}-worker")
        self.tracker = OffsetTracker()
        self.coalescer = coalescer
        self.dead_letters = DeadLetterReporter(app, group_id=self.group_id, stage=stage,
                                               failure_outputs=failure_outputs)
        self._committed: dict[tuple[str, int], int] = {}
        self._last_commit_progress = time.monotonic()
        self._last_retry = float("-inf")
        self._last_loop = time.monotonic()
        self._paused = False
        # Exported at 0 from the start (creating a child never changes an existing one), so a dashboard
        # shows "none paused / no failed commit" and an increase() sees the first failure.
        metrics.PAUSED.labels(self.app.service)
        metrics.COMMITS.labels(self.app.service, "failed")
        # Partition listeners (keyed state): `on_assign([(topic, partition), ...])` runs before a newly
        # assigned partition is fetched; `on_revoke([...])` after its work is drained and committed.
        self.partition_listeners: list = []

    # -- the loop ----------------------------------------------------------------------------
    def run(self) -> None:
        consumer = make_consumer(self.app.settings, self.group_id, stats_cb=self._on_stats)
        consumer.subscribe(self.topics, on_assign=self._on_assign, on_revoke=self._on_revoke)
        interval = self.app.settings.commit_interval_ms / 1000.0
        next_commit = time.monotonic() + interval
        try:
            while not self.app.stop_event.is_set():
                self._last_loop = time.monotonic()
                self._fetch(consumer)
                self._release_settled()
                if time.monotonic() >= next_commit:
                    self._commit(consumer)
                    next_commit = time.monotonic() + interval
                self._apply_backpressure(consumer)
        finally:
            self._shutdown(consumer)

    def _fetch(self, consumer) -> None:
        """One record, then at most what still fits under `max_buffered`. The first record is
        dispatched before consume() runs, because consume() may serve a rebalance: a record
        returned earlier belongs to the generation it was fetched in."""
        msg = consumer.poll(0.05)
        if msg is None:
            return
        self._dispatch(msg)
        room = min(499, self.max_buffered - self.executor.load)
        if room > 0:
            for m in consumer.consume(num_messages=room, timeout=0):
                self._dispatch(m)

    def _dispatch(self, msg: Message) -> None:
        err = msg.error()
        if err is not None:
            if err.code() == KafkaError._PARTITION_EOF:
                return
            if err.fatal():
                raise KafkaException(err)
            log.warning("consumer error", extra={"error": str(err)})
            return
        tp = (msg.topic(), msg.partition())
        generation = self.tracker.add(tp, msg.offset())
        if generation is None:     # not ours (any more): its new owner reads it from the last commit
            metrics.RECORDS_DROPPED.labels(self.app.service, msg.topic()).inc()
            log.debug("record of a partition not owned here dropped",
                      extra={"topic": tp[0], "partition": tp[1], "offset": msg.offset()})
            return
        metrics.EVENTS_CONSUMED.labels(self.app.service, msg.topic()).inc()
        key = (msg.topic(), msg.key() if msg.key() is not None else f"partition-{msg.partition()}")
        if self.coalescer is not None and self.coalescer.applies(msg.topic()):
            # two pairs' records with one key (the same SKU in two stores) never replace each other
            replaced = self.coalescer.offer((*key, pair_of_headers(msg.headers())), (msg, generation))
            if replaced is not None:
                self._complete_replaced(*replaced)
        else:
            self._submit(key, msg, generation)
        metrics.IN_FLIGHT.labels(self.app.service).set(self.tracker.outstanding())

    def _submit(self, key, msg: Message, generation: int) -> None:
        self.executor.submit(key, lambda: self._run_record(msg, generation))

    # -- coalescing ----------------------------------------------------------------------------
    def _complete_replaced(self, msg: Message, generation: int) -> None:
        """A newer record of the key is held: this one is finished without being handled."""
        COALESCED.labels(self.app.service, msg.topic()).inc()
        self.tracker.done((msg.topic(), msg.partition()), msg.offset(), generation)

    def _release_settled(self) -> None:
        if self.coalescer is None:
            return
        for key, (msg, generation) in self.coalescer.due():
            if self.tracker.is_current((msg.topic(), msg.partition()), generation):
                self._submit(key, msg, generation)

    # -- one record ----------------------------------------------------------------------------
    def _run_record(self, msg: Message, generation: int) -> None:
        """The worker task: whatever escapes `_process` (a bug, a BaseException) is logged and
        stops the service, instead of vanishing in the thread pool and stalling the partition."""
        try:
            self._process(msg, generation)
        except BaseException as e:
            log.critical("record processing failed unexpectedly; stopping", exc_info=True,
                         extra={"topic": msg.topic(), "partition": msg.partition(), "offset": msg.offset()})
            self._stop_fatally(e)

    def _abandon(self, tp, generation: int) -> bool:
        """Stop work on a record: shutting down, or its partition moved to another consumer. It is
        not marked finished, so it will be redelivered from the last commit."""
        return self.app.stop_event.is_set() or not self.tracker.is_current(tp, generation)

    def _process(self, msg: Message, generation: int) -> None:
        tp = (msg.topic(), msg.partition())
        if self._abandon(tp, generation):
            return
        started = time.monotonic()
        where = {"topic": tp[0], "partition": tp[1], "offset": msg.offset()}
        completion = Completion(lambda err: self._finished(tp, msg.offset(), generation, err), where)
        with ExitStack() as stack:
            self._enter_span(stack, msg, where)
            self._attempts(msg, tp, generation, completion)
        metrics.PROCESSING_SECONDS.labels(self.app.service, msg.topic()).observe(time.monotonic() - started)

    def _enter_span(self, stack: ExitStack, msg: Message, where: dict) -> None:
        """Continues the producer's trace; a trace header that cannot be read only costs the link."""
        attributes = {"messaging.kafka.offset": msg.offset(), "messaging.consumer.group.name": self.group_id,
                      "key": msg.key(), "partition": msg.partition()}
        try:
            stack.enter_context(tracing.process_span(msg.topic(), msg.headers(), **attributes))
        except Exception as e:
            log.warning("unreadable trace context header; starting a new trace", extra={**where, "error": repr(e)[:200]})
            stack.enter_context(tracing.process_span(msg.topic(), None, **attributes))

    def _attempts(self, msg: Message, tp, generation: int, completion: Completion) -> None:
        """Tries until the record is published or dead-lettered, or stops when the partition is
        revoked or the service stops (ownership is checked before every attempt, and a backoff
        wakes on either)."""
        revoked = self.tracker.revoked_event(tp, generation)
        attempt, first_failure, first_failure_ms = 0, None, 0
        event: Event | None = None
        while not self._abandon(tp, generation):
            attempt += 1
            try:
                event = self._decode(msg)
                outputs = self.handler(event) if self._is_ours(event) else []
                self._observe_latency(msg.topic(), event)
                self._publish(outputs, completion)
                return
            except Exception as exc:  # every failure is classified, none escapes the worker
                if first_failure is None:
                    first_failure, first_failure_ms = time.monotonic(), int(time.time() * 1000)
                if self._abandon(tp, generation):
                    return
                if self.policy.should_retry(exc, attempt, time.monotonic() - first_failure):
                    self._log_retry(msg, exc, attempt)
                    if not interruptible_sleep(self.policy.delay(exc, attempt), revoked, self.app.stop_event):
                        return
                    continue
                self.dead_letters.report(msg, exc, attempt, first_failure_ms, event, completion)
                return

    def _publish(self, outputs: list[Output], completion: Completion) -> None:
        try:
            self.app.publish(outputs, completion.expect(1))
        except KafkaException as e:
            raise produce_failure(e) from e

    def _decode(self, msg: Message) -> Event:
        value = msg.value()
        if not value:
            raise PermanentError("empty record value", reason="empty_value")
        schema, record = self.app.serde.deserialize(value)
        return Event(topic=msg.topic(), partition=msg.partition(), offset=msg.offset(), key=msg.key(),
                     schema=schema, value=record, headers=msg.headers() or [], timestamp_ms=msg.timestamp()[1])

    def _is_ours(self, event: Event) -> bool:
        """Topics are shared by every integration pair; each pair's services handle only their own
        pair's events (an X-Cart+Sage 300 writer must never write another pair's orders)."""
        pair = (event.value.get("metadata") or {}).get("pair_id")
        return self.app.serves(pair)

    def _finished(self, tp, offset: int, generation: int, err: Exception | None) -> None:
        """Called once per record by its Completion."""
        if err is not None:
            log.error("record's outputs or dead-letter copy not acknowledged; stopping before anything is "
                      "committed past it", extra={"topic": tp[0], "partition": tp[1], "offset": offset,
                                                  "error": str(err)[:300]})
            self._stop_fatally(err)
            return
        self.tracker.done(tp, offset, generation)

    def _stop_fatally(self, err: BaseException) -> None:
        if self.app.fatal is None:
            self.app.fatal = err
        self.app.stop_event.set()

    def _log_retry(self, msg: Message, exc: Exception, attempt: int) -> None:
        kind = classify(exc)
        self._last_retry = time.monotonic()
        metrics.RETRIES.labels(self.app.service, msg.topic(), kind).inc()
        level = logging.INFO if attempt < 3 else logging.WARNING
        log.log(level, "retrying record", extra={"topic": msg.topic(), "partition": msg.partition(),
                                                 "offset": msg.offset(), "attempt": attempt, "kind": kind,
                                                 "error": str(exc)[:300]})

    def _observe_latency(self, topic: str, event: Event) -> None:
        occurred = (event.value.get("metadata") or {}).get("occurred_at")
        if occurred is not None:
            metrics.END_TO_END_SECONDS.labels(self.app.service, topic).observe(
                max(0.0, time.time() - occurred.timestamp()))

    # -- offsets, backpressure, rebalances -----------------------------------------------------
    def _commit(self, consumer, only: set | None = None) -> None:
        points = {tp: off for tp, off in self.tracker.committable().items()
                  if self._committed.get(tp) != off and (only is None or tp in only)}
        if not points:
            if self.tracker.outstanding() == 0:
                self._last_commit_progress = time.monotonic()
            return
        try:
            consumer.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in points.items()], asynchronous=False)
        except KafkaException as e:
            metrics.COMMITS.labels(self.app.service, "failed").inc()
            log.warning("offset commit failed; will retry", extra={"error": str(e)})
            return
        self._committed.update(points)
        self._last_commit_progress = time.monotonic()
        metrics.COMMITS.labels(self.app.service, "ok").inc()

    def _apply_backpressure(self, consumer) -> None:
        load = self.executor.load + (len(self.coalescer) if self.coalescer is not None else 0)
        if not self._paused and load >= self.max_buffered:
            consumer.pause(consumer.assignment())
            self._paused = True
            metrics.PAUSED.labels(self.app.service).set(len(consumer.assignment()))
            log.info("partitions paused: too much work held", extra={"held": load})
        elif self._paused and load <= self.max_buffered // 2:
            consumer.resume(consumer.assignment())
            self._paused = False
            metrics.PAUSED.labels(self.app.service).set(0)

    def _on_assign(self, consumer, partitions: list[TopicPartition]) -> None:
        """While paused, the new partitions are paused too. librdkafka forgets a pause of a
        partition that is not assigned yet, so the (eager) assignment is made here first; the
        client then skips its own assign() after this callback."""
        for p in partitions:
            self.tracker.assign((p.topic, p.partition))
        if self._paused:
            consumer.assign(partitions)
            consumer.pause(partitions)
            metrics.PAUSED.labels(self.app.service).set(len(partitions))
        metrics.REBALANCES.labels(self.app.service, "assigned").inc()
        log.info("partitions assigned", extra={"partitions": [f"{p.topic}[{p.partition}]" for p in partitions]})
        self._notify_listeners("on_assign", [(p.topic, p.partition) for p in partitions])

    def _on_revoke(self, consumer, partitions: list[TopicPartition]) -> None:
        tps = {(p.topic, p.partition) for p in partitions}
        for tp in tps:
            self.tracker.close(tp)
        if self.coalescer is not None:     # unfinished: the new owner reads them from the last commit
            self.coalescer.drop(lambda _key, held: (held[0].topic(), held[0].partition()) not in tps)
        self._drain(self.app.settings.shutdown_grace_s)
        self._commit(consumer, only=tps)
        for tp in tps:
            self.tracker.revoke(tp)
            self._committed.pop(tp, None)
        if self._paused:
            metrics.PAUSED.labels(self.app.service).set(len(self.tracker.assigned()))
        metrics.REBALANCES.labels(self.app.service, "revoked").inc()
        log.info("partitions revoked", extra={"partitions": sorted(f"{t}[{p}]" for t, p in tps)})
        self._notify_listeners("on_revoke", sorted(tps))

    def _notify_listeners(self, hook: str, partitions: list[tuple[str, int]]) -> None:
        for listener in self.partition_listeners:
            getattr(listener, hook)(partitions)

    def _drain(self, timeout: float) -> None:
        """Lets running records finish and their outputs be acknowledged."""
        deadline = time.monotonic() + timeout
        self.executor.wait_idle(max(0.0, deadline - time.monotonic()))
        self.app.producer.flush(max(0.0, deadline - time.monotonic()))

    def _shutdown(self, consumer) -> None:
        self._drain(self.app.settings.shutdown_grace_s)
        try:
            self._commit(consumer)
        finally:
            self.executor.shutdown()
            consumer.close()

    def _on_stats(self, stats_json: str) -> None:
        try:
            stats = json.loads(stats_json)
        except ValueError:
            return
        for topic, t in (stats.get("topics") or {}).items():
            for pid, p in (t.get("partitions") or {}).items():
                if pid != "-1" and p.get("consumer_lag", -1) >= 0:
                    metrics.CONSUMER_LAG.labels(self.app.service, topic, pid).set(p["consumer_lag"])

    def liveness_check(self) -> tuple[bool, str]:
        """Fails when the loop is wedged, or when commits stop advancing while work is held and
        nothing is being retried. A record retrying on schedule (a target down, a record lock
        within its budget) is not stuck: a restart would only reset its retry budget."""
        now = time.monotonic()
        if now - self._last_loop > 60:
            return False, f"consumer loop silent for {now - self._last_loop:.0f}s"
        stall = now - max(self._last_commit_progress, self._last_retry)
        if self.tracker.outstanding() and stall > self.app.settings.liveness_stall_s:
            return False, f"no commit progress for {stall:.0f}s with {self.tracker.outstanding()} records held"
        return True, f"{self.tracker.outstanding()} records held"
