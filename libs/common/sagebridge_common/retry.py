"""How long to wait before trying a failed record again, and whether to try at all.

The delay is capped exponential backoff with full jitter (tenacity's `wait_random_exponential`),
except that a Retry-After from the target wins when it is longer: a rate-limited ERP tells us when
it will take requests again, and hammering it sooner only extends the outage.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from tenacity import RetryCallState, wait_random_exponential

from .errors import TransientError, classify


@dataclass(frozen=True)
class RetryPolicy:
    initial_s: float = 0.2
    max_s: float = 30.0
    unknown_max_attempts: int = 5

    def should_retry(self, exc: BaseException, attempt: int) -> bool:
        """Transient errors retry for as long as it takes; unknown ones a bounded number of times."""
        kind = classify(exc)
        if kind in ("transient", "outcome_unknown"):
            return True
        if kind in ("unknown", "budgeted"):   # budgeted: bounded by attempts until budgets exist
            return attempt < self.unknown_max_attempts
        return False

    def delay(self, exc: BaseException, attempt: int) -> float:
        wait = wait_random_exponential(multiplier=self.initial_s, max=self.max_s)
        state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
        state.attempt_number = attempt
        backoff = wait(state)
        retry_after = getattr(exc, "retry_after", None) if isinstance(exc, TransientError) else None
        if retry_after is not None:
            return min(max(backoff, float(retry_after)), self.max_s)
        return backoff


def interruptible_sleep(seconds: float, stop: threading.Event) -> bool:
    """Sleeps unless `stop` is set first; returns False when interrupted."""
    return not stop.wait(seconds)
