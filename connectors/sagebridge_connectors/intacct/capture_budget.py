"""Change capture within the company's API transaction allowance (`change_capture.budget`).

Intacct bills API transactions per month: every query call counts, readMore pages included
(intacct.md §5; overage is billed, not blocked). With `monthly_transactions` set, capture may
spend `capture_share` of it, i.e. `rate` transactions per second spread over the streams. Two
parts keep it there:
- `min_interval_s`: a poll of every stream costs at least one transaction per stream, so the
  runner's poll interval is stretched to at least `streams / rate` (erp_cdc reads it).
- `allowed` / `spent`: a poll that cost `n` transactions (a backlog read in several pages) holds
  that stream's next poll back until `n * streams / rate` after it began; a held-back poll answers
  an empty page, so a burst is paid for by quiet polls afterwards instead of overspending.
Writes are never held back (the sink does not ask). A month is taken as 31 days, so a shorter one
spends less, never more.
"""
from __future__ import annotations

import time
from typing import Callable

from .config import BudgetConfig

MONTH_S = 31 * 24 * 3600


class CaptureBudget:
    def __init__(self, budget: BudgetConfig, *, streams: int, poll_interval_s: float,
                 now: Callable[[], float] = time.time) -> None:
        self.streams = max(1, streams)
        self.poll_interval_s = poll_interval_s
        self.now = now
        self.rate = (budget.monthly_transactions * budget.capture_share / MONTH_S
                     if budget.monthly_transactions else None)        # transactions per second, all streams
        self.transactions = 0                                          # spent by this process (all streams)
        self._next: dict[str, float] = {}

    @property
    def min_interval_s(self) -> float:
        if self.rate is None:
            return self.poll_interval_s
        return max(self.poll_interval_s, self.streams / self.rate)

    def allowed(self, stream: str) -> bool:
        return self.now() >= self._next.get(stream, 0.0)

    def spent(self, stream: str, transactions: int, started: float) -> None:
        self.transactions += transactions
        if self.rate is not None:
            self._next[stream] = started + transactions * self.streams / self.rate
