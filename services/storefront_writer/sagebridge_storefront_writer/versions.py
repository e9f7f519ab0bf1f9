"""The last written `source_version` per key, so an older value never overwrites a newer one.

Coalescing keeps only the latest record of a burst, but a redelivery after a crash, a replay, or
an ERP re-save can still bring an older version after a newer one was written. Each event carries
`source_version` (sortable as a string: the ERP stamp first, contract §1/§3); the writer skips an
event whose version is at or below the last one written for its key, and remembers the version of
every write in keyed state, so the rule survives restarts and rebalances.

Keyed state belongs to one input topic (its partitions are the input's), and all five inputs share
the one changelog `STOREFRONT_WRITER_VERSIONS_CHANGELOG`: one `KeyedState` per input topic, each
key prefixed with its topic, so partition p of the changelog holds the keys of partition p of
every input and no two topics' keys collide. Restoring a partition reads the other topics' keys
of that partition too (ignored; their own state holds them): one changelog topic to operate
instead of five, for a little memory.
"""
from __future__ import annotations

from sagebridge_common.events import Event, Output
from sagebridge_common.keyed_state import KeyedState
from sagebridge_common.settings import Settings
from sagebridge_common.topics import STOREFRONT_WRITER_VERSIONS_CHANGELOG


class VersionGate:
    def __init__(self, settings: Settings, topics: list[str],
                 changelog: str = STOREFRONT_WRITER_VERSIONS_CHANGELOG) -> None:
        self.states = {t: KeyedState(settings, f"versions:{t}", t, changelog) for t in topics}

    @staticmethod
    def state_key(event: Event, subkey: str | None = None) -> str:
        """Topic, pair, key: two pairs' stores share the topics and can share a key (order number
        1051 in both), and one store's version must never make the other's event look stale."""
        key = event.key.decode() if isinstance(event.key, bytes) else str(event.key)
        pair = (event.value.get("metadata") or {}).get("pair_id")
        return "|".join(p for p in (event.topic, pair, key, subkey) if p)

    def last(self, event: Event, subkey: str | None = None) -> str | None:
        return self.states[event.topic].for_event(event).get(self.state_key(event, subkey))

    def is_stale(self, event: Event, version: str, subkey: str | None = None) -> str | None:
        """The last written version when `version` is not newer than it, else None. An event
        without a version is never stale (nothing to compare)."""
        last = self.last(event, subkey)
        return last if version and last is not None and version <= last else None

    def remember(self, event: Event, version: str, subkey: str | None = None) -> list[Output]:
        if not version:
            return []
        return [self.states[event.topic].for_event(event).set(self.state_key(event, subkey), version)]
