"""Scale-out: two replicas of every service in one consumer group while 2,000 orders flow, one
replica of each service SIGKILLed and restarted twice. The rebalance path of the processor under
load: every order exactly once in Sage 300, nothing in a dead-letter topic."""
from __future__ import annotations

import sys
import time
from collections import Counter

import pytest

from sagebridge_common.topics import ORDERS, STOREFRONT_RAW, INGEST_NOTIFICATIONS
from sagebridge_devstack.processes import ManagedProcess, free_port
from sagebridge_devstack.stack import SERVICE_MODULES

from .conftest import read_all, wait_until

pytestmark = pytest.mark.slow
SERVICES = ("ingest", "transform", "erp-writer")


def start_replica(stack, name: str, tag: str) -> ManagedProcess:
    """A second instance of a service: same environment (so the same consumer group), own ports."""
    env = stack.service_env(name) | {"OPS_PORT": str(free_port())}
    if name == "ingest":
        env["HTTP_PORT"] = str(free_port())
    proc = ManagedProcess(f"{name}-{tag}", [sys.executable, "-m", SERVICE_MODULES[name]], env, stack.logs,
                          ready_url=f"http://127.0.0.1:{env['OPS_PORT']}/readyz").start()
    return proc


def in_sage(sims, keys: set[str]) -> Counter:
    """Sage orders per store order number, whatever reference prefix the pair adds."""
    counts: Counter = Counter()
    for o in sims.sage_orders():
        ref = o["OrderReference"]
        number = ref.rsplit("-", 1)[-1] if "-" in ref else ref
        if number in keys:
            counts[number] += 1
    return counts


def test_two_replicas_each_killed_twice_while_2000_orders_flow(sims, stack, bootstrap):
    replicas = {name: start_replica(stack, name, "b") for name in SERVICES}
    made: list[dict] = []
    try:
        for proc in replicas.values():
            proc.wait_ready()
        sims.sage_faults(latency_ms=5)
        for round_no in range(2):
            made += sims.bulk(500)
            numbers = {m["order_number"] for m in made}
            wait_until(lambda: len(in_sage(sims, numbers)) >= len(numbers) // 2, timeout=180,
                       message=f"flow before kill {round_no + 1}")
            for name in SERVICES:
                replicas[name].kill()
            made += sims.bulk(500)
            time.sleep(1)
            replicas = {name: start_replica(stack, name, f"b{round_no + 2}") for name in SERVICES}
        numbers = {m["order_number"] for m in made}
        refs = wait_until(lambda: (lambda c: c if len(c) == len(numbers) else None)(in_sage(sims, numbers)),
                          timeout=300, message="all 2,000 orders in Sage 300")
        # a positive signal after any redelivery still in flight: a fresh order made after the
        # last restart has gone all the way through
        sentinel = sims.order()
        wait_until(lambda: in_sage(sims, {sentinel["order_number"]}), timeout=60, message="the sentinel order")
        refs = in_sage(sims, numbers)
    finally:
        sims.sage_faults(reset=True)
        for proc in replicas.values():
            proc.stop()
    assert len(made) == 2000
    assert len(refs) == 2000, "orders missing"
    assert max(refs.values()) == 1, f"duplicates: {[n for n, c in refs.items() if c > 1][:5]}"
    ids = {str(m["id"]).encode() for m in made}
    for topic in (ORDERS, STOREFRONT_RAW, INGEST_NOTIFICATIONS):
        dead = [m for m in read_all(bootstrap, topic + ".dlq", idle=0.5) if m.key() in ids]
        assert dead == [], f"{len(dead)} records in {topic}.dlq"
