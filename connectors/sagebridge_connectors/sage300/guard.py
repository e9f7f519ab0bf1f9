"""Which customers make Sage 300 refuse a repeated PO number itself.

Sage 300's customer option CheckForDuplicatePOs (ARCUS.SWCHKDUPPO: 0 None, 1 Warning, 2 Error; Sage
AOM, ARCUS) set to Error makes O/E refuse a second order with the same PO number for that customer.
For those customers the sink can post without looking the order up first: a repeat is refused, and
the refusal means "already there". Warning and None accept the repeat, so they keep the lookup.

The option is read once per customer (GET AR/ARCustomers('<id>')) and kept `ttl_s`; an entry is
dropped at once when Sage contradicts it (`forget`): a refusal for a customer cached as unguarded,
or two orders with one reference for a customer cached as guarded. A customer whose option cannot
be read counts as unguarded (the safe side: lookup before create).
"""
from __future__ import annotations

import threading
import time
from typing import Callable


class DuplicatePoGuards:
    def __init__(self, read: Callable[[str], str], ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._read = read
        self._ttl = ttl_s
        self._clock = clock
        self._cache: dict[str, tuple[bool, float]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self.reads = 0

    def guarded(self, customer: str) -> bool:
        """True when the customer's CheckForDuplicatePOs is Error (read at most once per TTL; one
        reader per customer at a time, so a burst of orders costs one read)."""
        hit = self._fresh(customer)
        if hit is not None:
            return hit
        with self._lock:
            lock = self._locks.setdefault(customer, threading.Lock())
        with lock:
            hit = self._fresh(customer)
            if hit is not None:
                return hit
            self.reads += 1
            value = self._read(customer) == "Error"
            with self._lock:
                self._cache[customer] = (value, self._clock())
            return value

    def cached(self, customer: str) -> bool | None:
        """What the cache believes now, without reading (None: nothing fresh)."""
        return self._fresh(customer)

    def remember(self, customer: str, option: str) -> None:
        """Record an option learnt without a read (a customer just created, or found by e-mail with
        its CheckForDuplicatePOs in the entry), so the order POST right after needs no extra read."""
        with self._lock:
            self._cache[customer] = (option == "Error", self._clock())

    def forget(self, customer: str) -> None:
        with self._lock:
            self._cache.pop(customer, None)

    def _fresh(self, customer: str) -> bool | None:
        with self._lock:
            entry = self._cache.get(customer)
        if entry is None or self._clock() - entry[1] >= self._ttl:
            return None
        return entry[0]
