"""One document = one database transaction, tried again whole on a transient error.

Why whole: a lock timeout in the middle of an order leaves nothing to resume from; the database has
rolled back (or is told to), and the next try starts again from the guard, which is what makes a
retry safe (a try whose commit did reach the database finds its own order and answers
already_present). After `write_tries` the transient error goes to the runtime, which retries later
without holding the lock. Any other exception rolls back too: psqlODBC runs each statement in its
own savepoint by default, so after a failed statement the transaction is still open and a commit
would keep the statements before it. Nothing here ever commits after an error.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable, TypeVar

from sagebridge_common.errors import TransientError

from .errors import StatementFailed, classify
from .odbc import Pool

log = logging.getLogger(__name__)
T = TypeVar("T")


class Tx:
    """A transaction on one connection; `execute` tags driver errors with what was written."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.discarded = False

    def execute(self, sql: str, params: Any = (), context: str = "") -> Any:
        cur = self.conn.cursor()
        try:
            cur.execute(sql, params)
        except Exception as e:
            raise StatementFailed(e, context) from e
        return cur

    def executemany(self, sql: str, rows: list, context: str = "") -> None:
        cur = self.conn.cursor()
        try:
            cur.executemany(sql, rows)
        except Exception as e:
            raise StatementFailed(e, context) from e

    def fetchall(self, sql: str, params: Any = (), context: str = "") -> list:
        return self.execute(sql, params, context).fetchall()

    def discard(self) -> None:
        """End with a rollback instead of a commit (the guard found the document)."""
        self.discarded = True


def _rollback(conn: Any) -> None:
    try:
        conn.rollback()
    except Exception:          # the connection is gone: the server rolled back itself
        pass


class Transactions:
    def __init__(self, pool: Pool, tries: int, backoff_s: float, sleep: Callable[[float], None] = time.sleep) -> None:
        self.pool, self.tries, self.backoff_s, self._sleep = pool, tries, backoff_s, sleep
        self.last_success: float | None = None     # time.monotonic() of the last transaction that ended well

    def run(self, work: Callable[[Tx], T], what: str) -> T:
        for attempt in range(1, self.tries + 1):
            try:
                return self._once(work)
            except Exception as e:
                err = classify(e)
                if isinstance(err, TransientError) and attempt < self.tries:
                    log.info("transient database error; trying the transaction again",
                             extra={"document": what, "attempt": attempt, "error": str(err)[:200]})
                    self._sleep(self.backoff_s * 2 ** (attempt - 1))
                    continue
                if err is e:
                    raise
                raise err from e
        raise AssertionError("unreachable")

    def _once(self, work: Callable[[Tx], T]) -> T:
        with self.pool.lend() as conn:
            tx = Tx(conn)
            try:
                result = work(tx)
            except BaseException:
                _rollback(conn)
                raise
            if tx.discarded:
                _rollback(conn)
            else:
                try:
                    conn.commit()
                except Exception as e:
                    _rollback(conn)
                    raise StatementFailed(e, "commit") from e
            self.last_success = time.monotonic()
            return result
