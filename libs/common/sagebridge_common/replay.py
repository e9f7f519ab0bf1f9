"""Replay of a topic from a point in time for one consumer group.

Moves the group's committed offsets back to the first record at or after `since`, so the service
re-processes everything from then on (the writers' idempotency turns the repeats into no-ops and
the gaps into writes). Kafka only lets a group's offsets move while the group has no members, so
the service is stopped first; the broker's refusal otherwise is reported as such.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient


class ReplayError(Exception):
    pass


@dataclass(frozen=True)
class PartitionMove:
    partition: int
    committed: int | None      # None: the group never committed here
    target: int

    @property
    def records_again(self) -> int | None:
        return None if self.committed is None else max(0, self.committed - self.target)


def plan(consumer_conf: dict, topic: str, group: str, since: datetime) -> list[PartitionMove]:
    since_ms = int(since.timestamp() * 1000)
    if since_ms > time.time() * 1000:
        raise ReplayError(f"{since.isoformat()} is in the future; nothing to replay")
    probe = Consumer({**consumer_conf, "group.id": group, "enable.auto.commit": False})
    helper = Consumer({**consumer_conf, "group.id": f"sagebridge.replay-probe.{uuid.uuid4().hex[:8]}"})
    try:
        partitions = helper.list_topics(topic, timeout=10).topics[topic].partitions
        wanted = [TopicPartition(topic, p, since_ms) for p in partitions]
        found = {tp.partition: tp.offset for tp in helper.offsets_for_times(wanted, timeout=10)}
        committed = {tp.partition: tp.offset for tp in probe.committed([TopicPartition(topic, p) for p in partitions],
                                                                      timeout=10)}
        moves = []
        for p in sorted(partitions):
            target = found[p]
            if target < 0:   # nothing at or after `since`: the end of the partition
                target = helper.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            moves.append(PartitionMove(p, committed[p] if committed[p] >= 0 else None, target))
        return moves
    finally:
        probe.close()
        helper.close()


def apply(admin: AdminClient, topic: str, group: str, moves: list[PartitionMove]) -> None:
    request = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, m.partition, m.target) for m in moves])
    future = admin.alter_consumer_group_offsets([request])[group]
    try:
        future.result()
    except KafkaException as e:
        raise ReplayError(f"the broker refused to move {group}'s offsets ({e.args[0].str()}); "
                          "stop every instance of the service first") from e
