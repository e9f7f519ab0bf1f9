"""Liveness fails when commits stop advancing while records are held (the stuck consumer users
report in faust and Connect), and not merely because a partition is quiet."""
import threading
import time
from types import SimpleNamespace

from sagebridge_common.processor import Processor
from sagebridge_common.settings import Settings


def processor(stall_s: float) -> Processor:
    app = SimpleNamespace(settings=Settings(liveness_stall_s=stall_s), service="t", stop_event=threading.Event())
    return Processor(app, ["t"], lambda e: [], stage="t")


def test_quiet_partition_is_alive():
    p = processor(0.05)
    p._last_commit_progress -= 10
    assert p.liveness_check()[0]


def test_held_records_without_commit_progress_fail_liveness():
    p = processor(0.05)
    p.tracker.assign(("t", 0))
    p.tracker.add(("t", 0), 7)
    assert p.liveness_check()[0]
    time.sleep(0.1)
    ok, detail = p.liveness_check()
    assert not ok and "no commit progress" in detail


def test_a_wedged_loop_fails_liveness():
    p = processor(300)
    p._last_loop -= 120
    assert not p.liveness_check()[0]
