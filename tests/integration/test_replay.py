"""`sagebridge replay`: rewind a consumer group to a point in time."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition

from .conftest import committed, create_topics, unique

CLI = Path(sys.executable).parent / "sagebridge"


def cli(bootstrap: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), "replay", *args], capture_output=True, text=True, timeout=60,
                          env={"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "PATH": "/usr/bin:/bin"})


def test_rewind_to_a_time_dry_run_first_and_refuse_the_future(bootstrap):
    topic, group = unique("replay"), unique("group")
    create_topics(bootstrap, [topic], partitions=1)
    p = Producer({"bootstrap.servers": bootstrap})
    for i in range(5):
        p.produce(topic, value=f"early-{i}".encode())
    p.flush(10)
    time.sleep(1.5)
    since = datetime.now(timezone.utc)
    time.sleep(0.5)
    for i in range(3):
        p.produce(topic, value=f"late-{i}".encode())
    p.flush(10)
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    c.commit(offsets=[TopicPartition(topic, 0, 8)], asynchronous=False)    # the group had processed all 8
    c.close()

    dry = cli(bootstrap, topic, "--group", group, "--from", since.isoformat(), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    [move] = json.loads(dry.stdout)["partitions"]
    assert (move["committed"], move["new"], move["records_again"]) == (8, 5, 3)
    assert committed(bootstrap, group, topic, 1)[0] == 8                    # a dry run changes nothing

    real = cli(bootstrap, topic, "--group", group, "--from", since.isoformat())
    assert real.returncode == 0, real.stderr
    assert committed(bootstrap, group, topic, 1)[0] == 5

    future = cli(bootstrap, topic, "--group", group, "--from", (since + timedelta(days=1)).isoformat())
    assert future.returncode == 2 and "future" in future.stderr
    assert committed(bootstrap, group, topic, 1)[0] == 5
