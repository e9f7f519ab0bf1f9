"""Latest source version per entity, kept in keyed state: an older or repeated version is dropped.

Two paths deliver every order change: polling and the push webhook. Each reads the order when it
runs, so a poll snapshot read before a webhook-fetched version can reach transform after it; mapping
it would overwrite the newer canonical order with the older one. Ingest stamps every raw record with
`source_version` (a zero-padded lastRenewDate stamp, then a hash of the record: versions of one
entity sort as strings), and this gate keeps, per (pair, storefront, entity), the latest version
mapped: older is dropped, equal is a repeat (the other path's copy) and dropped, newer is mapped.
Within one stamp (lastRenewDate has one-second resolution) versions cannot be ordered: a change
from declined to paid in the same second has two hashes under one stamp. So every hash seen under
the latest stamp is kept: a hash not seen yet is a change and is mapped, a hash seen before is a
repeat (a late copy of an earlier state of that second) and is dropped.
Records from producers that predate `source_version` fall back to a payload digest: the same payload
again is a repeat.

The state is keyed-state (`sagebridge_common.keyed_state`), so it survives restarts and
rebalances. A record whose own offset is the one recorded is a redelivery after a crash between the
changelog write and the commit: its canonical order may not have been acknowledged, so it passes.
"""
from __future__ import annotations

import hashlib
import logging

from prometheus_client import Counter

from sagebridge_common.events import Event, Output
from sagebridge_common.keyed_state import KeyedState

log = logging.getLogger(__name__)

VERSIONS_DROPPED = Counter(
    "sagebridge_stale_versions_dropped_total",
    "Raw storefront records not mapped because an equal (repeat) or newer version was already mapped",
    ["pair", "storefront", "entity", "reason"])


def entity_key(raw: dict) -> str:
    return "/".join((raw["metadata"]["pair_id"], raw["storefront"], raw["entity_type"], raw["entity_id"]))


def split_version(version: str) -> tuple[str, str]:
    """(stamp, rest): the leading digits are the zero-padded source stamp, the rest the record hash."""
    digits = len(version) - len(version.lstrip("0123456789"))
    return version[:digits], version[digits:].lstrip("-")


def payload_digest(payload: str) -> str:
    return hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()


class VersionGate:
    def __init__(self, state: KeyedState) -> None:
        self.state = state

    def admit(self, event: Event) -> bool:
        """False (logged and counted) when this record is older than, or the same as, what was mapped."""
        raw = event.value
        recorded = self.state.for_event(event).get(entity_key(raw))
        if recorded is None or recorded.get("offset") == event.offset:
            return True
        version, last = raw.get("source_version") or "", recorded.get("version") or ""
        if version and last:
            (stamp, digest), (last_stamp, _d) = split_version(version), split_version(last)
            if stamp != last_stamp:
                reason = "older" if stamp < last_stamp else None
            else:
                reason = "repeat" if digest in recorded.get("hashes", [split_version(last)[1]]) else None
        else:
            reason = "repeat" if recorded.get("digest") == payload_digest(raw["payload"]) else None
        if reason is None:
            return True
        VERSIONS_DROPPED.labels(raw["metadata"]["pair_id"], raw["storefront"], raw["entity_type"], reason).inc()
        log.info("raw record not mapped: a newer or equal version was", extra={
            "reason": reason, "entity_type": raw["entity_type"], "entity_id": raw["entity_id"],
            "source_version": version, "mapped_version": last, "partition": event.partition, "offset": event.offset})
        return False

    def remember(self, event: Event) -> Output:
        """Records the event's version (call once it mapped); returns the changelog record."""
        raw = event.value
        view = self.state.for_event(event)
        key = entity_key(raw)
        previous = view.get(key) or {}
        version = raw.get("source_version") or previous.get("version") or ""
        stamp, digest = split_version(version)
        same_second = previous.get("hashes", []) if split_version(previous.get("version") or "")[0] == stamp else []
        hashes = same_second + ([digest] if digest not in same_second else [])
        return view.set(key, {"version": version, "hashes": hashes[-50:], "digest": payload_digest(raw["payload"]),
                              "offset": event.offset})
