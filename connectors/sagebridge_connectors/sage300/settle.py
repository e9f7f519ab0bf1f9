"""Writes whose answer was lost: wait until Sage has had time to commit, then look up, then post.

A POST that creates a document with a generated key (an O/E order, an A/R receipt or adjustment
batch, a G/L journal batch) makes a second document when repeated (Sage 300 SDK Developer
Reference §12: only resources with natural keys raise RecordDuplicate). When its answer is lost
(OutcomeUnknownError: a timeout after sending, a dropped connection, a 5xx) the document may still
be committing, so a lookup at once can miss it. `Settling` remembers the document's key; the next
attempt waits until `settle_delay_s` has passed since then, looks up, and posts only if the lookup
still finds nothing. After a restart that memory is gone, and a writer killed mid-POST may have left
a document still committing: so a restarted writer (`restart_hold`) treats every key as unknown since
its own start until `settle_delay_s` has passed: a lookup that finds the document answers at once,
one that misses defers the create until then (orders with the duplicate-PO guard need no hold, Sage
refuses the repeat itself). One implementation for every document kind.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, TypeVar

from sagebridge_common.contracts import WriteOutcome
from sagebridge_common.errors import OutcomeUnknownError

MEMORY = 10_000          # keys remembered (unknown outcomes, documents seen in Sage)
T = TypeVar("T")


class Memory:
    """A bounded, thread-safe map (oldest entries go first)."""

    def __init__(self, size: int = MEMORY) -> None:
        self._data: OrderedDict[str, Any] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            return self._data.get(key)

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._size:
                self._data.popitem(last=False)

    def pop(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)


class Settling:
    def __init__(self, settle_delay_s: float, clock: Callable[[], float], *, restart_hold: bool = False) -> None:
        self.delay = settle_delay_s
        self._clock = clock
        self._unknown = Memory()       # key -> clock() when its last POST's outcome became unknown
        self._hold_until = clock() + settle_delay_s if restart_hold else None

    def missed(self, key: str) -> None:
        """A lookup of `key` found nothing. Within `settle_delay_s` of this process's start that
        proves nothing (a previous run's POST of it may still be committing): raises
        OutcomeUnknownError (retry once the hold is over); afterwards returns at once."""
        if self._hold_until is None:
            return
        wait = self._hold_until - self._clock()
        if wait <= 0:
            self._hold_until = None
            return
        raise OutcomeUnknownError(f"{key} is not in Sage yet, but a POST of it by the writer's previous run may "
                                  f"still be committing; looking it up again in {wait:.1f}s",
                                  reason="sage300_settling_after_start", retry_after=wait)

    def settled(self, key: str) -> bool:
        """True when the last POST for `key` had an unknown outcome and has had time to settle
        (look up before posting again); raises OutcomeUnknownError (retry later) while it has not."""
        since = self._unknown.get(key)
        if since is None:
            return False
        wait = self.delay - (self._clock() - since)
        if wait > 0:
            raise OutcomeUnknownError(f"the last POST of {key} has an unknown outcome; looking it up "
                                      f"in {wait:.1f}s, once Sage has had {self.delay:g}s to commit it",
                                      reason="sage300_settling", retry_after=wait)
        return True

    def post(self, key: str, write: Callable[[], T]) -> T:
        """Run one POST for `key`; an unknown outcome is remembered and its retry put off until the
        settle delay has passed."""
        try:
            result = write()
        except OutcomeUnknownError as e:
            self._unknown.put(key, self._clock())
            e.retry_after = max(e.retry_after or 0.0, self.delay)
            raise
        self._unknown.pop(key)
        return result

    def forget(self, key: str) -> None:
        """The document was found in Sage: nothing is pending for it any more."""
        self._unknown.pop(key)

    def lookup_then_create(self, key: str, lookup: Callable[[], WriteOutcome | None],
                           create: Callable[[], WriteOutcome]) -> WriteOutcome:
        """The whole discipline for a document without a duplicate guard: settle, look up, create."""
        self.settled(key)
        found = lookup()
        if found is not None:
            self.forget(key)
            return found
        self.missed(key)
        return self.post(key, create)
