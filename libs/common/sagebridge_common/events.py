"""Helpers for the shared event metadata record and the handler-facing record types."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

Headers = list[tuple[str, bytes | None]]

# Every event the runtime publishes names its integration pair in this header too, so the consumer
# side can tell two pairs' records with the same key apart before decoding (coalescing: store A's
# SKU WIDGET-1 must not replace store B's).
PAIR_HEADER = "sagebridge.pair"


def pair_of_headers(headers: Headers | None) -> str | None:
    for name, value in headers or []:
        if name == PAIR_HEADER and value is not None:
            return value.decode()
    return None


def with_pair_header(output: "Output") -> Headers:
    """The output's headers plus PAIR_HEADER when its value names a pair and no header does yet."""
    headers = list(output.headers)
    value = output.value
    pair = (value.get("metadata") or {}).get("pair_id") if isinstance(value, dict) else None
    if pair and pair_of_headers(headers) is None:
        headers.append((PAIR_HEADER, str(pair).encode()))
    return headers


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_metadata(event_type: str, *, source_system: str, source_instance: str, source_entity_id: str,
                 pair_id: str, occurred_at: datetime, correlation_id: str | None = None) -> dict[str, Any]:
    """A fresh metadata record; `correlation_id` ties every event derived from one source change."""
    event_id = str(uuid.uuid4())
    return {
        "event_id": event_id,
        "event_type": event_type,
        "occurred_at": occurred_at,
        "recorded_at": utcnow(),
        "source_system": source_system,
        "source_instance": source_instance,
        "source_entity_id": source_entity_id,
        "pair_id": pair_id,
        "correlation_id": correlation_id or event_id,
    }


def derived_metadata(parent: dict[str, Any], event_type: str) -> dict[str, Any]:
    """Metadata for an event computed from `parent`: same source and correlation, new id."""
    return {**parent, "event_id": str(uuid.uuid4()), "event_type": event_type, "recorded_at": utcnow()}


@dataclass(frozen=True)
class Event:
    """A decoded input record as a handler sees it."""
    topic: str
    partition: int
    offset: int
    key: bytes | None
    schema: str
    value: dict[str, Any]
    headers: Headers
    timestamp_ms: int


@dataclass
class Output:
    """A record a handler wants produced; the runtime encodes, traces and delivers it.

    `schema=None` means `value` is already bytes (or None, a tombstone): keyed-state changelog
    records. `partition` pins the partition (changelogs mirror their input's); None = by key."""
    topic: str
    key: str | bytes | None
    schema: str | None
    value: dict[str, Any] | bytes | None
    headers: Headers = field(default_factory=list)
    partition: int | None = None

    def key_bytes(self) -> bytes | None:
        return self.key.encode() if isinstance(self.key, str) else self.key
