"""A process-wide cap on requests in flight against one Intacct company.

Intacct's performance tiers allow a fixed number of concurrent API requests per company ("most
customers are allowed 2", intacct.md §5); above it the gateway answers 429 GW-0010. Every gateway
instance of a process (several pairs, the writer and a ledger) shares one semaphore per
(login host, company id), so the process as a whole stays under erp.max_concurrency. The first
gateway to ask for a key sets its size; a later one asking for a smaller cap lowers nothing (logged).
"""
from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from typing import Iterator

log = logging.getLogger(__name__)

_lock = threading.Lock()
_slots: dict[tuple[str, str], tuple[int, threading.BoundedSemaphore]] = {}


def semaphore(key: tuple[str, str], size: int) -> threading.BoundedSemaphore:
    with _lock:
        held = _slots.get(key)
        if held is None:
            held = _slots[key] = (size, threading.BoundedSemaphore(size))
        elif held[0] != size:
            log.warning("intacct max_concurrency differs between pairs of one company; keeping the first",
                        extra={"company": key[1], "kept": held[0], "asked": size})
        return held[1]


@contextmanager
def slot(sem: threading.BoundedSemaphore) -> Iterator[None]:
    sem.acquire()
    try:
        yield
    finally:
        sem.release()
