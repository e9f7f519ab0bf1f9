"""Fault injection shared by every simulator.

Tests and benchmarks need the external systems to misbehave on request: slow answers, 5xx, 429 with
Retry-After, outage windows, and writes that commit late (the client gives up waiting, the write
lands anyway: what makes a lost answer an unknown outcome rather than a failure). A `FaultInjector` holds the current fault plan; the ASGI middleware
applies it to every request except the simulator's own `/_sim/` admin paths, so a test can always
reconfigure or inspect a simulator that is "down".
"""
from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

ADMIN_PREFIX = "/_sim/"


@dataclass
class FaultPlan:
    latency_ms: float = 0.0            # added to every request
    error_status: int = 0              # e.g. 500/503; 0 = none
    error_rate: float = 0.0            # probability of error_status per request (1.0 = always)
    error_count: int = 0               # if > 0, fail exactly the next N requests with error_status
    rate_limit_count: int = 0          # answer the next N requests with 429
    retry_after_s: float = 1.0         # Retry-After sent with 429 and 503
    outage_until: float = 0.0          # epoch seconds; until then every request gets outage_status
    outage_status: int = 503
    methods: list[str] = field(default_factory=list)  # restrict faults (latency too) to these methods; [] = all
    # Writes are held this long after the request arrived, then committed, then answered: a client
    # whose timeout is shorter sees no answer although the write lands. Applied by each simulator's
    # write handlers (`commit_delay`), after validation and before the commit.
    commit_late_ms: float = 0.0
    commit_late_count: int = 0         # if > 0, only the next N writes commit late; 0 = every write
    # A token bucket in front of the system (a WAF / hosting limit): `bucket_per_s` > 0 admits that
    # many requests per second with bursts of `bucket_burst`; the rest get 429 with Retry-After.
    bucket_per_s: float = 0.0
    bucket_burst: int = 1


def _throttle_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """`{"mode": "throttle", "status": 429|503, "seconds": N, "retry_after": S}` is shorthand for an
    outage window: every request for N seconds gets `status` with `Retry-After: S`, then the system
    answers again. `{"mode": "rate", "per_s": R, "burst": B, "retry_after": S}` sets the token
    bucket instead (requests beyond R/s, bursts of B, get 429). Both model a hosting/WAF limit in
    front of a store (X-Cart itself configures and documents no rate limit: reference xcart.md §1b
    "Rate limits: none configured ... [?]")."""
    if changes.get("mode") is None:
        return changes
    changes = dict(changes)
    mode = changes.pop("mode")
    if mode == "rate":
        changes["bucket_per_s"] = float(changes.pop("per_s", 10))
        changes["bucket_burst"] = int(changes.pop("burst", 1))
        changes["retry_after_s"] = float(changes.pop("retry_after", 1))
        if changes["bucket_per_s"] <= 0 or changes["bucket_burst"] < 1:
            raise ValueError("rate needs per_s > 0 and burst >= 1")
        return changes
    if mode != "throttle":
        raise ValueError(f"unknown fault mode {mode!r} (throttle | rate)")
    status = changes.pop("status", 429)
    if status not in (429, 503):
        raise ValueError("throttle status must be 429 or 503")
    changes["outage_status"] = status
    changes["outage_seconds"] = float(changes.pop("seconds", 10))
    changes["retry_after_s"] = float(changes.pop("retry_after", 1))
    return changes


class FaultInjector:
    """Thread-safe holder of the fault plan, with the decision of what to do for one request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.plan = FaultPlan()
        self.injected = 0
        self._tokens = 0.0
        self._refilled = 0.0

    def configure(self, **changes: Any) -> FaultPlan:
        with self._lock:
            if changes.pop("reset", False):
                self.plan = FaultPlan()
            self._refilled = 0.0            # a new plan starts with a full bucket
            changes = _throttle_changes(changes)
            outage_s = changes.pop("outage_seconds", None)
            if outage_s is not None:
                self.plan.outage_until = time.time() + float(outage_s)
            for k, v in changes.items():
                if not hasattr(self.plan, k):
                    raise ValueError(f"unknown fault setting {k!r}")
                setattr(self.plan, k, v)
            return FaultPlan(**asdict(self.plan))

    def decide(self, method: str) -> tuple[float, int | None, dict[str, str]]:
        """Returns (delay seconds, status to fail with or None, extra headers)."""
        with self._lock:
            p = self.plan
            if p.methods and method.upper() not in p.methods:
                return 0.0, None, {}
            delay = p.latency_ms / 1000.0
            retry = {"Retry-After": f"{p.retry_after_s:g}"}
            if p.outage_until and time.time() < p.outage_until:
                self.injected += 1
                return delay, p.outage_status, retry
            if p.bucket_per_s > 0 and not self._take_token(p):
                self.injected += 1
                return delay, 429, retry
            if p.rate_limit_count > 0:
                p.rate_limit_count -= 1
                self.injected += 1
                return delay, 429, retry
            if p.error_status and p.error_count > 0:
                p.error_count -= 1
                self.injected += 1
                return delay, p.error_status, retry
            if p.error_status and p.error_rate > 0 and random.random() < p.error_rate:
                self.injected += 1
                return delay, p.error_status, retry
            return delay, None, {}

    def _take_token(self, p: FaultPlan) -> bool:
        now = time.monotonic()
        if not self._refilled:
            self._tokens, self._refilled = float(p.bucket_burst), now
        self._tokens = min(float(p.bucket_burst), self._tokens + (now - self._refilled) * p.bucket_per_s)
        self._refilled = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def commit_delay(self, method: str) -> float:
        """Seconds a write handler waits before committing (0.0 = commit at once)."""
        with self._lock:
            p = self.plan
            if not p.commit_late_ms or (p.methods and method.upper() not in p.methods):
                return 0.0
            delay = p.commit_late_ms / 1000.0
            if p.commit_late_count > 0:
                p.commit_late_count -= 1
                if p.commit_late_count == 0:
                    p.commit_late_ms = 0.0
            self.injected += 1
            return delay

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {**asdict(self.plan), "injected": self.injected}


class FaultMiddleware:
    """ASGI middleware: delays or fails requests as the injector says. `error_body` builds the body
    the simulated system would send for a failure status (each system has its own error shape)."""

    def __init__(self, app, injector: FaultInjector, error_body=None) -> None:
        self.app = app
        self.injector = injector
        self.error_body = error_body or (lambda status: {"message": f"simulated {status}"})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            return await self.app(scope, receive, send)
        delay, status, headers = self.injector.decide(scope["method"])
        if delay:
            await asyncio.sleep(delay)
        if status is None:
            return await self.app(scope, receive, send)
        body = json.dumps(self.error_body(status)).encode()
        raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        raw_headers += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": body})


def install_admin_routes(app, injector: FaultInjector) -> None:
    """`POST /_sim/faults` sets the plan (JSON body of FaultPlan fields, plus `outage_seconds` and
    `reset`); `GET /_sim/faults` shows it."""
    from fastapi import Body, HTTPException

    @app.post("/_sim/faults")
    def set_faults(changes: dict = Body(default_factory=dict)):
        try:
            return injector.configure(**changes)
        except ValueError as e:
            raise HTTPException(400, str(e))

    @app.get("/_sim/faults")
    def get_faults():
        return injector.snapshot()
