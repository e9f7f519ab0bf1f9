"""The legacy 3dcart SOAP store as a `StorefrontLedger`: the orders placed in a window, for
`sagebridge reconcile`.

`getOrder(startFrom=false, dateFrom, dateTo, batchSize=100, startNum=1, 101, ...)`: dateFrom/dateTo
are store-local DATES (mm/dd/yyyy, §4), so the window is widened to whole local days and each order is
kept only when its `Date` + `Time` (store-local -> UTC) falls in [start, end). Offset paging is safe
here: an order's date never changes, and a new order sorts after every row of a past window. The
page past the end answers error 49 (NotFound): the end.

Status: the XML gives the status TEXT; the pair's `mapping.order_status` is keyed by status id. The
id is found through `storefront.status_texts` (the same table the sink writes with); a text it does not
list costs one getOrderStatus call. The rule is `mapping.order_status[id]`, else its `default`.
Payments (on request): Transaction entries with TransactionType Sale / Capture / AuthCapture / Charge
and a positive amount, id "s<TransactionId>" or "s<index>" when the id is empty (issue8.md).
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Iterator

from sagebridge_common.contracts import StoreDocument, StorePayment

from .client import ThreeDCartClient
from .config import MAX_BATCH
from .documents import entities, money, ordered_at, us_date
from .errors import NotFound

PAYMENT_TYPES = {"sale", "capture", "authcapture", "charge"}
CENT = Decimal("0.01")


def payments_of(order: dict[str, Any]) -> tuple[StorePayment, ...]:
    out = []
    for index, t in enumerate(order.get("Transaction") or []):
        amount = money(t.get("Amount"))
        if str(t.get("TransactionType") or "").strip().lower() in PAYMENT_TYPES and amount > 0:
            tid = str(t.get("TransactionId") or "").strip() or str(index)
            out.append(StorePayment(f"s{tid}", amount.quantize(CENT)))
    return tuple(out)


class ThreeDCartLedger:
    kind = "threedcart"

    def __init__(self, pair: Any, client: ThreeDCartClient | None = None, *, payments: bool = False) -> None:
        self.config = pair.storefront
        self.zone = pair.zone
        self.currency = pair.currency
        self.rules = dict(getattr(pair.mapping, "order_status", None) or {})
        self.client = client or ThreeDCartClient(self.config)
        self.payments = payments
        self.status_ids = {text: sid for sid, text in self.config.status_texts.items()}
        self.calls: Counter[str] = Counter()

    def orders(self, start: datetime, end: datetime) -> Iterator[StoreDocument]:
        """Orders placed in [start, end) (UTC), oldest first."""
        params = {"startFrom": False, "dateFrom": us_date(start, self.zone),
                  "dateTo": us_date(end - timedelta(microseconds=1), self.zone), "batchSize": MAX_BATCH}
        first = 1
        while True:
            self.calls["getOrder"] += 1
            try:
                rows = entities(self.client.call("getOrder", **params, startNum=first)[1], "Order")
            except NotFound:
                return
            for row in rows:
                if start <= ordered_at(row, self.zone) < end:
                    yield self._document(row)
            if len(rows) < MAX_BATCH:
                return
            first += len(rows)

    def _status_id(self, row: dict[str, Any]) -> str:
        sid = self.status_ids.get(str(row.get("OrderStatus") or ""))
        if sid is None:
            self.calls["getOrderStatus"] += 1
            sid = str(self.client.call("getOrderStatus", invoiceNum=row["InvoiceNumber"])[1].get("StatusId", ""))
        return sid

    def _document(self, row: dict[str, Any]) -> StoreDocument:
        rule = self.rules.get(self._status_id(row)) or self.rules.get("default")
        return StoreDocument(
            order_id=str(row["OrderID"]), number=str(row["InvoiceNumber"]), created_at=ordered_at(row, self.zone),
            total=money(row.get("Total")).quantize(CENT), currency=self.currency,
            status=getattr(rule, "status", "unknown"), ready_for_erp=bool(getattr(rule, "ready_for_erp", False)),
            payments=payments_of(row) if self.payments else None)

    def close(self) -> None:
        self.client.close()
