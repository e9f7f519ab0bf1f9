"""A per-target token bucket, shared by every worker that calls the same store.

Stores cap request rates (and a hub that ignores the cap only earns 429s and a longer outage), so
every call to one store first takes a token: `rate_per_s` tokens refill per second, up to `burst`
stored. Workers of all keys share one bucket per store, so the rate holds however many keys run
at once. When the store answers 429/503 with Retry-After, `hold(seconds)` stops the whole bucket
until then: one worker's throttle answer spares the others a request that would be refused too.

Waiting is counted (`sagebridge_rate_limit_waits_total`, seconds in
`sagebridge_rate_limit_wait_seconds_total`) so an operator sees when the limit, not the store, is
the bottleneck.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

from prometheus_client import Counter, Gauge

RATE_LIMIT_WAITS = Counter("sagebridge_rate_limit_waits_total", "Calls that waited for a rate-limit token",
                           ["target"])
RATE_LIMIT_WAIT_SECONDS = Counter("sagebridge_rate_limit_wait_seconds_total",
                                  "Seconds spent waiting for rate-limit tokens", ["target"])
# The limit itself and what is taken from it: a dashboard draws the use against the limit.
RATE_LIMIT_TOKENS = Counter("sagebridge_rate_limit_tokens_total", "Tokens taken from a rate limit (calls, or rows read)",
                            ["target"])
RATE_LIMIT_RATE = Gauge("sagebridge_rate_limit_tokens_per_second", "The rate a limit refills at (its configured limit)",
                        ["target"])


class TokenBucket:
    def __init__(self, rate_per_s: float, burst: int, *, name: str = "target",
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate_per_s must be > 0 and burst >= 1")
        self.rate = float(rate_per_s)
        self.burst = float(burst)
        self.name = name
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._stamp = clock()
        self._held_until = 0.0
        RATE_LIMIT_RATE.labels(name).set(self.rate)

    def _refill(self, now: float) -> None:
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def _reserve(self, tokens: float = 1.0) -> float:
        """Takes `tokens` (possibly going into debt) and returns how long the caller must wait
        for them. Debt keeps callers in arrival order without a queue: each waits its share."""
        with self._lock:
            now = self._clock()
            if self._held_until > self._stamp:
                # a hold: nothing refills before it ends, and the bucket restarts empty then
                self._tokens, self._stamp = min(self._tokens, 0.0), self._held_until
            if now > self._stamp:
                self._refill(now)
            self._tokens -= tokens
            if tokens > 0:
                RATE_LIMIT_TOKENS.labels(self.name).inc(tokens)
            ready_at = max(now, self._stamp) + max(0.0, -self._tokens) / self.rate
            return ready_at - now

    def acquire(self, stop: threading.Event | None = None, tokens: float = 1.0) -> float:
        """Blocks until a token is ours; returns the seconds waited. `stop` cuts the wait short
        (shutdown): the call then proceeds and the store's own limit answers it. `tokens`: take
        that many at once (change capture: the rows a read returned); 0 only waits out a debt."""
        wait = self._reserve(tokens)
        if wait > 0:
            RATE_LIMIT_WAITS.labels(self.name).inc()
            RATE_LIMIT_WAIT_SECONDS.labels(self.name).inc(wait)
            if stop is not None:
                stop.wait(wait)
            else:
                self._sleep(wait)
        return wait

    def charge(self, tokens: float) -> None:
        """Takes `tokens` now without waiting (into debt): for work whose size is known only once
        done (the rows a query returned); the next `acquire` waits the debt out."""
        self._reserve(tokens)

    def wait_time(self) -> float:
        """Seconds until the bucket is out of debt (0: a caller may go now); takes nothing."""
        return max(0.0, self._reserve(0.0))

    def hold(self, seconds: float) -> None:
        """The store asked for a pause (Retry-After): no token is handed out before then."""
        if seconds <= 0:
            return
        with self._lock:
            self._held_until = max(self._held_until, self._clock() + seconds)
