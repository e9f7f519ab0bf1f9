"""Coalescing: per Kafka key, only the latest record of a burst is processed.

Latest-value streams (stock levels, product state) change far faster than a store accepts writes:
a warehouse receipt can move one SKU's quantity fifty times in a second, and writing every value
costs fifty calls for one visible result. So the processor holds a record per key for a settle
window: a newer record of the same key replaces the held one (which is completed at once, without
being handled), and when no newer record came for `window_s` - or the key has been held for
`max_hold_s`, so a key that never stops changing is still written - the held record is released
to the workers.

Offsets stay safe: a replaced record has a lower offset than the record replacing it, which is
still unfinished, so the committed offset never passes the value that will be written. After a
crash the held record is read again from the last commit.

Only for topics whose records are states, never for events that each matter (a shipment).
The loop that owns the consumer calls `offer` and `due`, so all of it runs on one thread; the lock
only guards the read of `len()` from elsewhere (health, metrics).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Iterable

from prometheus_client import Counter

COALESCED = Counter("sagebridge_coalesced_records_total",
                    "Records completed without processing because a newer record of the same key replaced them",
                    ["service", "topic"])


@dataclass
class _Held:
    item: Any
    first_at: float
    last_at: float


class Coalescer:
    def __init__(self, window_s: float, max_hold_s: float, topics: Iterable[str] | None = None, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """`topics`: the topics whose records are coalesced (None: all)."""
        if window_s < 0 or max_hold_s < window_s:
            raise ValueError("need 0 <= window_s <= max_hold_s")
        self.window_s = window_s
        self.max_hold_s = max_hold_s
        self.topics = None if topics is None else frozenset(topics)
        self._clock = clock
        self._lock = threading.Lock()
        self._held: dict[Hashable, _Held] = {}

    def applies(self, topic: str) -> bool:
        return self.window_s > 0 and (self.topics is None or topic in self.topics)

    def offer(self, key: Hashable, item: Any) -> Any | None:
        """Holds `item` for `key`; returns the item it replaced (the caller completes it), or None."""
        now = self._clock()
        with self._lock:
            held = self._held.get(key)
            if held is None:
                self._held[key] = _Held(item, now, now)
                return None
            replaced, held.item, held.last_at = held.item, item, now
            return replaced

    def due(self) -> list[tuple[Hashable, Any]]:
        """The held items whose key settled (or was held too long), removed from the hold, in
        the order their keys were first held."""
        now = self._clock()
        out: list[tuple[Hashable, Any]] = []
        with self._lock:
            for key, held in list(self._held.items()):
                if now - held.last_at >= self.window_s or now - held.first_at >= self.max_hold_s:
                    out.append((key, held.item))
                    del self._held[key]
        return out

    def drop(self, keep: Callable[[Hashable, Any], bool]) -> list[Any]:
        """Forgets held items for which `keep(key, item)` is false (their partition was revoked:
        the new owner reads them again from the last commit); returns them."""
        with self._lock:
            gone = [(k, h.item) for k, h in self._held.items() if not keep(k, h.item)]
            for k, _ in gone:
                del self._held[k]
        return [item for _, item in gone]

    def __len__(self) -> int:
        with self._lock:
            return len(self._held)
