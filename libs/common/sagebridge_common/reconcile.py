"""The comparison behind `sagebridge reconcile`: every store order of a window is in the ERP exactly
once with the same total, and every captured payment has exactly one receipt.

Pure: it takes what the two ledgers listed (`contracts.StorefrontLedger` / `ErpLedger`) and returns
counts and the gaps, so every category is unit-tested without a server. Per store order, one of:

- matched: one ERP order carries its reference and the totals agree within 0.01;
- missing_in_erp: the mapping says the order belongs in the ERP (`ready_for_erp`) and none has it;
- duplicated: two or more ERP orders carry its reference (whatever the store status);
- total_mismatch: one ERP order, totals differ by more than 0.01;
- needs_attention: the order is not (or no longer) for the ERP (cancelled, refunded, declined...)
  but an ERP order exists: someone must reverse it by hand, since OE orders cannot be changed
  through the Web API;
- not_exported: not for the ERP and not there (no gap).

ERP orders whose reference lies in the window's numbering (between its lowest and highest store
number) but match no store order of the window are needs_attention too ("erp_only"): a deleted
store order, or a document keyed by hand. References outside that range belong to other windows.

With payments: each completed store payment expects one receipt described `<ref>-P<transaction>`:
receipt_missing, receipt_duplicated, receipt_amount_mismatch, or receipts_matched.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Iterable

from .contracts import ErpDocument, ErpReceipt, StoreDocument

TOLERANCE = Decimal("0.01")
ORDER_RESULTS = ("matched", "missing_in_erp", "duplicated", "total_mismatch", "needs_attention", "not_exported")
RECEIPT_RESULTS = ("receipts_matched", "receipt_missing", "receipt_duplicated", "receipt_amount_mismatch")
GAPS = frozenset({"missing_in_erp", "duplicated", "total_mismatch", "needs_attention", "receipt_missing",
                  "receipt_duplicated", "receipt_amount_mismatch"})


@dataclass(frozen=True)
class Gap:
    """One finding an operator must act on; ids on both sides so it can be looked up at once."""

    result: str
    reference: str
    order_id: str | None = None           # store order id (None for an ERP-only document)
    number: str | None = None             # store order number
    status: str | None = None             # store status as the mapping names it
    store_total: str | None = None
    erp_documents: tuple[str, ...] = ()
    erp_totals: tuple[str, ...] = ()
    transaction_id: str | None = None     # receipts: the store payment
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["erp_documents"], d["erp_totals"] = list(self.erp_documents), list(self.erp_totals)
        return {k: v for k, v in d.items() if v not in (None, "", [])}


@dataclass
class Reconciliation:
    counts: Counter = field(default_factory=Counter)
    gaps: list[Gap] = field(default_factory=list)
    store_orders: int = 0
    erp_orders: int = 0
    payments_checked: bool = False

    @property
    def clean(self) -> bool:
        return not self.gaps

    def add(self, result: str, gap: Gap | None = None) -> None:
        self.counts[result] += 1
        if result in GAPS:
            self.gaps.append(gap or Gap(result, ""))

    def all_counts(self) -> dict[str, int]:
        """Every category, zero included (a machine reading the JSON needs no defaults)."""
        names = ORDER_RESULTS + (RECEIPT_RESULTS if self.payments_checked else ())
        return {name: self.counts.get(name, 0) for name in names}


def _number_key(number: str) -> tuple:
    """Store numbers sort numerically when they are digits (X-Cart's are, zero-padded or not)."""
    return (0, int(number), "") if number.isdigit() else (1, 0, number)


def _fmt(d: Decimal) -> str:
    return format(d, "f")


def compare(store: Iterable[StoreDocument], erp: Iterable[ErpDocument], reference_prefix: str,
            receipts: Iterable[ErpReceipt] | None = None) -> Reconciliation:
    """`receipts` None: payments are not checked (the store documents carry none)."""
    by_reference: dict[str, list[ErpDocument]] = defaultdict(list)
    out = Reconciliation(payments_checked=receipts is not None)
    for doc in erp:
        by_reference[doc.reference].append(doc)
        out.erp_orders += 1
    receipts_by: dict[str, list[ErpReceipt]] = defaultdict(list)
    for r in receipts or ():
        receipts_by[r.description].append(r)
    seen: set[str] = set()
    low = high = None
    for order in store:
        out.store_orders += 1
        reference = f"{reference_prefix}{order.number}"
        seen.add(reference)
        key = _number_key(order.number)
        low, high = (key, key) if low is None else (min(low, key), max(high, key))
        _order(out, order, reference, by_reference.get(reference, []))
        if receipts is not None:
            _payments(out, order, reference, receipts_by)
    if low is not None:
        _erp_only(out, by_reference, seen, reference_prefix, low, high)
    return out


def _order(out: Reconciliation, order: StoreDocument, reference: str, found: list[ErpDocument]) -> None:
    gap = dict(reference=reference, order_id=order.order_id, number=order.number, status=order.status,
               store_total=_fmt(order.total), erp_documents=tuple(d.document_id for d in found),
               erp_totals=tuple(_fmt(d.total) for d in found))
    if len(found) > 1:
        out.add("duplicated", Gap("duplicated", detail=f"{len(found)} ERP orders carry {reference}", **gap))
    elif not order.ready_for_erp:
        if found:
            out.add("needs_attention", Gap("needs_attention", detail=f"store status {order.status} is not for the "
                                                                     f"ERP, but the ERP holds this order", **gap))
        else:
            out.add("not_exported")
    elif not found:
        out.add("missing_in_erp", Gap("missing_in_erp", detail=f"no ERP order carries {reference}", **gap))
    elif abs(found[0].total - order.total) > TOLERANCE:
        out.add("total_mismatch", Gap("total_mismatch", detail=f"store {_fmt(order.total)} vs ERP "
                                                               f"{_fmt(found[0].total)}", **gap))
    else:
        out.add("matched")


def _payments(out: Reconciliation, order: StoreDocument, reference: str,
              receipts_by: dict[str, list[ErpReceipt]]) -> None:
    for payment in order.payments or ():
        description = f"{reference}-P{payment.transaction_id}"
        found = receipts_by.get(description, [])
        gap = dict(reference=reference, order_id=order.order_id, number=order.number,
                   transaction_id=payment.transaction_id, store_total=_fmt(payment.amount),
                   erp_documents=tuple(r.batch_id for r in found), erp_totals=tuple(_fmt(r.amount) for r in found))
        if not found:
            out.add("receipt_missing", Gap("receipt_missing", detail=f"no receipt batch described {description}", **gap))
        elif len(found) > 1:
            out.add("receipt_duplicated", Gap("receipt_duplicated",
                                              detail=f"{len(found)} receipt batches described {description}", **gap))
        elif abs(found[0].amount - payment.amount) > TOLERANCE:
            out.add("receipt_amount_mismatch", Gap("receipt_amount_mismatch", detail=f"payment {_fmt(payment.amount)} "
                                                   f"vs receipt {_fmt(found[0].amount)}", **gap))
        else:
            out.add("receipts_matched")


def _erp_only(out: Reconciliation, by_reference: dict[str, list[ErpDocument]], seen: set[str], prefix: str,
              low: tuple, high: tuple) -> None:
    for reference in sorted(set(by_reference) - seen):
        number = reference[len(prefix):]
        if not reference.startswith(prefix) or not low <= _number_key(number) <= high:
            continue
        docs = by_reference[reference]
        out.add("needs_attention", Gap("needs_attention", reference, number=number,
                                       erp_documents=tuple(d.document_id for d in docs),
                                       erp_totals=tuple(_fmt(d.total) for d in docs),
                                       detail="ERP order in the window's numbering with no store order"))
