"""Bounded concurrency across keys, strict order within a key.

ERP calls are slow, so records with different keys run in parallel on a thread pool, up to
`max_in_flight` at once; records with the same key queue behind each other and run one at a time in
arrival order (Parallel Consumer's KEY ordering mode).
"""
from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Hashable

Task = Callable[[], None]


class KeyedExecutor:
    def __init__(self, max_in_flight: int, name: str = "worker") -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_in_flight, thread_name_prefix=name)
        self._max = max_in_flight
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._queues: dict[Hashable, deque[Task]] = {}
        self._ready: deque[Hashable] = deque()   # keys with work waiting and none running
        self._running = 0
        self._queued = 0

    def submit(self, key: Hashable, task: Task) -> None:
        with self._lock:
            q = self._queues.get(key)
            if q is None:
                self._queues[key] = deque([task])
                self._ready.append(key)
            else:
                q.append(task)
            self._queued += 1
            self._start_ready()

    def _start_ready(self) -> None:
        while self._ready and self._running < self._max:
            key = self._ready.popleft()
            task = self._queues[key].popleft()
            self._queued -= 1
            self._running += 1
            self._pool.submit(self._run, key, task)

    def _run(self, key: Hashable, task: Task) -> None:
        try:
            task()
        finally:
            with self._lock:
                self._running -= 1
                if self._queues[key]:
                    self._ready.append(key)
                else:
                    del self._queues[key]
                self._start_ready()
                if self._running == 0 and self._queued == 0:
                    self._idle.notify_all()

    @property
    def load(self) -> int:
        """Tasks running plus tasks waiting."""
        with self._lock:
            return self._running + self._queued

    def wait_idle(self, timeout: float) -> bool:
        with self._lock:
            return self._idle.wait_for(lambda: self._running == 0 and self._queued == 0, timeout)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
