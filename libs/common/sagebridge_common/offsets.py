"""Which offset of each partition is safe to commit.

Records finish out of order when different keys run concurrently, so the committable offset is the
first offset that is not finished yet: the commit never passes an unfinished record (Parallel
Consumer's rule). Records of a revoked partition belong to an old generation and are ignored.
"""
from __future__ import annotations

import threading
from collections import deque

TopicPartitionKey = tuple[str, int]


class _PartitionState:
    __slots__ = ("pending", "done", "committable", "generation", "closing")

    def __init__(self, generation: int) -> None:
        self.closing = False
        self.pending: deque[int] = deque()
        self.done: set[int] = set()
        self.committable: int | None = None
        self.generation = generation


class OffsetTracker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parts: dict[TopicPartitionKey, _PartitionState] = {}
        self._generation = 0

    def assign(self, tp: TopicPartitionKey) -> int:
        with self._lock:
            self._generation += 1
            self._parts[tp] = _PartitionState(self._generation)
            return self._generation

    def revoke(self, tp: TopicPartitionKey) -> None:
        with self._lock:
            self._parts.pop(tp, None)

    def generation(self, tp: TopicPartitionKey) -> int | None:
        with self._lock:
            st = self._parts.get(tp)
            return st.generation if st else None

    def is_current(self, tp: TopicPartitionKey, generation: int) -> bool:
        """False once the partition is being revoked: queued work for it must not start."""
        with self._lock:
            st = self._parts.get(tp)
            return st is not None and st.generation == generation and not st.closing

    def close(self, tp: TopicPartitionKey) -> None:
        """Revocation has begun: running records may still finish, no new ones start."""
        with self._lock:
            st = self._parts.get(tp)
            if st:
                st.closing = True

    def add(self, tp: TopicPartitionKey, offset: int) -> int:
        """Registers a received record; returns the partition generation it belongs to."""
        with self._lock:
            st = self._parts.get(tp)
            if st is None:
                self._generation += 1
                st = self._parts[tp] = _PartitionState(self._generation)
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
