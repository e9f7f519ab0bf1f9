"""Which partitions this member owns, and which offset of each is safe to commit.

Records finish out of order when different keys run concurrently, so the committable offset is the
first offset that is not finished yet: the commit never passes an unfinished record (Parallel
Consumer's rule). Each assignment of a partition is a new generation; work of an older generation
is ignored, and each generation has a `revoked` event that is set the moment its revocation
begins, so a record waiting out a backoff wakes at once instead of holding up the rebalance.
Only assigned partitions are tracked: a record of a partition this member does not own (fetched
before a revoke, returned after it) is refused, never given a fresh state to be committed from.
"""
from __future__ import annotations

import threading
from collections import deque

TopicPartitionKey = tuple[str, int]

_GONE = threading.Event()
_GONE.set()          # what `revoked_event` hands out for a generation that no longer exists


class _PartitionState:
    __slots__ = ("pending", "done", "committable", "generation", "revoked")

    def __init__(self, generation: int) -> None:
        self.pending: deque[int] = deque()
        self.done: set[int] = set()
        self.committable: int | None = None
        self.generation = generation
        self.revoked = threading.Event()


class OffsetTracker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parts: dict[TopicPartitionKey, _PartitionState] = {}
        self._generation = 0

    def assign(self, tp: TopicPartitionKey) -> int:
        with self._lock:
            old = self._parts.get(tp)
            if old is not None:
                old.revoked.set()
            self._generation += 1
            self._parts[tp] = _PartitionState(self._generation)
            return self._generation

    def close(self, tp: TopicPartitionKey) -> None:
        """Revocation has begun: running records may still finish, no new ones start, and records
        sleeping before a retry wake up."""
        with self._lock:
            st = self._parts.get(tp)
            if st:
                st.revoked.set()

    def revoke(self, tp: TopicPartitionKey) -> None:
        with self._lock:
            st = self._parts.pop(tp, None)
            if st:
                st.revoked.set()

    def assigned(self) -> set[TopicPartitionKey]:
        with self._lock:
            return set(self._parts)

    def generation(self, tp: TopicPartitionKey) -> int | None:
        with self._lock:
            st = self._parts.get(tp)
            return st.generation if st else None

    def is_current(self, tp: TopicPartitionKey, generation: int) -> bool:
        """False once the partition is being revoked: queued work for it must not start."""
        with self._lock:
            st = self._parts.get(tp)
            return st is not None and st.generation == generation and not st.revoked.is_set()

    def revoked_event(self, tp: TopicPartitionKey, generation: int) -> threading.Event:
        """Set when `generation` of `tp` starts being revoked (already set if it is gone)."""
        with self._lock:
            st = self._parts.get(tp)
            return st.revoked if st is not None and st.generation == generation else _GONE

    def add(self, tp: TopicPartitionKey, offset: int) -> int | None:
        """Registers a received record; returns its partition generation, or None when this member
        does not own the partition (or is giving it up), in which case the record must be dropped."""
        with self._lock:
            st = self._parts.get(tp)
            if st is None or st.revoked.is_set():
                return None
            st.pending.append(offset)
            return st.generation

    def done(self, tp: TopicPartitionKey, offset: int, generation: int) -> None:
        with self._lock:
            st = self._parts.get(tp)
            if st is None or st.generation != generation:
                return
            st.done.add(offset)
            while st.pending and st.pending[0] in st.done:
                finished = st.pending.popleft()
                st.done.discard(finished)
                st.committable = finished + 1

    def committable(self) -> dict[TopicPartitionKey, int]:
        with self._lock:
            return {tp: st.committable for tp, st in self._parts.items() if st.committable is not None}

    def outstanding(self) -> int:
        with self._lock:
            return sum(len(st.pending) for st in self._parts.values())
