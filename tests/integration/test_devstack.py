"""The README's first command: `sagebridge-dev up` runs everything, shows orders reaching Sage 300,
and Ctrl-C leaves no process behind."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent / "sagebridge-dev"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:   # a zombie is dead for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _run_until_interrupted(tmp_path: Path, seconds: float) -> str:
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    proc = subprocess.Popen([str(BIN), "up", "--rate", "5", "--work-dir", str(tmp_path)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env={**env, "COLUMNS": "120"}, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (tmp_path / "logs" / "erp-writer.log").exists():
        time.sleep(0.2)
    time.sleep(seconds)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    return out


def test_up_shows_orders_created_and_ctrl_c_leaves_nothing_behind(tmp_path):
    out = _run_until_interrupted(tmp_path, 10)
    created = re.search(r"'created in Sage 300': (\d+)", out)
    assert created and int(created.group(1)) > 0, out[-2000:]
    pids = [int(p) for p in re.search(r"stopped \(pids ([\d ]+)\)", out).group(1).split()]
    assert len(pids) == 6                       # broker, two simulators, three services
    time.sleep(0.5)
    assert [p for p in pids if _alive(p)] == []
