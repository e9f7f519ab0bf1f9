"""What change capture last emitted for each row: a hash per (pair, table, row key), kept in Kafka.

A polled table has no change log, so "this row changed" means "its captured value differs from
the one emitted last". The hashes live in a compacted topic (`topics.ERP_CDC_ROWS`, key
`<pair>|<table>|<row key>`, value `{"h": "<hash>"}`, a tombstone once the row is deleted), read whole
at start like a link table (`link_table.LinkTable`), so an overlap re-read after a restart or on
another replica still recognises what was already sent.

Unlike a link table's `put`, nothing here changes before it is durable: `commit(puts, deletes)`
is called after the page's events were acknowledged; it produces the hash records, waits for their
acknowledgement, and only then updates memory. A crash in between loses nothing: the events are out,
the hashes not yet, so the rows are read and emitted again (at-least-once, never lost).

The tail keeps running: a record it reads back that is older than what this owner committed since
(its own earlier write, read late) must not roll memory back, so committed values stay "unconfirmed"
until the tail has read exactly them back.
"""
from __future__ import annotations

import hashlib
import json
from typing import Iterable

from .events import Output
from .link_table import LinkTable, LinkTableNotReady

_GONE = object()


def row_hash(value_text: str) -> str:
    """A stable hash of a row's captured value (the `after` JSON text, keys sorted)."""
    return hashlib.sha256(value_text.encode()).hexdigest()[:24]


class RowMemory(LinkTable):
    """`app`: the runtime App whose producer writes the hash records (`publish_sync`)."""

    def __init__(self, app, topic: str, *, name: str = "cdc-rows", get_wait_s: float = 5.0) -> None:
        super().__init__(app.settings, name, topic, get_wait_s=get_wait_s)
        self.app = app
        self._mine: dict[str, object] = {}          # committed by this owner, not yet read back

    @staticmethod
    def key(pair_id: str, table: str, row_key: str) -> str:
        return f"{pair_id}|{table}|{row_key}"

    def hash_of(self, key: str) -> str | None:
        if not self._caught_up.wait(self.get_wait_s):
            raise LinkTableNotReady(f"row memory is still reading {self.topic} ({self._detail})",
                                    reason="row_memory_not_ready")
        with self._lock:
            mine = self._mine.get(key)
            if mine is _GONE:
                return None
            if mine is not None:
                return str(mine)
            value = self._data.get(key)
        return value.get("h") if isinstance(value, dict) else None

    def keys_with_prefix(self, prefix: str) -> set[str]:
        """Every remembered row key starting with `prefix` (reconciliation: `<pair>|<table>|`)."""
        with self._lock:
            found = {k for k in self._data if k.startswith(prefix)}
            for k, v in self._mine.items():
                if k.startswith(prefix):
                    (found.discard if v is _GONE else found.add)(k)
        return found

    def commit(self, puts: dict[str, str], deletes: Iterable[str] = ()) -> None:
        """Durably remembers `puts` (key -> hash) and forgets `deletes`, then updates memory."""
        gone = list(deletes)
        outputs = [Output(self.topic, k, None, _encode(h)) for k, h in puts.items()]
        outputs += [Output(self.topic, k, None, None) for k in gone]
        if not outputs:
            return
        self.app.publish_sync(outputs)
        with self._lock:
            self._mine.update(puts)
            for k in gone:
                self._mine[k] = _GONE

    def _apply(self, key: bytes | None, value: bytes | None, stamp: float) -> None:
        """A row's hash never expires (no max_age_s), so `stamp` is not used."""
        if key is None:
            return
        k = key.decode()
        with self._lock:
            mine = self._mine.get(k)
            if (value is None and mine is _GONE) or (value is not None and mine is not None and mine is not _GONE
                                                     and value == _encode(str(mine))):
                del self._mine[k]
            if value is None:
                self._data.pop(k, None)
                return
            try:
                self._data[k] = json.loads(value)
            except ValueError:
                pass


def _encode(h: str) -> bytes:
    return json.dumps({"h": h}, separators=(",", ":")).encode()


class DictRowMemory:
    """The same interface held in a dict, durable only for the process's life: for unit tests of a
    capture, and one-off tools that must not write to the cluster's row memory."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    def hash_of(self, key: str) -> str | None:
        return self.data.get(key)

    def keys_with_prefix(self, prefix: str) -> set[str]:
        return {k for k in self.data if k.startswith(prefix)}

    def commit(self, puts: dict[str, str], deletes: Iterable[str] = ()) -> None:
        self.data.update(puts)
        for k in deletes:
            self.data.pop(k, None)

    def ready(self) -> tuple[bool, str]:
        return True, "in memory"
