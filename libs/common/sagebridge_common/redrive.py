"""Re-drive of dead-lettered records: send each back to the topic it failed on, unchanged.

A DLQ record carries the original key, value and headers plus `sagebridge.error.*` context (see
dead_letter.py). Re-driving strips the error context, adds one to the replay count and produces
the record to `sagebridge.error.topic`.

Which records a run takes, and what it remembers (redrive_progress.py has the state format):
- a record is *finished* once it has been re-sent; every other record stays waiting for a later
  run: one whose reason does not match `--reason`, one already replayed `--max-replays` times (it
  keeps failing and a person has to look at it; a run with a higher limit still finds it), one
  without an original topic. Nothing is ever finished without having been sent back.
- per partition the progress is "everything below `next` is finished" (the group offset
  `sagebridge.redrive.<dlq>` is committed there, so lag shows what waits) plus the runs of finished
  offsets beyond it, kept in a compacted state topic because a group offset cannot express them.
  So `--reason A` then `--reason B` then a plain run send every record exactly once.
- progress is saved only after the broker has acknowledged the re-sent copies, so an interrupted
  run loses nothing (it may re-send the last few records again, which the writers' idempotency
  absorbs). Two runs on the same DLQ at once can re-send the same records: run one at a time.
- only records dead-lettered before the run started are taken: one that fails again during the run
  waits for the next run, so a single run cannot loop.
- a dry run reads the real group's offsets and the saved state and writes nothing: it commits no
  offsets and joins no group (it assigns partitions), so it leaves no consumer group behind.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from confluent_kafka import Consumer, KafkaException, Message, Producer, TopicPartition

from . import redrive_progress
from .dead_letter import ERROR_PREFIX, REPLAY_COUNT_HEADER, header_dict, replay_count
from .redrive_progress import PartitionProgress
from .topic_reader import EndTracker, partitions_of, tool_consumer
from .topics import REDRIVE_STATE

CHECKPOINT_EVERY = 200


@dataclass
class RedriveReport:
    dry_run: bool
    examined: int = 0                                         # waiting records looked at
    resent: Counter = field(default_factory=Counter)          # by original topic
    over_limit: int = 0
    unroutable: int = 0
    not_matching: int = 0                                     # left waiting by --reason
    already_resent: int = 0                                   # finished by an earlier run, skipped
    reasons: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, "examined": self.examined, "resent": dict(self.resent),
                "over_replay_limit": self.over_limit, "unroutable": self.unroutable,
                "not_matching_reason": self.not_matching, "already_resent": self.already_resent,
                "reasons": dict(self.reasons)}


def replay_headers(headers: list[tuple[str, bytes | None]] | None) -> list[tuple[str, bytes | None]]:
    """The original headers again, without the error context, with the replay count raised."""
    count = replay_count(headers)
    kept = [(k, v) for k, v in headers or [] if not k.startswith(ERROR_PREFIX) and k != REPLAY_COUNT_HEADER]
    return kept + [(REPLAY_COUNT_HEADER, str(count + 1).encode())]


def redrive(consumer_conf: dict, producer: Producer, dlq_topic: str, *, max_replays: int, dry_run: bool,
            limit: int | None = None, idle_s: float = 2.0, progress: Callable[[int], None] | None = None,
            reason: str | None = None, state_topic: str = REDRIVE_STATE) -> RedriveReport:
    """Reads `dlq_topic` from where the group in `consumer_conf` and the saved state say the
    waiting records start, up to the end the broker reports (or `idle_s` without records, or
    `limit` waiting records examined), re-sending those that qualify."""
    report = RedriveReport(dry_run=dry_run)
    consumer = tool_consumer(consumer_conf)
    failures: list[str] = []

    def acked(err, _msg) -> None:
        if err is not None:
            failures.append(str(err))

    try:
        parts = partitions_of(consumer, dlq_topic)
        committed = {tp.partition: tp.offset for tp in
                     consumer.committed([TopicPartition(dlq_topic, p) for p in parts], timeout=10)}
        state = redrive_progress.load(consumer, state_topic, dlq_topic, committed)
        saved = {p: pp.as_dict() for p, pp in state.items()}
        starts = {p: pp.next for p, pp in state.items()}
        consumer.assign([TopicPartition(dlq_topic, p, o) for p, o in starts.items()])
        tracker = EndTracker(consumer, dlq_topic, starts)
        started_ms = int(time.time() * 1000)
        quiet_since, unsaved, stopped = time.monotonic(), 0, set()
        while parts and not tracker.all_at_end() and (limit is None or report.examined < limit):
            msg = consumer.poll(0.2)
            if msg is None or msg.error():
                if time.monotonic() - quiet_since > idle_s:
                    break
                continue
            quiet_since = time.monotonic()
            if msg.partition() in stopped:     # fetched before the pause took effect: not examined, so
                continue                       # it must not count (its offset would pass the one before)
            tracker.saw(msg)
            if msg.timestamp()[1] > started_ms:        # dead-lettered during this run: next run's
                consumer.pause([TopicPartition(msg.topic(), msg.partition())])
                tracker.finish(msg.partition())
                stopped.add(msg.partition())
                continue
            pp = state[msg.partition()]
            if pp.is_done(msg.offset()):
                report.already_resent += 1
                pp.examined(msg.offset(), True)
                continue
            sent = _consider(msg, report, producer, acked, max_replays=max_replays, reason=reason, dry_run=dry_run)
            pp.examined(msg.offset(), sent)
            unsaved += 1
            if progress:
                progress(1)
            if not dry_run and unsaved >= CHECKPOINT_EVERY:
                _checkpoint(producer, consumer, dlq_topic, state_topic, state, saved, failures)
                unsaved = 0
        if not dry_run:
            _checkpoint(producer, consumer, dlq_topic, state_topic, state, saved, failures)
        return report
    finally:
        consumer.close()


def _consider(msg: Message, report: RedriveReport, producer: Producer, acked: Callable, *, max_replays: int,
              reason: str | None, dry_run: bool) -> bool:
    """Re-send `msg` if it qualifies; True when it was (or, in a dry run, would be) re-sent."""
    report.examined += 1
    h = header_dict(msg.headers())
    record_reason = h.get(ERROR_PREFIX + "reason")
    report.reasons[record_reason or "unknown"] += 1
    target = h.get(ERROR_PREFIX + "topic")
    if not target:
        report.unroutable += 1
        return False
    if reason is not None and record_reason != reason:
        report.not_matching += 1
        return False
    if replay_count(msg.headers()) >= max_replays:
        report.over_limit += 1
        return False
    report.resent[target] += 1
    if not dry_run:
        producer.produce(target, key=msg.key(), value=msg.value(), headers=replay_headers(msg.headers()),
                         on_delivery=acked)
    return True


def _checkpoint(producer: Producer, consumer: Consumer, dlq_topic: str, state_topic: str,
                state: dict[int, PartitionProgress], saved: dict[int, dict], failures: list[str]) -> None:
    """Re-sent copies acknowledged, then the state record, then the group offsets."""
    if producer.flush(30) or failures:
        raise KafkaException(f"re-sent records not acknowledged ({failures[:3]}); DLQ progress not saved")
    current = {p: pp.as_dict() for p, pp in state.items()}
    if current == saved:
        return
    redrive_progress.save(producer, state_topic, dlq_topic, state)
    moved = [TopicPartition(dlq_topic, p, c["next"]) for p, c in current.items() if c["next"] != saved[p]["next"]]
    if moved:
        consumer.commit(offsets=moved, asynchronous=False)
    saved.clear()
    saved.update(current)
