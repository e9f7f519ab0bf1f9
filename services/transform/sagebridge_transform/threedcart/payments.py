"""3dcart SOAP order transactions (`Order/Transaction`, shift4shop.md §4; recorded mock) → v2 Payments.

Same rule as the REST transactions (`shift4shop.payments`): TransactionType sale-type (Sale,
Capture, AuthCapture, Charge; case-insensitive) with a positive Amount (thousands separators
parsed); "Authorize" is not money. Id "s" + TransactionId, or "s<position>" (1-based, in the
order's listing) when the store left TransactionId empty, as the mock's does. The SOAP
transaction has no date: captured_at is the order's updated_at. Method: the order's PaymentMethod.
"""
from __future__ import annotations

from typing import Callable

from sagebridge_common.pairs import PairConfig

from ..shift4shop.canonical import is_sale, payment
from ..shift4shop.values import children, malformed_is_permanent, money, text


@malformed_is_permanent("3dcart SOAP transactions", "invalid_transaction")
def payments_and_refunds(doc: dict, order: dict, pair: PairConfig,
                         metadata_for: Callable[[str], dict]) -> tuple[list[dict], list[dict]]:
    o = doc["order"]
    method = text(o.get("PaymentMethod"))
    out = []
    for n, t in enumerate(children(o, "Transaction"), 1):
        if not is_sale(t.get("TransactionType")):
            continue
        txn = "s" + (text(t.get("TransactionId")) or str(n))
        amount = money(t.get("Amount"), f"transaction {txn} amount", "invalid_transaction")
        if amount > 0:
            out.append(payment(txn, amount, order["updated_at"], method, order, pair, metadata_for("payment.captured")))
    return out, []
