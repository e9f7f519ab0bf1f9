"""The Sage rows transform combines, per entity, in keyed state (topic TRANSFORM_ERP_CHANGELOG).

One record per (pair, entity kind, entity key): an item holds its ICITEM, ICILOC and ICPRICP rows,
an order its OEORDH and OEORDH1, a shipment its OESHIH and OESHID, a customer its ARCUS row. The
Kafka key of erp.raw.v1 is the entity key, so all of an entity's rows share one input partition
and one state partition. Each row keeps its captured JSON, its position, the input offset that
wrote it and its change time; a delete keeps a tombstone (position, and the last values, so a
deleted item still has its formatted number) so that a late older upsert cannot revive it.

Ordering: a row whose position is older than or equal to the one kept is dropped (CDC overlap
re-reads and redeliveries after a restart must not bring an older value back). The exception is
the record at the very offset that wrote the kept row: a crash between the changelog write and the
offset commit redelivers it, and its outputs may not have been acknowledged, so it passes and
its outputs (recomputed from the same state) are produced again.

Versions: an output computed from several rows (an order's OEORDH and OEORDH1, an item's ICILOC
rows) cannot take the newest row position alone as its `source_version`. Sage stamps the rows of
one posting with the same or nearly the same AUDTDATE/AUDTTIME, and a poll reads one table after
the other, so a posting that commits between two reads shows its later row first and its earlier
row one poll later: the second output then has the same newest position as the first one and the
store writer skips it as not newer (a shipped order kept "partially shipped" in the store). So
the entity counts its admitted rows (`revision`, not counting a redelivery of the same offset) and
a version is the newest position, `#`, the zero-padded count: still the ERP stamp first, larger
whenever any row of the entity changed, and the same for a redelivered record. `#` sorts below
every character of a position, so a version still compares like its position.
"""
from __future__ import annotations

import logging
from typing import Any, Iterable

from prometheus_client import Counter

from sagebridge_common.events import Event, Output
from sagebridge_common.keyed_state import KeyedState

from .rows import Row, parse_after

log = logging.getLogger(__name__)

STALE_ROWS = Counter("sagebridge_erp_stale_rows_dropped_total",
                     "erp.raw.v1 rows not mapped: a newer or equal position of the row was already mapped",
                     ["pair", "table"])


class Entity:
    """The kept rows of one entity, as a handler reads and changes them."""

    def __init__(self, key: str, record: dict[str, Any] | None) -> None:
        self.key = key
        self.record: dict[str, Any] = record or {"rows": {}}

    def rows(self, table: str) -> dict[str, dict]:
        """{row key: kept row} of one table, tombstones included."""
        prefix = table + "|"
        return {k[len(prefix):]: v for k, v in self.record["rows"].items() if k.startswith(prefix)}

    def live(self, table: str) -> dict[str, dict[str, Any]]:
        """{row key: values} of one table's rows that exist (not deleted)."""
        return {k: parse_after(v["after"], f"{table} {k}") for k, v in sorted(self.rows(table).items())
                if v.get("after") is not None}

    def one(self, table: str) -> dict[str, Any] | None:
        """The values of the entity's single row of `table` (header tables), None when unknown or deleted."""
        rows = self.live(table)
        return next(iter(rows.values()), None)

    def last_values(self, table: str) -> dict[str, Any] | None:
        """The last known values of the single row of `table`, also once it is deleted."""
        kept = next(iter(self.rows(table).values()), None)
        if kept is None:
            return None
        return parse_after(kept.get("after") or kept.get("last"), table)

    def positions(self, table: str) -> list[str]:
        return [v["position"] for v in self.rows(table).values()]

    @property
    def revision(self) -> int:
        """How many row changes the entity has admitted (a redelivery of the same offset not counted)."""
        return int(self.record.get("revision", 0))

    def version(self, positions: Iterable[str]) -> str:
        """The `source_version` of an output computed from the rows at `positions` (see the module doc)."""
        newest = max(positions, default="")
        return f"{newest}#{self.revision:010d}" if newest else ""

    def admits(self, row: Row, offset: int) -> bool:
        kept = self.record["rows"].get(f"{row.table}|{row.key}")
        if kept is None or kept.get("offset") == offset:
            return True
        return row.position > kept["position"]

    def put(self, row: Row, offset: int) -> None:
        name = f"{row.table}|{row.key}"
        previous = self.record["rows"].get(name) or {}
        kept = {"after": row.after, "position": row.position, "offset": offset, "at": row.occurred_at.isoformat()}
        if row.deleted:
            kept["last"] = previous.get("after") or previous.get("last")
        self.record["rows"][name] = kept
        if previous.get("offset") != offset:
            self.record["revision"] = self.revision + 1

    def extra(self, name: str, default: Any = None) -> Any:
        return self.record.get(name, default)

    def set_extra(self, name: str, value: Any) -> None:
        self.record[name] = value


class EntityStore:
    def __init__(self, state: KeyedState) -> None:
        self.state = state

    def load(self, event: Event, key: str) -> Entity:
        return Entity(key, self.state.for_event(event).get(key))

    def gate(self, entity: Entity, row: Row, event: Event) -> bool:
        """False (logged and counted) for a row older than, or the same as, the one kept."""
        if entity.admits(row, event.offset):
            return True
        kept = entity.record["rows"][f"{row.table}|{row.key}"]["position"]
        STALE_ROWS.labels(row.metadata.get("pair_id", ""), row.table).inc()
        log.info("erp row not mapped: a newer or equal position was", extra={
            "table": row.table, "row_key": row.key, "position": row.position, "kept_position": kept,
            "partition": event.partition, "offset": event.offset})
        return False

    def save(self, event: Event, entity: Entity) -> Output:
        """The changelog record of the entity (put it last in the handler's outputs)."""
        return self.state.for_event(event).set(entity.key, entity.record)
