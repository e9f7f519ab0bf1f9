"""Reading a topic to its current end without a consumer group: for tools, not services.

Tools (DLQ browsing, re-drive state) need "every record there is now", then stop. tansu answers
ListOffsets unreliably, so the end is not asked for up front: a partition is at its end when the
next offset to read has reached the high watermark the broker reported in its latest Fetch response
(librdkafka caches it; `get_watermark_offsets(cached=True)`). The partitions are assigned, never
subscribed, and nothing is committed, so no group is joined or left behind.
"""
from __future__ import annotations

import time
from typing import Iterator

from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, TopicPartition


class ReadTimeout(Exception):
    """The broker did not report the end of every partition in time: the read is incomplete."""


class EndTracker:
    """Which assigned partitions have been read up to the broker-reported high watermark."""

    def __init__(self, consumer: Consumer, topic: str, starts: dict[int, int]) -> None:
        self.consumer = consumer
        self.topic = topic
        self._next = {p: (o if o >= 0 else None) for p, o in starts.items()}
        self._finished: set[int] = set()

    def saw(self, msg: Message) -> None:
        self._next[msg.partition()] = msg.offset() + 1

    def finish(self, partition: int) -> None:
        """Stop waiting for `partition` (e.g. the caller paused it)."""
        self._finished.add(partition)

    def at_end(self, partition: int) -> bool:
        if partition in self._finished:
            return True
        low, high = self.consumer.get_watermark_offsets(TopicPartition(self.topic, partition), cached=True)
        nxt = self._next[partition]
        if nxt is None and low >= 0:
            nxt = low                       # nothing read yet from the beginning: the log start
        return high >= 0 and nxt is not None and nxt >= high

    def all_at_end(self) -> bool:
        return all(self.at_end(p) for p in self._next)


def partitions_of(consumer: Consumer, topic: str, timeout: float = 10.0) -> list[int]:
    """The topic's partition ids; empty when the topic does not exist."""
    md = consumer.list_topics(topic, timeout=timeout).topics.get(topic)
    if md is None or md.error is not None:
        return []
    return sorted(md.partitions)


def tool_consumer(conf: dict) -> Consumer:
    """A consumer for assign-only reading: never commits, so its group id leaves nothing behind."""
    conf = {k: v for k, v in conf.items() if k != "statistics.interval.ms"}
    return Consumer({**conf, "enable.auto.commit": False, "enable.auto.offset.store": False,
                     "auto.offset.reset": "earliest"})


def read_to_end(consumer: Consumer, topic: str, starts: dict[int, int] | None = None, *,
                timeout_s: float = 30.0) -> Iterator[Message]:
    """Every record of `topic` from `starts` (partition → offset; default: all from the beginning)
    up to the end reported while reading. Raises ReadTimeout if an end is not reached within
    `timeout_s` of the last record, so a caller never mistakes a partial read for the whole topic."""
    if starts is None:
        starts = {p: OFFSET_BEGINNING for p in partitions_of(consumer, topic)}
    if not starts:
        return
    consumer.assign([TopicPartition(topic, p, o) for p, o in starts.items()])
    tracker = EndTracker(consumer, topic, starts)
    deadline = time.monotonic() + timeout_s
    while not tracker.all_at_end():
        msg = consumer.poll(0.1)
        if msg is None or msg.error():
            if time.monotonic() > deadline:
                raise ReadTimeout(f"{topic}: end of partitions not reached within {timeout_s}s")
            continue
        tracker.saw(msg)
        deadline = time.monotonic() + timeout_s
        yield msg
