"""The Sage 300 ErpSink: each canonical document becomes exactly one Sage 300 document.

| canonical | Sage 300 | exactly once by | module |
|---|---|---|---|
| Customer | A/R customer (AR/ARCustomers) | e-mail lookup + the natural key CustomerNumber | customers.py |
| Order | O/E order (OE/OEOrders) | OrderReference lookup or the duplicate-PO guard | orders.py |
| Payment | A/R receipt (CA batch) + G/L fee journal | batch Description lookup | receipts.py |
| Refund | A/R adjustment (AD batch) | batch Description lookup | adjustments.py |

Every POST with a generated key whose answer was lost settles before it is looked up and sent again
(`settle.py`, one memory for all document kinds: their keys never collide, the suffixes differ).
This module only wires the pieces to one Web API client per pair.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable

from sagebridge_common import metrics
from sagebridge_common.contracts import WriteOutcome
from sagebridge_common.errors import PermanentError

from .adjustments import RefundWriter
from .config import Sage300Config
from .customers import CustomerWriter
from .documents import local_date
from .errors import CONNECTOR
from .guard import DuplicatePoGuards
from .orders import OrderWriter, check_charge_rules, check_reference_room
from .receipts import PaymentWriter
from .settle import Settling
from .web_api import Sage300Client

log = logging.getLogger(__name__)


class Sage300Sink:
    kind = CONNECTOR

    def __init__(self, pair: Any, client: Sage300Client | None = None,
                 clock: Callable[[], float] = time.monotonic, *, restart_hold: bool = False) -> None:
        """`restart_hold`: this sink starts a writer process that may follow a crashed one (see
        `settle.py`); the registry's factory sets it."""
        self.pair = pair
        self.cfg: Sage300Config = pair.erp
        check_reference_room(pair.reference_prefix, self.cfg)
        check_charge_rules(pair.mapping.order_charges)
        self.client = client or Sage300Client(self.cfg)
        self.guards = DuplicatePoGuards(self._read_guard, self.cfg.guard_ttl_s, clock)
        self.settling = Settling(self.cfg.settle_delay_s, clock, restart_hold=restart_hold)
        # exported at 0 from start, so the first mismatch is an increase the alert can see
        mismatches = metrics.ERP_TOTAL_MISMATCH.labels(CONNECTOR, pair.pair)
        mismatches.inc(0)
        self.orders = OrderWriter(pair, self.client, self.guards, self.settling, mismatches)
        self.customers = CustomerWriter(self.client, self.cfg.new_customers, self.guards)
        self.payments = PaymentWriter(pair, self.client, self.settling)
        self.refunds = RefundWriter(pair, self.client, self.settling)
        # A receipt or adjustment names no currency: Sage enters its amount in the bank's / the
        # customer's currency. One in a currency Sage does not hold would be booked as that many
        # home-currency units, so it goes to the DLQ with its order's reason instead.
        self.currencies = self.orders.currencies

    # -- the contract ------------------------------------------------------------------------
    def ensure_order(self, order: dict[str, Any]) -> WriteOutcome:
        return self.orders.ensure(order, local_date(self.pair, order["ordered_at"]))

    def ensure_customer(self, customer: dict[str, Any], *, update: bool = True) -> WriteOutcome:
        return self.customers.ensure(customer, update=update)

    def ensure_payment(self, payment: dict[str, Any]) -> WriteOutcome:
        self.currencies.require(payment["currency"])
        return self.payments.ensure(payment)

    def ensure_refund(self, refund: dict[str, Any]) -> WriteOutcome:
        self.currencies.require(refund["currency"])
        return self.refunds.ensure(refund)

    def ping(self) -> tuple[bool, str]:
        return self.client.ping()

    def close(self) -> None:
        self.client.close()

    # -- helpers -----------------------------------------------------------------------------
    def _read_guard(self, customer: str) -> str:
        try:
            return self.client.duplicate_po_check(customer)
        except PermanentError as e:        # e.g. RecordNotFound: the order's own error will say why
            log.info("cannot read CheckForDuplicatePOs; treating the customer as unguarded",
                     extra={"customer": customer, "error": str(e)[:200]})
            return "unreadable"
