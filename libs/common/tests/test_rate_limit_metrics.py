"""The rate-limit metrics the ERP → store dashboard draws: the limit a bucket refills at and the
tokens taken from it (calls, or rows read), beside the waits already counted."""
from __future__ import annotations

import uuid

from prometheus_client import REGISTRY

from sagebridge_common.rate_limit import TokenBucket


def sample(name: str, target: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"target": target})


def test_the_limit_and_every_token_taken_are_exported():
    target = f"xcart:{uuid.uuid4().hex[:8]}"
    clock = [100.0]
    bucket = TokenBucket(4.0, 2, name=target, clock=lambda: clock[0], sleep=lambda s: clock.__setitem__(0, clock[0] + s))
    assert sample("sagebridge_rate_limit_tokens_per_second", target) == 4.0
    bucket.acquire()
    bucket.acquire()
    assert sample("sagebridge_rate_limit_waits_total", target) is None      # the burst covered both
    bucket.acquire()                                                          # waits 0.25 s (fake clock)
    bucket.charge(5)                                                          # rows a read returned
    bucket.wait_time()                                                        # takes nothing
    bucket.acquire(tokens=0)                                                  # only waits the debt out
    assert sample("sagebridge_rate_limit_tokens_total", target) == 8.0
    assert sample("sagebridge_rate_limit_waits_total", target) == 2.0
