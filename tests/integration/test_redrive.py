"""`sagebridge dlq redrive`: failed records go back to where they failed, once their cause is fixed,
with a replay count that stops a record that keeps failing from looping."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

from sagebridge_common.dead_letter import REPLAY_COUNT_HEADER, header_dict
from sagebridge_common.errors import PermanentError
from sagebridge_common.events import Output

from .conftest import create_topics, read_all, unique, wait_until
from .test_processor import SCHEMA, Running, produce, status_event

CLI = Path(sys.executable).parent / "sagebridge"


def redrive(bootstrap: str, dlq: str, *args: str) -> dict:
    r = subprocess.run([str(CLI), "dlq", "redrive", dlq, *args], capture_output=True, text=True, timeout=120,
                       env={"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_redrive_after_the_fix_and_the_replay_limit(bootstrap, serde):
    src, out = unique("in"), unique("out")
    dlq = src + ".dlq"
    create_topics(bootstrap, [src, out, dlq], partitions=2)
    broken = {"k1", "k2"}
    lock = threading.Lock()

    def handler(event):
        with lock:
            if event.value["order_id"] in broken:
                raise PermanentError("item missing in the ERP", reason="unknown_sku")
        return [Output(out, event.value["order_id"], SCHEMA, event.value)]

    produce(bootstrap, serde, src, [(f"k{i}", status_event(f"k{i}", i)) for i in range(5)])
    with Running(bootstrap, src, handler):
        assert len(read_all(bootstrap, dlq, expect=2)) == 2

        dry = redrive(bootstrap, dlq, "--dry-run")
        assert dry["resent"] == {src: 2} and dry["reasons"] == {"unknown_sku": 2}
        assert len(read_all(bootstrap, src, idle=1.0)) == 5                 # a dry run sends nothing

        with lock:
            broken.discard("k1")                                              # the operator fixed k1 only
        real = redrive(bootstrap, dlq)
        assert real["resent"] == {src: 2} and real["examined"] == 2
        assert wait_until(lambda: {m.key() for m in read_all(bootstrap, out, idle=0.5)} >= {b"k1"}, 30)
        again = read_all(bootstrap, dlq, expect=3)                            # k2 failed a second time
        k2_second = [m for m in again if m.key() == b"k2"][-1]
        assert header_dict(k2_second.headers())[REPLAY_COUNT_HEADER] == "1"

        limited = redrive(bootstrap, dlq, "--max-replays", "1")
        assert limited["examined"] == 1                                       # resumes after the last run
        assert limited["over_replay_limit"] == 1 and limited["resent"] == {}
    replayed = [m for m in read_all(bootstrap, src, idle=1.0) if m.key() == b"k1"]
    assert len(replayed) == 2
    assert header_dict(replayed[-1].headers())[REPLAY_COUNT_HEADER] == "1"
    assert not any(k.startswith("sagebridge.error.") for k, _ in replayed[-1].headers())
    assert replayed[-1].value() == replayed[0].value()                       # the original bytes
