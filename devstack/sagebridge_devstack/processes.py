"""Child processes of the dev stack and the tests: services and simulators, each in its own
process group so Ctrl-C (or a test's teardown) leaves nothing behind, and SIGKILL can be aimed at
one service to prove nothing is lost."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from sagebridge_sim.ports import free_port

__all__ = ["ManagedProcess", "free_port", "stop_all", "wait_for_port", "wait_until"]


def wait_until(fn, timeout: float = 60.0, interval: float = 0.1, message: str = "condition"):
    """fn's first truthy value; TimeoutError when none comes within `timeout` (tests, benchmarks)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {message}")


def wait_for_port(port: int, timeout: float = 10.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


class ManagedProcess:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path,
                 ready_url: str | None = None) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.ready_url = ready_url
        self.proc: subprocess.Popen | None = None

    @classmethod
    def python_module(cls, name: str, module: str, env: dict[str, str], log_dir: Path, args: list[str] | None = None,
                      ready_url: str | None = None) -> "ManagedProcess":
        return cls(name, [sys.executable, "-m", module, *(args or [])], env, log_dir, ready_url)

    def start(self) -> "ManagedProcess":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Waits for the ready URL to answer 2xx (the process's /readyz, or a simulator page)."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.proc and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}:\n"
                                   + self.tail())
            try:
                r = httpx.get(self.ready_url, timeout=2.0)
                if r.status_code < 300:
                    return
                last = r.text[:300]
            except httpx.HTTPError as e:
                last = str(e)
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready after {timeout}s: {last}\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no chance to flush or commit (what a crash looks like)."""
        if self.alive:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def terminate(self) -> None:
        """SIGTERM without waiting: `stop_all` asks every process first, then waits for each."""
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def stop(self, timeout: float = 12.0) -> int | None:
        """SIGTERM, then SIGKILL after `timeout`; returns the exit code."""
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode


def stop_all(procs: list[ManagedProcess], timeout: float = 12.0) -> None:
    """Stops processes that do not depend on each other side by side: each gets SIGTERM at once and
    its own `timeout` before SIGKILL, so the group takes as long as its slowest, not their sum."""
    for proc in procs:
        proc.terminate()
    deadline = time.monotonic() + timeout
    for proc in procs:
        proc.stop(max(0.1, deadline - time.monotonic()))
