"""Shift4Shop REST order transactions (TransactionList, shift4shop.md §2.1) → v2 Payments.

Rule (issue 8): a transaction is money received when its TransactionType is a sale-type one
(Sale, Capture, AuthCapture, Charge; case-insensitive) and its TransactionAmount is positive.
Recorded types are "Sale" and "CBA"; the SOAP document shows "Authorize"; an authorisation is not
money and is skipped. `TransactionCaptured` is NOT used: its meaning is not confirmed
(shift4shop.md §5), and a sale is money whether or not a capture flag is set; should a store
record only an "Authorize" and flag it captured later, that payment is not emitted (the order
still is, and reconcile shows the missing receipt).
Id: "t" + TransactionIndexID (the transaction row's key, unique per store); the handler emits each
id once per order. Date: TransactionDateTime (store-local) or, when empty, the order's updated_at.
Method: the order's BillingPaymentMethod, mapped by mapping.payment_methods as for X-Cart.
Refunds are not derived: no refund transaction type is documented for the store (§5).
"""
from __future__ import annotations

from typing import Callable

from sagebridge_common.errors import PermanentError
from sagebridge_common.pairs import PairConfig

from .canonical import is_sale, payment
from .values import malformed_is_permanent, money, store_time, text


@malformed_is_permanent("Shift4Shop transaction list", "invalid_transaction")
def payments_and_refunds(doc: dict, order: dict, pair: PairConfig,
                         metadata_for: Callable[[str], dict]) -> tuple[list[dict], list[dict]]:
    o = doc["order"]
    method = text(o.get("BillingPaymentMethod"))
    out = []
    for t in o.get("TransactionList") or []:
        if not isinstance(t, dict) or not is_sale(t.get("TransactionType")):
            continue
        index = text(t.get("TransactionIndexID"))
        if index is None:
            raise PermanentError(f"order {order['order_id']}: a {t.get('TransactionType')} transaction without "
                                 "TransactionIndexID", reason="invalid_transaction")
        txn = "t" + index
        amount = money(t.get("TransactionAmount"), f"transaction {txn} amount", "invalid_transaction")
        if amount <= 0:
            continue
        when = t.get("TransactionDateTime")
        at = store_time(when, pair.zone, f"transaction {txn} date", "invalid_transaction") if text(when) \
            else order["updated_at"]
        out.append(payment(txn, amount, at, method, order, pair, metadata_for("payment.captured")))
    return sorted(out, key=lambda p: p["captured_at"]), []
