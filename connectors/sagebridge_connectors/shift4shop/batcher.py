"""Joins concurrent product writes into one `PUT /Products` array (issue 8, "Batching").

The store takes up to 100 products per `PUT /Products` (SkuVault sends 100 per call,
shift4shop.md §1.4) and answers one `{Key, Value, Status, Message}` per item, `Value` the
CatalogID. With a rate limit of a few calls per second, one call per SKU would take minutes for a
price list that one call per hundred SKUs writes in seconds.

How callers meet: `submit(catalog_id, item)` joins the open batch, or opens one and becomes its
leader. The leader waits until the batch holds `size` items or `wait_s` has passed since it
opened it, closes it and sends it; the others block on their own item. Each caller gets back its
own item's result: a failed item raises for that caller only; a transient failure of the whole
call raises it to every caller in it (each retries on its own, and the retries meet in a later
batch). A whole call the store refuses (400) may be one bad item spoiling the array, so the batch
is split in halves and re-sent until the bad items stand alone.

Two writes of one CatalogID never share a batch and never overtake each other: a second write
waits until the batch holding the first has its answer, then joins the next. The runtime already
serialises writes per key; keeping them apart here (never merging two items into one) keeps its
last-write-wins order exact.
"""
from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from sagebridge_common.errors import PermanentError, SagebridgeError, TransientError

from .api import ItemResult

Send = Callable[[list[dict[str, Any]]], list[ItemResult]]


@dataclass(eq=False)
class _Slot:
    catalog_id: int
    item: dict[str, Any]
    done: threading.Event = field(default_factory=threading.Event)
    result: ItemResult | None = None
    error: BaseException | None = None


@dataclass(eq=False)
class _Batch:
    slots: list[_Slot] = field(default_factory=list)
    closed: bool = False


class ProductBatcher:
    def __init__(self, send: Send, *, size: int, wait_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        if size < 1:
            raise ValueError("size must be >= 1")
        self._send = send
        self.size = size
        self.wait_s = max(0.0, wait_s)
        self._clock = clock
        self._cond = threading.Condition()
        self._open: _Batch | None = None
        self._pending: set[int] = set()       # CatalogIDs in a batch that has no answer yet
        self.calls = 0                        # PUT /Products calls sent (for tests and the log)

    def submit(self, catalog_id: int, item: dict[str, Any]) -> ItemResult:
        """Blocks until the item's own answer; raises the item's error (see the module docstring)."""
        slot = _Slot(int(catalog_id), item)
        with self._cond:
            while slot.catalog_id in self._pending:
                self._cond.wait()
            batch, leader = self._open, False
            if batch is None:
                batch, leader = _Batch(), True
                self._open = batch
            batch.slots.append(slot)
            self._pending.add(slot.catalog_id)
            if len(batch.slots) >= self.size:
                self._close(batch)
        if leader:
            self._lead(batch)
        slot.done.wait()
        if slot.error is not None:
            raise copy.copy(slot.error)     # one instance per caller: tracebacks stay their own
        assert slot.result is not None
        return slot.result

    def _close(self, batch: _Batch) -> None:
        batch.closed = True
        if self._open is batch:
            self._open = None
        self._cond.notify_all()

    def _lead(self, batch: _Batch) -> None:
        deadline = self._clock() + self.wait_s
        with self._cond:
            while not batch.closed:
                remaining = deadline - self._clock()
                if remaining <= 0:
                    self._close(batch)
                    break
                self._cond.wait(remaining)
        try:
            self._deliver(batch.slots)
        finally:
            with self._cond:
                self._pending.difference_update(s.catalog_id for s in batch.slots)
                self._cond.notify_all()
            for s in batch.slots:
                s.done.set()

    def _deliver(self, slots: list[_Slot]) -> None:
        """Sends the slots' items and gives each slot its result or error."""
        try:
            with self._cond:
                self.calls += 1
            results = self._send([s.item for s in slots])
        except PermanentError as e:
            if len(slots) > 1 and e.reason == "shift4shop_refused":
                half = len(slots) // 2
                self._deliver(slots[:half])
                self._deliver(slots[half:])
                return
            _fail(slots, e)
            return
        except SagebridgeError as e:
            _fail(slots, e)
            return
        except Exception as e:          # a bug must not leave callers blocked for ever
            _fail(slots, e)
            return
        by_value = {r.value.strip(): r for r in results if r.value}
        for i, s in enumerate(slots):
            r = by_value.get(str(s.catalog_id))
            if r is None and len(results) == len(slots) and not results[i].value:
                r = results[i]          # no Value to match by: the answers are in the items' order
            if r is None:
                s.error = TransientError(f"Shift4Shop's answer to PUT /Products names no result for "
                                         f"CatalogID {s.catalog_id}; re-sending is harmless",
                                         reason="shift4shop_no_item_result")
            else:
                s.result = r


def _fail(slots: list[_Slot], error: BaseException) -> None:
    for s in slots:
        s.error = error
