"""Intacct-specific faults next to the shared FaultPlan (contract §3; intacct.md §5).

- `concurrency_limit` (default 2, "most customers are allowed 2 concurrent requests", intacct.md §5
  [DOMO]): requests in flight above it -> HTTP 429 with control failure GW-0010 (intacct.md §5 [ERR]).
  The simulator serves one company, so "per company" = every gateway request.
- `commit_then_524_count`: the next N WRITE functions commit, then the answer is HTTP 524 with a
  small HTML body (intacct.md §5: the CDN cut the connection while the system kept processing).
- `offline_count`: the next N requests get HTTP `offline_status` (200) with a control failure whose
  description2 is `The Service is Temporarily Off-line` (intacct.md §5 [PY]); the errorno is not
  confirmed: the simulator uses XL03000010.
- `session_timeout_s`: the session duration (sliding; intacct.md §3).
The shared plan's 429s also answer GW-0010 XML; its 5xx answer a small HTML page (a CDN/server page).
"""
from __future__ import annotations

import asyncio
import threading
from dataclasses import asdict, dataclass

from ..faults import ADMIN_PREFIX, FaultInjector
from .wire import ErrorItem, control_failure

OFFLINE = ErrorItem("XL03000010", "Service unavailable", "The Service is Temporarily Off-line",
                    "Try again later.")
RATE = ErrorItem("GW-0010", "Too many requests", "The number of concurrent requests exceeds the limit of the "
                 "company's performance tier.", "Wait and send the request again.")
KINDS = ("concurrency_limit", "commit_then_524_count", "offline_count", "offline_status", "session_timeout_s")


@dataclass
class IntacctFaults:
    concurrency_limit: int = 2
    commit_then_524_count: int = 0
    offline_count: int = 0
    offline_status: int = 200


class IntacctFaultState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.plan = IntacctFaults()
        self.in_flight = 0
        self.rejected = 0

    def take_offline(self) -> bool:
        with self.lock:
            if self.plan.offline_count > 0:
                self.plan.offline_count -= 1
                return True
            return False

    def take_524(self) -> bool:
        with self.lock:
            if self.plan.commit_then_524_count > 0:
                self.plan.commit_then_524_count -= 1
                return True
            return False

    def snapshot(self) -> dict:
        with self.lock:
            return {**asdict(self.plan), "in_flight": self.in_flight, "rejected_concurrency": self.rejected}


def html(status: int) -> bytes:
    return f"<html><head><title>{status}</title></head><body><h1>Error {status}</h1></body></html>".encode()


async def _send(send, status: int, body: bytes, ctype: bytes, headers: dict[str, str] | None = None) -> None:
    raw = [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class IntacctFaultMiddleware:
    """Outermost: counts requests in flight (the shared plan's latency included) and refuses those
    above the limit; then applies the shared FaultPlan with Intacct-shaped bodies."""

    def __init__(self, app, injector: FaultInjector, faults: IntacctFaultState) -> None:
        self.app, self.injector, self.faults = app, injector, faults

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            return await self.app(scope, receive, send)
        f = self.faults
        with f.lock:
            f.in_flight += 1
            over = f.in_flight > f.plan.concurrency_limit > 0
            if over:
                f.rejected += 1
        try:
            delay, status, headers = self.injector.decide(scope["method"])
            if delay:
                await asyncio.sleep(delay)
            if over:
                return await _send(send, 429, control_failure([RATE]), b"text/xml; encoding=\"UTF-8\"")
            if status == 429:
                return await _send(send, 429, control_failure([RATE]), b"text/xml; encoding=\"UTF-8\"", headers)
            if status is not None:
                return await _send(send, status, html(status), b"text/html",
                                   headers if status == 503 else None)
            return await self.app(scope, receive, send)
        finally:
            with f.lock:
                f.in_flight -= 1
