"""Shift4Shop as a `StorefrontLedger`: the orders created in a window, for `sagebridge reconcile`.

`GET /Orders?datestart=&dateend=` (store-local `mm/dd/yyyy hh:mm:ss`, shift4shop.md §1.3), paged
by `limit` and 1-based `offset` to an empty page (404). Whether `dateend` is inclusive is not
documented, so the window asked for is [start, end] and rows are kept by their `OrderDate` (local
-> UTC) in [start, end). The list carries TransactionList (§2.1), so payments cost no extra call.
Rows are keyed by OrderID (an order listed twice while paging is read once) and yielded oldest first.

Number: `InvoiceNumberPrefix + InvoiceNumber` (§2.1). Status and `ready_for_erp`: the pair's
`mapping.order_status` table by status id, with its `default` row (issue 8 contract), the rule
transform applies. Payments: TransactionList items of type Sale, Capture, AuthCapture or Charge
(case-insensitive) with a positive amount, as transform's payments: transaction id `t<TransactionIndexID>`.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Iterator
from zoneinfo import ZoneInfo

import httpx

from sagebridge_common.contracts import StoreDocument, StorePayment

from .api import Shift4ShopClient
from .store_time import filter_datetime, parse_store_time

CENT = Decimal("0.01")
PAYMENT_TYPES = {"sale", "capture", "authcapture", "charge"}


def money(value: Any) -> Decimal:
    """A store amount (a JSON number, or a string maybe with thousands separators) as Decimal."""
    try:
        return Decimal(str(value if value is not None else 0).replace(",", "").strip() or "0").quantize(CENT)
    except InvalidOperation:
        return Decimal("0.00")


def payments_of(transactions: list[dict]) -> tuple[StorePayment, ...]:
    out = []
    for t in transactions or []:
        amount = money(t.get("TransactionAmount"))
        if str(t.get("TransactionType") or "").strip().casefold() in PAYMENT_TYPES and amount > 0:
            out.append(StorePayment(f"t{t.get('TransactionIndexID')}", amount))
    return tuple(out)


def status_rule(mapping: Any, status_id: Any) -> tuple[str, bool]:
    """(canonical status, ready_for_erp) from `mapping.order_status` (str id -> rule, `default`)."""
    table = getattr(mapping, "order_status", None) or {}
    rule = table.get(str(status_id)) or table.get("default")
    if rule is None:
        return "unknown", False
    return str(getattr(rule, "status", "unknown")), bool(getattr(rule, "ready_for_erp", False))


class Shift4ShopLedger:
    kind = "shift4shop"

    def __init__(self, pair: Any, client: Shift4ShopClient | None = None, *, payments: bool = True,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.cfg = pair.storefront
        self.mapping = pair.mapping
        self.currency = str(getattr(pair, "currency", "") or "")
        self.zone = ZoneInfo(pair.store_time_zone)
        self.client = client or Shift4ShopClient(self.cfg, transport=transport)
        self.payments = payments
        self.page_size = self.cfg.page_size
        self.calls: Counter[str] = Counter()     # API calls made, by operation (for the report)

    def orders(self, start: datetime, end: datetime) -> Iterator[StoreDocument]:
        params = {"datestart": filter_datetime(start, self.zone),
                  "dateend": filter_datetime(end + timedelta(seconds=1), self.zone)}
        found: dict[str, StoreDocument] = {}
        offset = 1
        while True:
            self.calls["list_orders"] += 1
            rows = self.client.get_list("list_orders_created", "/Orders",
                                        {**params, "limit": self.page_size, "offset": offset})
            for row in rows:
                doc = self._document(row)
                if start <= doc.created_at < end:
                    found[doc.order_id] = doc
            if not rows:        # only an empty page ends it (a store may clamp `limit`, see api.pages)
                break
            offset += len(rows)
        yield from sorted(found.values(), key=lambda d: (d.created_at, int(d.order_id)))

    def _document(self, row: dict) -> StoreDocument:
        status, ready = status_rule(self.mapping, row.get("OrderStatusID"))
        return StoreDocument(
            order_id=str(row["OrderID"]),
            number=f"{row.get('InvoiceNumberPrefix') or ''}{row.get('InvoiceNumber')}",
            created_at=parse_store_time(row["OrderDate"], self.zone), total=money(row.get("OrderAmount")),
            currency=self.currency, status=status, ready_for_erp=ready,
            payments=payments_of(row.get("TransactionList") or []) if self.payments else None)

    def close(self) -> None:
        self.client.close()
