"""What the polled-table captures (`table_capture.TableCapture`, `snapshot_capture.SnapshotCapture`)
do alike once a page is answered: the listing row is the record, and the page's row hashes reach
`row_memory.RowMemory` only when the runner says its events were acknowledged, never before (a
crash in between re-reads and re-emits: at-least-once, never lost).

A capture keeps `self._pending[stream] = (page, puts, deletes)` for the page it answered last.
"""
from __future__ import annotations

from typing import Any

from prometheus_client import Counter

from .contracts import Change, ChangePage, SourceRecord

CDC_CHANGES = Counter("sagebridge_cdc_changes_total", "Row changes emitted (new distinct values, deletes)",
                      ["pair", "table", "op"])


class CommitOnDelivery:
    pair_id: str
    memory: Any
    _pending: dict[str, tuple[ChangePage, dict[str, str], list[str]]]

    def fetch(self, change: Change) -> SourceRecord:
        """The listing row is the record (the read took every captured column)."""
        return SourceRecord(change.entity_type, change.entity_id, change.version, change.occurred_at,
                            dict(change.listing or {}))

    def delivered(self, stream: str, page: ChangePage) -> None:
        """The page's events are acknowledged: remember their values (before the cursor is saved)."""
        pending = self._pending.get(stream)
        if pending is None or pending[0] is not page:      # not the page this source answered last
            return
        del self._pending[stream]
        _page, puts, deletes = pending
        self.memory.commit(puts, deletes)
        for op, n in (("upsert", len(puts)), ("delete", len(deletes))):
            if n:
                CDC_CHANGES.labels(self.pair_id, stream, op).inc(n)
