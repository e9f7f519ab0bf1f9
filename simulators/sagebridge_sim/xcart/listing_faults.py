"""What can go wrong around `GET /api/orders` in a live store, on request, plus a log of list calls.

A real store keeps working while a client pages through its orders: a list call can take seconds
(a large order table behind API Platform's Doctrine paginator), merchants edit old orders meanwhile
(every save resets `lastRenewDate` to now, X-Cart `Order::prepareBeforeSave()`, so the edited row
jumps to the end of a `lastRenewDate`-sorted list) and customers place new ones. These faults make
that happen deterministically between two list calls of one client:

- `latency_ms`: each list call answers this much later (real time).
- `clock_step_s`: the store's clock moves on by this much per list call (a slow store without the
  wall-clock wait), so edits and new orders land in later seconds.
- `edit_returned`: after answering, the first N orders of the page just answered are saved again.
- `create_per_call`: after answering, this many new orders are placed.
- `calls`: the faults above apply to this many list calls (0 = every call).

Per-order faults break one record the way a damaged order does: `GET /api/orders/{id}` answering a
body that is not JSON, or `/payment_transactions` answering a fixed status (say 500) forever.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from .store import XCartStore

_NEW_ORDER = {"email": "late@example.com", "items": [{"sku": "LATE-1", "name": "Late", "price": "1.00", "amount": 1}]}


@dataclass
class ListingPlan:
    latency_ms: float = 0.0
    clock_step_s: float = 0.0
    edit_returned: int = 0
    create_per_call: int = 0
    calls: int = 0
    broken_json: list[int] = field(default_factory=list)
    transactions_status: dict[int, int] = field(default_factory=dict)


class ListingFaults:
    def __init__(self, store: XCartStore, log_size: int = 1000) -> None:
        self.store = store
        self._lock = threading.Lock()
        self.plan = ListingPlan()
        self._applied = 0
        self.log: deque[dict[str, Any]] = deque(maxlen=log_size)
        self.created: list[int] = []

    def configure(self, changes: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if changes.pop("reset", False):
                self.plan, self._applied = ListingPlan(), 0
            for k, v in changes.items():
                if not hasattr(self.plan, k):
                    raise ValueError(f"unknown listing fault {k!r}")
                if k == "transactions_status":
                    v = {int(oid): int(status) for oid, status in v.items()}
                setattr(self.plan, k, v)
            if "calls" in changes:
                self._applied = 0
            return asdict(self.plan)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"plan": asdict(self.plan), "calls": list(self.log), "created": list(self.created)}

    def _active(self) -> bool:
        return not self.plan.calls or self._applied < self.plan.calls

    def before_list(self) -> None:
        with self._lock:
            delay = self.plan.latency_ms / 1000.0 if self._active() else 0.0
        if delay:
            time.sleep(delay)

    def after_list(self, query: str, filters: dict[str, list[str]], rows: list[dict[str, Any]]) -> None:
        """Records the call, then lets the store move on as a live one would before the next call."""
        with self._lock:
            self.log.append({"query": query, "rows": len(rows), "ids": [r["id"] for r in rows], **filters})
            if not self._active():
                return
            self._applied += 1
            plan = self.plan
        if plan.clock_step_s:
            self.store.clock_offset += plan.clock_step_s
        for row in rows[:plan.edit_returned]:
            self.store.touch(row["id"])
        for _ in range(plan.create_per_call):
            made = self.store.create_order(dict(_NEW_ORDER))["id"]
            with self._lock:
                self.created.append(made)

    def order_fault(self, oid: int) -> bool:
        with self._lock:
            return oid in self.plan.broken_json

    def transactions_fault(self, oid: int) -> int | None:
        with self._lock:
            return self.plan.transactions_status.get(oid)
