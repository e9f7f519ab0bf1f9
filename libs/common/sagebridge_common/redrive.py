"""Re-drive of dead-lettered records: send each back to the topic it failed on, unchanged.

A DLQ record carries the original key, value and headers plus `sagebridge.error.*` context (see
dead_letter.py). Re-driving strips the error context, adds one to the replay count and produces
the record to `sagebridge.error.topic`; the DLQ offset is committed only after the broker has
acknowledged the re-sent copy, so an interrupted re-drive loses nothing (it may re-send the last
few records again, which the writers' idempotency absorbs). Records already replayed
`max_replays` times are not sent again: they keep failing, and a person has to look at them.
"""
from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition

from .dead_letter import ERROR_PREFIX, REPLAY_COUNT_HEADER, header_dict, replay_count


@dataclass
class RedriveReport:
    dry_run: bool
    examined: int = 0
    resent: Counter = field(default_factory=Counter)        # by original topic
    over_limit: int = 0
    unroutable: int = 0
    reasons: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, "examined": self.examined, "resent": dict(self.resent),
                "over_replay_limit": self.over_limit, "unroutable": self.unroutable, "reasons": dict(self.reasons)}


def replay_headers(headers: list[tuple[str, bytes | None]] | None) -> list[tuple[str, bytes | None]]:
    """The original headers again, without the error context, with the replay count raised."""
    count = replay_count(headers)
    kept = [(k, v) for k, v in headers or [] if not k.startswith(ERROR_PREFIX) and k != REPLAY_COUNT_HEADER]
    return kept + [(REPLAY_COUNT_HEADER, str(count + 1).encode())]


def redrive(consumer_conf: dict, producer: Producer, dlq_topic: str, *, max_replays: int, dry_run: bool,
            limit: int | None = None, idle_s: float = 2.0, progress: Callable[[int], None] | None = None,
            reason: str | None = None) -> RedriveReport:
    """Reads `dlq_topic` as the consumer group in `consumer_conf` (so successive runs resume) until it
    has been idle for `idle_s` or `limit` records were examined. Only records dead-lettered before
    the run started are taken: one that fails again during the run waits for the next run, so a
    single run cannot loop. A dry run commits nothing."""
    report = RedriveReport(dry_run=dry_run)
    conf = dict(consumer_conf)
    if dry_run:   # a dry run must not move the real group: read as a throwaway one from its position
        conf["group.id"] = f"{conf['group.id']}.dry-run.{uuid.uuid4().hex[:8]}"
    consumer = Consumer({**conf, "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    failures: list[str] = []

    def acked(err, _msg) -> None:
        if err is not None:
            failures.append(str(err))

    try:
        _assign_from_committed(consumer, dlq_topic)
        started_ms = int(time.time() * 1000)
        pending: dict[tuple[str, int], int] = {}
        quiet = 0.0
        while quiet < idle_s and (limit is None or report.examined < limit):
            msg = consumer.poll(0.2)
            if msg is None or msg.error():
                quiet += 0.2
                continue
            if msg.timestamp()[1] > started_ms:        # dead-lettered during this run: next run's
                consumer.pause([TopicPartition(msg.topic(), msg.partition())])
                continue
            quiet = 0.0
            report.examined += 1
            h = header_dict(msg.headers())
            report.reasons[h.get(ERROR_PREFIX + "reason", "unknown")] += 1
            target = h.get(ERROR_PREFIX + "topic")
            matches = reason is None or h.get(ERROR_PREFIX + "reason") == reason
            if not target:
                report.unroutable += 1
            elif replay_count(msg.headers()) >= max_replays:
                report.over_limit += 1
            elif matches:
                report.resent[target] += 1
                if not dry_run:
                    producer.produce(target, key=msg.key(), value=msg.value(),
                                     headers=replay_headers(msg.headers()), on_delivery=acked)
            pending[(msg.topic(), msg.partition())] = msg.offset() + 1
            if progress:
                progress(1)
            if not dry_run and report.examined % 200 == 0:
                _flush_and_commit(producer, consumer, pending, failures)
        if not dry_run:
            _flush_and_commit(producer, consumer, pending, failures)
        return report
    finally:
        consumer.close()


def _assign_from_committed(consumer: Consumer, topic: str) -> None:
    """Every partition at the group's committed offset (or the start). Assigning directly, without a
    group join, means a re-drive starts at once and no rebalance touches anyone else."""
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    committed = consumer.committed([TopicPartition(topic, p) for p in partitions], timeout=10)
    consumer.assign([TopicPartition(topic, tp.partition, tp.offset if tp.offset >= 0 else OFFSET_BEGINNING)
                     for tp in committed])


def _flush_and_commit(producer: Producer, consumer: Consumer, pending: dict, failures: list[str]) -> None:
    if producer.flush(30) or failures:
        raise KafkaException(f"re-sent records not acknowledged ({failures[:3]}); DLQ offsets not committed")
    if pending:
        consumer.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in pending.items()], asynchronous=False)
        pending.clear()
