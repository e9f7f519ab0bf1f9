"""Payment transactions of a simulated X-Cart order, in the 5.5 `GET /api/orders/{id}/payment_transactions`
shape: `{id, public_id, public_txn_id, method_id, type, date, status, name, local_name, currency,
value, note, data[], backend_transactions[{id, type, date, status, value, data}]}` (X-Cart 5.5.0
`XLite\\API\\Endpoint\\Order\\PaymentTransaction` output DTO; `XLite\\Model\\Payment\\Transaction` and
`BackendTransaction`).

A main transaction is what the customer's checkout created (`sale`, or `auth` to be captured later);
what happens to it afterwards (capture, partial capture, refund, partial refund, void) is a backend
transaction under it. Statuses are X-Cart's one-letter codes: I Initialized, P In progress,
S Completed, W Pending, F Failed, C Canceled, V Voided.

Strictness: types and statuses outside X-Cart's lists are refused, a capture or void needs an `auth`
main transaction and a refund a `sale` or `auth` one, as X-Cart's payment processors allow. What is
NOT checked is a refund against what was captured: the gateway does that on a real store, and the
hub must guard against an over-refund itself, so the simulator lets a test create one.
"""
from __future__ import annotations

import string
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .formats import CENT, as_float, iso8601, money

MAIN_TYPES = ("sale", "auth", "refund", "refundPart")
BACKEND_TYPES = ("capture", "capturePart", "refund", "refundPart", "void")
STATUSES = ("I", "P", "S", "W", "F", "C", "V")
_NEEDS_AUTH = {"capture", "capturePart", "void"}
_NEEDS_PAYMENT = {"refund", "refundPart"}
LETTERS = string.ascii_uppercase + string.digits


class TransactionError(ValueError):
    """A transaction X-Cart would not record (the admin route answers 400)."""


@dataclass
class BackendTransaction:
    id: int
    type: str
    date: int
    status: str
    value: Decimal

    def to_api(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "date": iso8601(self.date), "status": self.status,
                "value": as_float(self.value), "data": []}


@dataclass
class Transaction:
    id: int
    public_id: str
    public_txn_id: str
    method_id: int
    method_name: str
    date: int
    currency: str
    value: Decimal
    type: str = "sale"
    status: str = "S"
    backend: list[BackendTransaction] = field(default_factory=list)

    def to_api(self) -> dict[str, Any]:
        return {"id": self.id, "public_id": self.public_id, "public_txn_id": self.public_txn_id,
                "method_id": self.method_id, "type": self.type, "date": iso8601(self.date),
                "status": self.status, "name": self.method_name, "local_name": self.method_name,
                "currency": self.currency, "value": as_float(self.value), "note": "",
                "data": [], "backend_transactions": [b.to_api() for b in self.backend]}


def check_status(status: str) -> str:
    if status not in STATUSES:
        raise TransactionError(f"unknown transaction status {status!r} (one of {', '.join(STATUSES)})")
    return status


def check_value(value: Any) -> Decimal:
    amount = money(value)
    if amount <= 0:
        raise TransactionError("value must be greater than 0")
    return amount.quantize(CENT)


def check_main(kind: str, status: str, value: Any) -> tuple[str, str, Decimal]:
    if kind not in MAIN_TYPES:
        raise TransactionError(f"unknown transaction type {kind!r} (one of {', '.join(MAIN_TYPES)})")
    return kind, check_status(status), check_value(value)


def check_backend(main: Transaction, kind: str, status: str, value: Any) -> tuple[str, str, Decimal]:
    if kind not in BACKEND_TYPES:
        raise TransactionError(f"unknown backend transaction type {kind!r} (one of {', '.join(BACKEND_TYPES)})")
    if kind in _NEEDS_AUTH and main.type != "auth":
        raise TransactionError(f"{kind} needs an auth transaction, not {main.type}")
    if kind in _NEEDS_PAYMENT and main.type not in ("sale", "auth"):
        raise TransactionError(f"{kind} needs a sale or auth transaction, not {main.type}")
    return kind, check_status(status), check_value(value)


class OrderPayments:
    """Admin-side payment events on a store's orders: a new main transaction, a backend transaction
    (capture, refund, partial refund, void) under one, a status change of either, each optionally
    together with the order's payment status, as X-Cart's order page does when a refund leaves the
    order Refunded or Partially paid.

    lastRenewDate: setting the payment status saves the order row, so it moves (X-Cart
    `Order::prepareBeforeSave()`), and the push module reports `order.payment_status_changed`. A
    transaction write alone touches only child rows and moves it only when the store was made with
    `child_writes_renew=True` (unconfirmed in X-Cart; see `XCartStore`); it is then reported as
    `order.updated`. Otherwise nothing is pushed and the hub sees it with the order's next save.
    """

    def __init__(self, store) -> None:
        self.store = store

    def add(self, oid: int, *, kind: str, status: str, value: Any, method: str | None = None,
            payment_status: str | None = None) -> dict[str, Any] | None:
        kind, status, amount = check_main(kind, status, value)
        return self._write(oid, payment_status, lambda order: self._add_main(order, kind, status, amount, method))

    def add_backend(self, oid: int, tid: int, *, kind: str, status: str, value: Any,
                    payment_status: str | None = None) -> dict[str, Any] | None:
        def apply(order):
            main = self._main(order, tid)
            checked = check_backend(main, kind, status, value)
            row = BackendTransaction(next(self.store._seq["backend"]), checked[0], int(self.store.now()),
                                     checked[1], checked[2])
            main.backend.append(row)
            return row.to_api()
        return self._write(oid, payment_status, apply)

    def set_status(self, oid: int, tid: int, status: str, *, backend_id: int | None = None,
                   payment_status: str | None = None) -> dict[str, Any] | None:
        check_status(status)

        def apply(order):
            main = self._main(order, tid)
            row = main if backend_id is None else next((b for b in main.backend if b.id == backend_id), None)
            if row is None:
                raise LookupError(f"transaction {tid} has no backend transaction {backend_id}")
            row.status = status
            return row.to_api()
        return self._write(oid, payment_status, apply)

    def _add_main(self, order, kind: str, status: str, amount: Decimal, method: str | None) -> dict[str, Any]:
        method = method or (order.transactions[0].method_name if order.transactions else "Credit Card")
        txn = self.store._transaction(order, method, kind, status, amount, int(self.store.now()))
        order.transactions.append(txn)
        return txn.to_api()

    @staticmethod
    def _main(order, tid: int) -> Transaction:
        main = next((t for t in order.transactions if t.id == tid), None)
        if main is None:
            raise LookupError(f"order {order.id} has no transaction {tid}")
        return main

    def _write(self, oid: int, payment_status: str | None, apply) -> dict[str, Any] | None:
        """None: no such order. LookupError: no such transaction; TransactionError/UnknownStatus: 400."""
        store = self.store
        if payment_status is not None:
            store._check_code("payment", payment_status)
        with store._lock:
            order = store.orders.get(oid)
            if order is None:
                return None
            row = apply(order)
            event = None
            if payment_status is not None:
                event = "order.payment_status_changed" if payment_status != order.payment_code else "order.updated"
                order.payment_code = payment_status
            elif store.child_writes_renew:
                event = "order.updated"
            if event:
                order.last_renew = int(store.now())
                snapshot = order.to_api()
        if event:
            store._emit(event, snapshot)
        return row
