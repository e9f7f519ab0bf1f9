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


# -- filtered runs, the replay limit and dry runs -------------------------------------------------
from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient  # noqa: E402

from sagebridge_common.dead_letter import FailureContext, dead_letter_headers  # noqa: E402

from .conftest import committed  # noqa: E402


def dead_letter(bootstrap: str, serde, src: str, records: list[tuple[str, str, int]]) -> None:
    """Records as the processor dead-letters them: (key, reason, replays so far), in this order."""
    p = Producer({"bootstrap.servers": bootstrap})
    for i, (key, reason, replays) in enumerate(records):
        ctx = FailureContext(topic=src, partition=0, offset=i, group="g", service="test", stage="test",
                             attempts=1, first_failure_ms=1_700_000_000_000)
        headers = dead_letter_headers([(REPLAY_COUNT_HEADER, str(replays).encode())], ctx,
                                      PermanentError(f"{key} failed", reason=reason), reason)
        p.produce(src + ".dlq", key=key.encode(), value=serde.serialize(SCHEMA, status_event(key, i)),
                  headers=headers, partition=0)
    assert p.flush(10) == 0


def redrive_groups(bootstrap: str, dlq: str) -> set[str]:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    return {g.group_id for g in admin.list_consumer_groups().result().valid
            if g.group_id.startswith(f"sagebridge.redrive.{dlq}")}


def test_records_left_by_a_filtered_run_are_redriven_later_exactly_once(bootstrap, serde):
    src = unique("in")
    dlq = src + ".dlq"
    create_topics(bootstrap, [src, dlq], partitions=1)
    dead_letter(bootstrap, serde, src, [("a1", "A", 0), ("b1", "B", 0), ("a2", "A", 0), ("a3", "A", 3)])

    first = redrive(bootstrap, dlq, "--reason", "A")
    assert first["resent"] == {src: 2} and first["over_replay_limit"] == 1

    second = redrive(bootstrap, dlq, "--reason", "B")               # b1 was skipped, not lost
    assert second["resent"] == {src: 1}
    assert first["not_matching_reason"] == 1 and second["already_resent"] == 1   # a2 is not sent again

    third = redrive(bootstrap, dlq)                                  # only a3 waits, over the limit
    assert third["resent"] == {} and third["examined"] == 1 and third["over_replay_limit"] == 1

    raised = redrive(bootstrap, dlq, "--max-replays", "4")           # a person raised the limit
    assert raised["resent"] == {src: 1} and raised["examined"] == 1
    assert redrive(bootstrap, dlq)["examined"] == 0

    sent = read_all(bootstrap, src, expect=4)
    assert [m.key() for m in sent] == [b"a1", b"a2", b"b1", b"a3"]    # each once, none twice
    assert [header_dict(m.headers())[REPLAY_COUNT_HEADER] for m in sent] == ["1", "1", "1", "4"]
    assert committed(bootstrap, f"sagebridge.redrive.{dlq}", dlq, 1) == {0: 4}


def test_a_dry_run_reads_the_real_progress_and_leaves_no_group(bootstrap, serde):
    src = unique("in")
    dlq = src + ".dlq"
    create_topics(bootstrap, [src, dlq], partitions=1)
    dead_letter(bootstrap, serde, src, [("a1", "A", 0), ("b1", "B", 0), ("a2", "A", 0)])

    before = redrive(bootstrap, dlq, "--dry-run")
    assert before["resent"] == {src: 3}
    assert redrive_groups(bootstrap, dlq) == set()                   # not even the real group exists

    redrive(bootstrap, dlq, "--reason", "A")
    group = f"sagebridge.redrive.{dlq}"
    assert committed(bootstrap, group, dlq, 1) == {0: 1}

    after = redrive(bootstrap, dlq, "--dry-run")                      # what a plain run would do now
    assert after["resent"] == {src: 1} and after["already_resent"] == 1 and after["examined"] == 1
    assert redrive_groups(bootstrap, dlq) == {group}
    assert committed(bootstrap, group, dlq, 1) == {0: 1}             # and it moved nothing
    assert [m.key() for m in read_all(bootstrap, src, expect=2)] == [b"a1", b"a2"]


def test_progress_moves_its_prefix_only_over_finished_records():
    from sagebridge_common.redrive_progress import PartitionProgress

    pp = PartitionProgress.start(0)
    for offset, done in [(0, True), (1, False), (2, True), (3, True), (5, True), (6, False), (7, True)]:
        pp.examined(offset, done)                                    # 4 is a gap in the log
    assert pp.as_dict() == {"next": 1, "done": [[2, 5], [7, 7]]}
    again = PartitionProgress.start(**{"next_offset": 1, "done": [[2, 5], [7, 7]]})
    assert [o for o in range(8) if not again.is_done(o)] == [1, 6]
    again.examined(1, True)
    for offset in (2, 3, 5):
        again.examined(offset, again.is_done(offset))
    assert again.as_dict() == {"next": 6, "done": [[7, 7]]}
    assert PartitionProgress.start(6, [[2, 5], [6, 8], [10, 10]]).as_dict() == {"next": 9, "done": [[10, 10]]}
