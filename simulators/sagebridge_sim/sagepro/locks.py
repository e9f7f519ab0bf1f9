"""Another Sage Pro user holding a lock: the fault the hub's writer must survive.

Why: Sage Pro users lock records and whole tables while they edit (VFP RLOCK/FLOCK; reference
sage300_sagepro.md §3 says only that the data is VFP tables reached through ODBC, the lock behaviour
is assumed from VFP). The writer must see a lock timeout or busy error, count it transient and
retry. A `LockHold` takes the lock on a connection of its own, reports `held` only once the
database granted it (tests wait for that, never sleep), and lets go after `seconds` or `release()`.

What each target takes:
- "numbering": the numbering row (PostgreSQL: a row lock by `UPDATE ... SET col = col`, the same
  statement the writer's lock step runs; SQLite: that UPDATE takes the database's write lock);
- a logical table ("order_header", "item_location", ...) or its physical name: PostgreSQL `LOCK TABLE
  ... IN EXCLUSIVE MODE` (readers pass, writers wait: as VFP FLOCK), `mode="all"` ACCESS EXCLUSIVE
  (readers wait too); SQLite has only a database lock: the write lock (WAL readers still pass).
Latency per statement cannot be injected on the database side; bench/ puts a delay proxy in front.
"""
from __future__ import annotations

import threading
import time
from typing import Any

from .db import SageProDb

MODES = {"write": "EXCLUSIVE", "all": "ACCESS EXCLUSIVE"}


class LockHold:
    def __init__(self, db: SageProDb, target: str, seconds: float, mode: str = "write") -> None:
        if mode not in MODES:
            raise ValueError(f"mode is one of {sorted(MODES)}")
        if seconds <= 0:
            raise ValueError("seconds must be positive")
        self.db, self.target, self.seconds, self.mode = db, target, float(seconds), mode
        self.table = self._physical(target)
        self.held = threading.Event()
        self.done = threading.Event()
        self._release = threading.Event()
        self.error: str | None = None
        self.taken_at: float | None = None
        self._thread = threading.Thread(target=self._run, name=f"sagepro-lock-{self.table}", daemon=True)

    def _physical(self, target: str) -> str:
        if target == "numbering":
            return self.db.name("numbering")
        if target in self.db.layout.tables:
            return self.db.name(target)
        physical = {self.db.name(t).lower() for t in self.db.layout.tables} | {self.db.name("numbering").lower()}
        if target.lower() not in physical:
            raise ValueError(f"no table {target!r} (logical: numbering, {', '.join(self.db.layout.tables)})")
        return target.lower()

    def start(self, timeout: float = 10.0) -> "LockHold":
        """Returns once the lock is held (raises when the database did not grant it in `timeout`)."""
        self._thread.start()
        for event in (self.held, self.done):
            if event.wait(timeout) or self.error:
                break
        if self.error or not self.held.is_set():
            raise RuntimeError(f"could not lock {self.table}: {self.error or 'timed out'}")
        return self

    def release(self) -> None:
        self._release.set()
        self._thread.join(timeout=10)

    def _statement(self) -> str:
        n = self.db.layout.numbering
        if self.table == self.db.name("numbering").lower():
            return f"UPDATE {self.table} SET {n.column} = {n.column}"
        if self.db.engine == "sqlite":          # any write statement takes SQLite's one write lock
            column = next(s.column for t in self.db.layout.tables if self.db.name(t).lower() == self.table
                          for s in self.db.table(t).columns.values())
            return f"UPDATE {self.table} SET {column} = {column} WHERE 1 = 0"
        return f"LOCK TABLE {self.table} IN {MODES[self.mode]} MODE"

    def _run(self) -> None:
        try:
            conn = self.db.connect()
        except Exception as e:  # noqa: BLE001 - reported to the caller of start()
            self.error = str(e)
            self.done.set()
            return
        try:
            conn.cursor().execute(self._statement())
            self.taken_at = time.monotonic()
            self.held.set()
            self._release.wait(self.seconds)
        except Exception as e:  # noqa: BLE001
            self.error = str(e)
        finally:
            try:
                conn.rollback()
            finally:
                conn.close()
                self.held.clear()
                self.done.set()

    def view(self) -> dict[str, Any]:
        left = None
        if self.held.is_set() and self.taken_at is not None:
            left = max(0.0, round(self.seconds - (time.monotonic() - self.taken_at), 3))
        return {"table": self.table, "target": self.target, "mode": self.mode, "seconds": self.seconds,
                "held": self.held.is_set(), "seconds_left": left, "error": self.error}


class LockBook:
    """The holds an app has taken, for `/_sim/faults`."""

    def __init__(self, db: SageProDb) -> None:
        self.db = db
        self.holds: list[LockHold] = []
        self.lock = threading.Lock()

    def hold(self, target: str, seconds: float, mode: str = "write") -> LockHold:
        hold = LockHold(self.db, target, seconds, mode).start()
        with self.lock:
            self.holds = [h for h in self.holds if not h.done.is_set()] + [hold]
        return hold

    def release_all(self) -> int:
        with self.lock:
            holds, self.holds = self.holds, []
        for h in holds:
            h.release()
        return len(holds)

    def view(self) -> list[dict[str, Any]]:
        with self.lock:
            return [h.view() for h in self.holds if not h.done.is_set()]
