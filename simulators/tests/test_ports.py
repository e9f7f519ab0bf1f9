"""free_port: no two live processes are given the same port, none comes from the ephemeral range
outgoing connections draw from, a listening port is never handed out, and a lease ends."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest

from sagebridge_sim import ports

CHILD = """
import json, sys
from sagebridge_sim import ports
{setup}
try:
    got = [ports.free_port() for _ in range({n})]
except RuntimeError as e:
    got = str(e)
print(json.dumps(got), flush=True)
sys.stdin.read()                          # alive (and holding its leases) until the test lets go
"""


def children(count: int, n: int, setup: str = "") -> list[object]:
    """What each of `count` processes, started together and alive together, was given."""
    procs = [subprocess.Popen([sys.executable, "-c", CHILD.format(n=n, setup=setup)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True) for _ in range(count)]
    try:
        return [json.loads(p.stdout.readline()) for p in procs]
    finally:
        for p in procs:
            p.stdin.close()
            p.wait(timeout=30)


def ephemeral_low() -> int:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        return int(f.read().split()[0])


def test_processes_taking_ports_at_once_never_share_one():
    """4 x 300 draws from ~17,000 ports: without the leases a repeat is all but certain (birthday
    bound), with them there is none."""
    given = children(4, 300)
    flat = [p for got in given for p in got]
    assert len(flat) == 1200 and len(set(flat)) == 1200


def test_ports_come_from_below_the_ephemeral_range():
    taken = [ports.free_port() for _ in range(50)]
    assert all(ports.LOWEST <= p < ephemeral_low() for p in taken)


def test_a_port_someone_listens_on_is_skipped(monkeypatch):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        busy = server.getsockname()[1]
        monkeypatch.setattr(ports, "_candidates", lambda: range(busy, busy + 1))
        with pytest.raises(RuntimeError, match="no free loopback port"):
            ports.free_port()


def test_a_lease_holds_the_port_from_other_processes_until_it_ends(monkeypatch):
    mine = ports.free_port()
    only_mine = f"ports._candidates = lambda: range({mine}, {mine + 1})"
    [refused] = children(1, 1, only_mine)
    assert "no free loopback port" in refused
    ports._expire(time.monotonic() + ports.LEASE_S + 1)          # as if LEASE_S had passed
    [given] = children(1, 1, only_mine)
    assert given == [mine]
