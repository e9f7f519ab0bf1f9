"""Loopback ports for the servers of the tests, the benchmarks and the dev stack, handed out so
that no two processes on the machine are given the same one.

Why not "bind port 0, read it, close": that port comes from the kernel's ephemeral range
(`/proc/sys/net/ipv4/ip_local_port_range`, 32768-60999 by default), the range every outgoing
connection takes its local port from, and the next probe of any process may draw it again. Between
the probe closing and the server binding (a child process starting, seconds under load), a Kafka
client's connection, an HTTP call or another test worker's probe can take it, and the server dies
with EADDRINUSE. One CI run lost a whole session's service stack that way.

So ports come from below the ephemeral range, where no connect() lands, and each port handed out
is leased across processes: an exclusive `flock` on a file named for it, in the temp directory,
held for `LEASE_S` by the process that took it. Long enough for its server to bind (after which
the probe bind below refuses the port to anyone), and released with the process (a killed test
run leaves no stale lease). The probe bind still runs, for ports a foreign server holds.
"""
from __future__ import annotations

import errno
import fcntl
import functools
import os
import random
import socket
import tempfile
import threading
import time
from pathlib import Path

LEASE_S = 600.0
LOWEST = 15000                       # below: registered ports of common servers, more often taken
_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_leases: list[tuple[float, int]] = []          # (taken at, lock fd), oldest first
_lock = threading.Lock()


@functools.cache
def _candidates() -> range:
    """The ports below the ephemeral range (or above it when too little room is left below)."""
    try:
        low, high = (int(n) for n in _RANGE_FILE.read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    if low - LOWEST >= 2000:
        return range(LOWEST, low)
    return range(high + 1, 65536)


@functools.cache
def _lease_dir() -> Path:
    path = Path(tempfile.gettempdir()) / "sagebridge-ports"
    path.mkdir(mode=0o777, exist_ok=True)
    return path


def _lease(port: int) -> int | None:
    """An fd holding the port's lease, or None when another process holds it."""
    fd = os.open(_lease_dir() / str(port), os.O_CREAT | os.O_RDWR, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd
    except OSError as e:
        os.close(fd)
        if e.errno in (errno.EWOULDBLOCK, errno.EACCES):
            return None
        raise


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _expire(now: float) -> None:
    while _leases and now - _leases[0][0] > LEASE_S:
        os.close(_leases.pop(0)[1])


def free_port() -> int:
    """A loopback port nobody listens on and no other process was given in the last `LEASE_S`."""
    ports = _candidates()
    start = random.randrange(len(ports))
    with _lock:
        _expire(time.monotonic())
        for i in range(len(ports)):
            port = ports[(start + i) % len(ports)]
            fd = _lease(port)
            if fd is None:
                continue
            if _bindable(port):
                _leases.append((time.monotonic(), fd))
                return port
            os.close(fd)
    raise RuntimeError(f"no free loopback port in {ports.start}-{ports.stop - 1}")
