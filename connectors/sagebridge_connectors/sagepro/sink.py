"""The Sage Pro ErpSink: each canonical document becomes rows of the company's tables, one database
transaction per document (there is no web API: reference sage300_sagepro.md §3).

| canonical | Sage Pro | exactly once by | module |
|---|---|---|---|
| Customer | arcust{co} row | e-mail lookup under the numbering row's lock | customers.py |
| Order | somast + soaddr + sotran rows | ponum guard read again under the lock | orders.py |
| Payment / Refund | - (no A/R cash tables known) | `skipped` | here |

At construction the live tables are checked against the layout (`layout_check.py`): a difference
raises `LayoutMismatch` and the writer does not start. A database that cannot be reached then
does not stop the start (the hub starts before the ERP's file server after a power cut): the
check runs before the first write instead, and until it has passed every write is a
TransientError and readiness says why. An empty connection string is "not set up": readiness names
the missing credential and writes wait.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

from sagebridge_common import metrics
from sagebridge_common.contracts import WriteOutcome
from sagebridge_common.errors import TransientError

from .config import SageProConfig
from .errors import classify
from .layout_check import LayoutMismatch, check_layout
from .numbering import NumberRow
from .odbc import Pool, default_connect
from .orders import OrderWriter
from .customers import CustomerWriter
from .transactions import Transactions

log = logging.getLogger(__name__)
CONNECTOR = "sagepro"
PING_FRESH_S = 30.0     # a transaction younger than this stands for readiness (see `ping`)
NOT_WRITTEN = ("Sage Pro: {what} are not written (the layout has no A/R cash tables; nothing public is known "
               "of them); reconcile does not expect them for this pair")


class SageProSink:
    kind = CONNECTOR

    def __init__(self, pair: Any, pool: Pool | None = None) -> None:
        self.pair = pair
        self.cfg: SageProConfig = pair.erp
        self.layout = self.cfg.table_layout
        self.pool = pool or Pool(default_connect(self.cfg), self.cfg.max_connections,
                                 wait_s=self.cfg.login_timeout_s + self.cfg.query_timeout_s)
        self.transactions = Transactions(self.pool, self.cfg.write_tries, self.cfg.retry_backoff_s)
        numbers = NumberRow(self.layout.numbering, self.cfg.company)
        mismatches = metrics.ERP_TOTAL_MISMATCH.labels(CONNECTOR, pair.pair)
        mismatches.inc(0)               # exported at 0, so the first mismatch is an increase alerts see
        self.orders = OrderWriter(pair, self.layout, self.transactions, numbers, mismatches)
        self.customers = CustomerWriter(pair, self.layout, self.transactions, numbers)
        self._checked = False
        self._check_lock = threading.Lock()
        self._last_check_error = ""
        if not self.cfg.missing_credentials():
            try:
                self.check_layout()
            except TransientError as e:
                log.warning("Sage Pro database unreachable at start; the layout is checked before the first write",
                            extra={"error": str(e)[:300]})

    # -- start-time layout check -------------------------------------------------------------
    def check_layout(self) -> None:
        """Raises LayoutMismatch (permanent: refuse to start) or TransientError (unreachable)."""
        with self._check_lock:
            if self._checked:
                return
            try:
                with self.pool.lend() as conn:
                    try:
                        check_layout(conn.cursor(), self.layout, self.cfg.company, self.cfg.dialect)
                    finally:
                        conn.rollback()
            except LayoutMismatch:
                raise
            except Exception as e:
                err = classify(e, "SQLColumns")
                self._last_check_error = str(err)
                raise (err if isinstance(err, TransientError) else
                       TransientError(f"cannot read the table layout: {err}", reason="sagepro_layout_unread")) from e
            self._checked = True

    def _ready_to_write(self) -> None:
        missing = self.cfg.missing_credentials()
        if missing:
            raise TransientError(f"Sage Pro is not set up: missing {', '.join(missing)}",
                                 reason="sagepro_missing_credentials")
        try:
            self.check_layout()
        except LayoutMismatch as e:     # found only now (unreachable at start): hold the records, say why
            raise TransientError(str(e), reason="sagepro_layout_mismatch") from None

    # -- the contract ------------------------------------------------------------------------
    def ensure_order(self, order: dict[str, Any]) -> WriteOutcome:
        self._ready_to_write()
        return self.orders.ensure(order)

    def ensure_customer(self, customer: dict[str, Any], *, update: bool = True) -> WriteOutcome:
        self._ready_to_write()
        return self.customers.ensure(customer, update=update)

    def ensure_payment(self, payment: dict[str, Any]) -> WriteOutcome:
        return WriteOutcome("skipped", message=NOT_WRITTEN.format(what="payments"))

    def ensure_refund(self, refund: dict[str, Any]) -> WriteOutcome:
        return WriteOutcome("skipped", message=NOT_WRITTEN.format(what="refunds"))

    def ping(self) -> tuple[bool, str]:
        """Readiness: credentials set, the layout checked, one round trip. A transaction that ended
        well lately stands for the round trip: a probe would wait for a connection behind the
        writes holding them all, and a busy writer would look down to a short readiness timeout."""
        missing = self.cfg.missing_credentials()
        if missing:
            return False, f"missing credentials: {', '.join(missing)}"
        last = self.transactions.last_success
        if last is not None and self._checked and time.monotonic() - last < PING_FRESH_S:
            return True, f"a transaction ended {time.monotonic() - last:.0f}s ago"
        try:
            self.check_layout()
            with self.pool.lend() as conn:
                try:
                    conn.cursor().execute(self._ping_sql()).fetchall()
                finally:
                    conn.rollback()
        except Exception as e:
            return False, str(classify(e, "ping"))[:300]
        return True, "ok"

    def _ping_sql(self) -> str:
        """SELECT 1 where the engine takes a FROM-less SELECT; Visual FoxPro does not, so it reads
        the numbering row (one row, always there)."""
        if self.cfg.dialect == "vfp":
            n = self.layout.numbering
            return f"SELECT {n.column} FROM {n.physical(self.cfg.company)}"
        return "SELECT 1"

    def close(self) -> None:
        self.pool.close()
