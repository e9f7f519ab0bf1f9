"""How long to wait before trying a failed record again, and whether to try at all.

The delay is capped exponential backoff with full jitter (tenacity's `wait_random_exponential`),
except that a Retry-After from the target wins when it is longer: a rate-limited ERP tells us when
it will take requests again, and hammering it sooner only extends the outage.

Whether to retry follows the error class (errors.py). Transient and outcome-unknown failures retry
for as long as it takes (reconciling an unknown outcome is the sink's job; to the policy it is one
more transient failure). A budgeted failure retries while its named budget, counted from the
record's first failure, is not spent: a Sage 300 record lock usually clears within minutes, and a
schema fingerprint from a newer producer becomes readable once the rolling upgrade reaches this
service, but neither is worth holding a partition for forever.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Mapping

from tenacity import RetryCallState, wait_random_exponential

from .errors import BudgetedError, TransientError, classify
from .settings import Settings


@dataclass(frozen=True)
class RetryPolicy:
    initial_s: float = 0.2
    max_s: float = 30.0
    unknown_max_attempts: int = 5
    budgets: Mapping[str, float] = field(default_factory=dict)   # budget name -> seconds

    @classmethod
    def from_settings(cls, s: Settings) -> "RetryPolicy":
        return cls(s.retry_initial_s, s.retry_max_s, s.unknown_error_max_attempts,
                   {"record_lock": s.record_lock_retry_budget_s,
                    "unknown_schema": s.unknown_schema_retry_budget_s})

    def should_retry(self, exc: BaseException, attempt: int, elapsed_s: float = 0.0) -> bool:
        """`attempt` counts tries so far; `elapsed_s` is the time since the record first failed.
        A budget name nobody configured gets the bounded attempts of an unknown error rather than
        an unbounded wait."""
        kind = classify(exc)
        if kind in ("transient", "outcome_unknown"):
            return True
        if kind == "budgeted":
            budget = self.budgets.get(getattr(exc, "budget", ""))
            if budget is not None:
                return elapsed_s < budget
            return attempt < self.unknown_max_attempts
        if kind == "unknown":
            return attempt < self.unknown_max_attempts
        return False

    def delay(self, exc: BaseException, attempt: int) -> float:
        wait = wait_random_exponential(multiplier=self.initial_s, max=self.max_s)
        state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
        state.attempt_number = attempt
        backoff = wait(state)
        retry_after = (getattr(exc, "retry_after", None)
                       if isinstance(exc, (TransientError, BudgetedError)) else None)
        if retry_after is not None:
            return min(max(backoff, float(retry_after)), self.max_s)
        return backoff


def interruptible_sleep(seconds: float, *stops: threading.Event, tick_s: float = 0.05) -> bool:
    """Sleeps unless one of `stops` is set first; returns False when interrupted. The first event
    wakes the sleep at once; the others are checked every `tick_s` (threading has no wait-any)."""
    first, rest = stops[0], stops[1:]
    if not rest:
        return not first.wait(seconds)
    deadline = time.monotonic() + seconds
    while not any(e.is_set() for e in rest):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return True
        if first.wait(min(remaining, tick_s)):
            return False
    return False
