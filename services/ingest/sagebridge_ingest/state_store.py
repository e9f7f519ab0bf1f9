"""Poll watermarks kept in Kafka (a compacted, single-partition topic), not on local disk, so an
ingest pod can be rescheduled anywhere and resume exactly where the last one stopped."""
from __future__ import annotations

import json
import logging
import time
import uuid

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from sagebridge_common.kafka_clients import consumer_config
from sagebridge_common.settings import Settings

log = logging.getLogger(__name__)


def read_latest(settings: Settings, topic: str, key: str, idle_s: float = 0.5, timeout_s: float = 20.0) -> dict | None:
    """The last value written for `key`. Reads the whole partition: the topic is compacted (on real
    Kafka) and tiny. tansu under-reports the high watermark, so reading also continues until the
    partition has been quiet for `idle_s`."""
    conf = consumer_config(settings, group_id=f"sagebridge.state-reader.{uuid.uuid4()}")
    conf.pop("statistics.interval.ms", None)
    consumer = Consumer(conf)
    try:
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        _low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10, cached=False)
        latest, position = None, -1
        deadline = time.monotonic() + timeout_s
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            msg = consumer.poll(0.1)
            if msg is None:
                if position + 1 >= high and time.monotonic() - quiet_since >= idle_s:
                    break
                continue
            if msg.error():
                continue
            quiet_since = time.monotonic()
            position = msg.offset()
            if msg.key() == key.encode():
                latest = json.loads(msg.value()) if msg.value() else None
        return latest
    finally:
        consumer.close()
