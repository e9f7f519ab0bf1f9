"""X-Cart payment transactions → canonical payments and refunds (v2 Payment, v2 Refund).

X-Cart keeps money movements as payment transactions of the order (`/api/orders/{id}/payment_transactions`):
a main transaction `{id, type, status, name (method), value, currency, date, backend_transactions[...]}`
where `type` is auth, sale, capture, capturePart, void, refund or refundPart and `status` is one of
I (initialized), P (in progress), S (completed), W (pending), F (failed), C (cancelled), V (voided)
(X-Cart 5.5 `Model/Payment/Transaction.php`). Only completed (S) movements are money:
- a main `sale` → payment "t<id>";
- a main `auth` or `sale`'s backend `capture` / `capturePart` → payment "b<backend id>";
- a backend `refund` / `refundPart` → refund "b<backend id>";
- a main `refund` / `refundPart` → refund "t<id>".
Ids are unique per store (main and backend ids are separate sequences, hence the prefix).
A refund carries the order's paid total and the refunded total up to and including itself, in
store order, so the writer can refuse an over-refund (transform does not).
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sagebridge_common.errors import PermanentError
from sagebridge_common.pairs import PairConfig

from .values import money, parse_time, text

COMPLETED = "S"
_PAYMENT_MAIN = {"sale"}
_CAPTURE_PARENTS = {"auth", "sale"}
_CAPTURES = {"capture", "capturePart"}
_REFUNDS = {"refund", "refundPart"}


def _completed(t: dict) -> bool:
    return str(t.get("status") or "") == COMPLETED


def _amount(t: dict, what: str) -> Decimal:
    return abs(money(t.get("value"), f"{what} value", "invalid_transaction"))


def _when(t: dict, what: str, fallback: datetime) -> datetime:
    return parse_time(t["date"], f"{what} date", "invalid_transaction") if t.get("date") not in (None, "") else fallback


def _movements(transactions: list[dict], fallback: datetime) -> tuple[list[dict], list[dict]]:
    """(payments, refunds) as plain facts: id, amount, when, method, currency, refunded payment."""
    payments, refunds = [], []
    for t in transactions:
        if not isinstance(t, dict) or t.get("id") is None:
            raise PermanentError("payment transaction without an id", reason="invalid_transaction")
        kind, method = t.get("type"), text(t.get("name")) or text(t.get("local_name")) or ""
        base = {"method": method, "currency": text(t.get("currency"))}
        main_payment = None
        if kind in _PAYMENT_MAIN and _completed(t):
            main_payment = f"t{t['id']}"
            payments.append({**base, "id": main_payment, "amount": _amount(t, main_payment),
                             "at": _when(t, main_payment, fallback)})
        if kind in _REFUNDS and _completed(t):
            rid = f"t{t['id']}"
            refunds.append({**base, "id": rid, "amount": _amount(t, rid), "at": _when(t, rid, fallback),
                            "payment": None, "reason": text(t.get("note"))})
        captured = main_payment
        for b in t.get("backend_transactions") or []:
            if not isinstance(b, dict) or b.get("id") is None:
                raise PermanentError(f"backend transaction of t{t['id']} without an id", reason="invalid_transaction")
            if not _completed(b):
                continue
            bid = f"b{b['id']}"
            if b.get("type") in _CAPTURES and kind in _CAPTURE_PARENTS:
                payments.append({**base, "id": bid, "amount": _amount(b, bid), "at": _when(b, bid, fallback)})
                captured = captured or bid
            elif b.get("type") in _REFUNDS:
                refunds.append({**base, "id": bid, "amount": _amount(b, bid), "at": _when(b, bid, fallback),
                                "payment": captured, "reason": None})
    return [p for p in payments if p["amount"] > 0], [r for r in refunds if r["amount"] > 0]


def _in_store_order(items: list[dict]) -> list[dict]:
    return sorted(items, key=lambda m: m["at"])     # stable: same instant keeps the store's listing order


def payments_and_refunds(doc: dict, order: dict, pair: PairConfig, metadata_for) -> tuple[list[dict], list[dict]]:
    """Every completed payment and refund of the order (the handler drops those already emitted).
    `order` is the v3 Order; `metadata_for(event_type)` gives each event its metadata."""
    payments, refunds = _movements(doc.get("payment_transactions") or [], order["updated_at"])
    payments, refunds = _in_store_order(payments), _in_store_order(refunds)
    common = {"order_id": order["order_id"], "order_number": order["order_number"], "customer": order["customer"]}
    out_payments = [_payment(p, order, pair, common, metadata_for("payment.captured")) for p in payments]
    paid = sum((p["amount"] for p in payments), Decimal(0))
    out_refunds, refunded = [], Decimal(0)
    for r in refunds:
        refunded += r["amount"]
        out_refunds.append(_refund(r, order, pair, common, paid, refunded, metadata_for("refund.created")))
    return out_payments, out_refunds


def _payment(p: dict, order: dict, pair: PairConfig, common: dict, metadata: dict) -> dict:
    mapping = pair.mapping
    code = mapping.payment_method_code(p["method"])
    rule = mapping.payments.method(code)
    if rule is None:
        raise PermanentError(f"payment {p['id']} of order {order['order_id']}: no bank for ERP payment code "
                             f"{code!r} (add it, or `default`, under mapping.payments.methods)",
                             reason="payment_method_not_mapped")
    fee = mapping.payments.fees.fee(code, p["amount"])
    fees = mapping.payments.fees
    return {"metadata": metadata, **common, "transaction_id": p["id"], "method": p["method"], "method_code": code,
            "amount": p["amount"], "currency": (p["currency"] or order["currency"]).upper(), "captured_at": p["at"],
            "bank_code": rule.bank_code, "receipt_type": rule.receipt_type, "fee_amount": fee,
            "fee_expense_account": fees.expense_account if fee is not None else None,
            "fee_clearing_account": fees.clearing_account if fee is not None else None}


def _refund(r: dict, order: dict, pair: PairConfig, common: dict, paid: Decimal, refunded: Decimal,
            metadata: dict) -> dict:
    refunds = pair.mapping.refunds
    if not refunds.gl_account:
        raise PermanentError(f"refund {r['id']} of order {order['order_id']}: mapping.refunds.gl_account is not "
                             "set", reason="refund_account_not_set")
    return {"metadata": metadata, **common, "refund_id": r["id"], "payment_transaction_id": r["payment"],
            "amount": r["amount"], "currency": (r["currency"] or order["currency"]).upper(), "paid_total": paid,
            "refunded_total": refunded, "lines": [], "reason": r["reason"], "refunded_at": r["at"],
            "gl_account": refunds.gl_account, "distribution_code": refunds.distribution_code}
