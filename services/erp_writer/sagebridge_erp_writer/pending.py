"""Which orders erp_writer has taken in and not yet written, so "an order is not in the ERP after N
minutes" is one gauge an alert can compare (`sagebridge_erp_oldest_unwritten_order_age_seconds`).

An order is pending from its first attempt until the writer returns a result for it (created,
already present, skipped, ...) or dead-letters it (the DLQ alert speaks for those). A transient
failure (the ERP down, a 503, a lost answer) keeps it pending while the processor retries, which
is exactly the case the alert exists for. Its age counts from the record's timestamp on
commerce.orders.v1 (when the hub had the order), not from the first attempt, so a backlog that
sat in Kafka counts too once it is read.

A record whose partition moves to another instance is its new owner's to report: the processor's
`on_revoke` (this is one of its partition listeners) drops the partition's entries. As a safety
net, every retry touches its entry and one untouched for `stale_after_s` (well above the retry
backoff cap) is dropped too.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable

from sagebridge_common import metrics
from sagebridge_common.events import Event


@dataclass
class _Entry:
    since: float
    touched: float
    partition: tuple[str, int]


class PendingOrders:
    """Pending orders per pair; exported at scrape time, never stored in the gauge."""

    def __init__(self, *, stale_after_s: float = 300.0, clock: Callable[[], float] = time.time) -> None:
        self.stale_after_s = stale_after_s
        self._clock = clock
        self._lock = threading.Lock()
        self._by_pair: dict[str, dict[str, _Entry]] = {}

    def export(self, connector: str, pair_id: str) -> None:
        """Publishes the pair's gauges (0 from start, so the series exist before the first order)."""
        with self._lock:
            self._by_pair.setdefault(pair_id, {})
        metrics.ERP_OLDEST_UNWRITTEN_ORDER_AGE.labels(connector, pair_id).set_function(lambda: self.oldest_age(pair_id))
        metrics.ERP_UNWRITTEN_ORDERS.labels(connector, pair_id).set_function(lambda: self.count(pair_id))

    def started(self, pair_id: str, key: str, event: Event) -> None:
        now = self._clock()
        since = event.timestamp_ms / 1000 if event.timestamp_ms > 0 else now
        with self._lock:
            entries = self._by_pair.setdefault(pair_id, {})
            entry = entries.get(key)
            if entry is None:
                entries[key] = _Entry(min(since, now), now, (event.topic, event.partition))
            else:
                entry.touched = now

    def finished(self, pair_id: str, key: str) -> None:
        with self._lock:
            self._by_pair.get(pair_id, {}).pop(key, None)

    def on_assign(self, partitions: Iterable[tuple[str, int]]) -> None:
        """Nothing to do: an order counts from its first attempt here."""

    def on_revoke(self, partitions: Iterable[tuple[str, int]]) -> None:
        gone = set(partitions)
        with self._lock:
            for entries in self._by_pair.values():
                for key in [k for k, e in entries.items() if e.partition in gone]:
                    del entries[key]

    def _live(self, pair_id: str) -> list[_Entry]:
        now = self._clock()
        with self._lock:
            entries = self._by_pair.get(pair_id, {})
            for key in [k for k, e in entries.items() if now - e.touched > self.stale_after_s]:
                del entries[key]
            return list(entries.values())

    def oldest_age(self, pair_id: str) -> float:
        live = self._live(pair_id)
        return max(0.0, self._clock() - min(e.since for e in live)) if live else 0.0

    def count(self, pair_id: str) -> float:
        return float(len(self._live(pair_id)))
