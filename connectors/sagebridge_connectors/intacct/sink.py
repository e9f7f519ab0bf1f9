"""The Sage Intacct ErpSink: each canonical document becomes exactly one Intacct record.

| canonical | Intacct | exactly once by | module |
|---|---|---|---|
| Customer | CUSTOMER (3.0 create/update) | e-mail query + CUSTOMERID (BL34000061) | customers.py |
| Order | sales order (create_sotransaction) | uniqueid control id `so-<pair>-<n>` + referenceno | orders.py |
| Payment | ARPYMT + GLBATCH fee | uniqueid + DOCNUMBER / REFERENCENO | payments.py |
| Refund | AR adjustment (create_aradjustment) | uniqueid + adjustmentno | refunds.py |

One gateway (session, cap, retries) per sink; this module only wires the pieces.
"""
from __future__ import annotations

from typing import Any

import httpx

from sagebridge_common import metrics
from sagebridge_common.contracts import WriteOutcome

from .config import IntacctConfig
from .customers import CustomerWriter
from .errors import CONNECTOR
from .functions import local_date
from .gateway import IntacctGateway
from .orders import OrderWriter
from .payments import PaymentWriter
from .refunds import RefundWriter


class IntacctSink:
    kind = CONNECTOR

    def __init__(self, pair: Any, gateway: IntacctGateway | None = None, *,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.pair = pair
        self.cfg: IntacctConfig = pair.erp
        self.gateway = gateway or IntacctGateway(self.cfg, pair_id=pair.pair, transport=transport)
        mismatches = metrics.ERP_TOTAL_MISMATCH.labels(CONNECTOR, pair.pair)
        mismatches.inc(0)               # exported at 0, so the first mismatch is an increase alerts see
        self.orders = OrderWriter(pair, self.gateway, mismatches)
        self.customers = CustomerWriter(pair, self.gateway, self.cfg.new_customers)
        self.payments = PaymentWriter(pair, self.gateway)
        self.refunds = RefundWriter(pair, self.gateway)

    def ensure_order(self, order: dict[str, Any]) -> WriteOutcome:
        return self.orders.ensure(order, local_date(self.pair, order["ordered_at"]))

    def ensure_customer(self, customer: dict[str, Any], *, update: bool = True) -> WriteOutcome:
        return self.customers.ensure(customer, update=update)

    def ensure_payment(self, payment: dict[str, Any]) -> WriteOutcome:
        return self.payments.ensure(payment)

    def ensure_refund(self, refund: dict[str, Any]) -> WriteOutcome:
        return self.refunds.ensure(refund)

    def ping(self) -> tuple[bool, str]:
        return self.gateway.ping()

    def close(self) -> None:
        self.gateway.close()
