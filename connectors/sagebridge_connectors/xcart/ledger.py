"""X-Cart 5.5 as a `StorefrontLedger`: the orders created in a window, for `sagebridge reconcile`.

`GET /api/orders` with `date[after]` / `date[strictly_before]` (the order's creation time; the
DateFilter operators of X-Cart 5.5.1's "Retrieve a list of orders"), written `@<unix>` because
API Platform's DateFilter hands the value to PHP's `\\DateTime` and silently drops a filter it cannot
parse (see `api.php_time`): a bare number would list the whole store. Sorted by `order[date]=asc`
and paged by `page` with `itemsPerPage=100` (the API's cap). Offset paging is safe on this list,
unlike on the change feed: the creation date never changes, so an edit cannot move a row, and a new
order sorts after every row already in the window.

Payment transactions live only under `GET /api/orders/{id}/payment_transactions`, one call per
order, so they are read only when asked (`payments=True`). Which transactions are payments follows
the issue's contract for canonical payments: a main `sale` with status S is payment "t<id>"; a
`capture`/`capturePart` backend transaction with status S of a main `auth`/`sale` is "b<id>".
"""
from __future__ import annotations

import math
from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import Any, Iterator

from sagebridge_common.contracts import StoreDocument, StorePayment
from sagebridge_common.times import parse_iso8601

from .api import XCartClient, php_time
from .config import MAX_PAGE_SIZE

CENT = Decimal("0.01")
COMPLETED = "S"


def _money(value: Any) -> Decimal:
    """X-Cart renders money as JSON numbers of 2 places; str() of the float is that number."""
    return Decimal(str(value)).quantize(CENT)


def payments_of(transactions: list[dict]) -> tuple[StorePayment, ...]:
    out: list[StorePayment] = []
    for t in transactions:
        if t.get("type") == "sale" and t.get("status") == COMPLETED:
            out.append(StorePayment(f"t{t['id']}", _money(t.get("value") or 0)))
        if t.get("type") in ("auth", "sale"):
            out += [StorePayment(f"b{b['id']}", _money(b.get("value") or 0))
                    for b in t.get("backend_transactions") or []
                    if b.get("type") in ("capture", "capturePart") and b.get("status") == COMPLETED]
    return tuple(out)


class XCartLedger:
    kind = "xcart"

    def __init__(self, pair: Any, client: XCartClient | None = None, *, payments: bool = False,
                 page_size: int = MAX_PAGE_SIZE) -> None:
        cfg = pair.storefront
        self.mapping = pair.mapping
        self.client = client or XCartClient(cfg.base_url, cfg.token.get_secret_value(), cfg.timeout_s,
                                            max_concurrency=cfg.max_concurrency)
        self.payments = payments
        self.page_size = page_size
        self.calls: Counter[str] = Counter()     # API calls made, by operation (for the report)

    def orders(self, start: datetime, end: datetime) -> Iterator[StoreDocument]:
        """Orders created in [start, end): whole seconds, as X-Cart stamps them."""
        params = {"date[after]": php_time(math.ceil(start.timestamp())),
                  "date[strictly_before]": php_time(math.ceil(end.timestamp())),
                  "order[date]": "asc", "itemsPerPage": self.page_size}
        page = 1
        while True:
            self.calls["list_orders"] += 1
            rows = self.client._get("list_orders_created", "/api/orders", {**params, "page": page})
            for row in rows:
                if row.get("order_number"):          # carts share the table and have no number
                    yield self._document(row)
            if len(rows) < self.page_size:
                return
            page += 1

    def _document(self, row: dict) -> StoreDocument:
        pay = (row.get("payment_status") or {}).get("code")
        ship = (row.get("shipping_status") or {}).get("code")
        rule = self.mapping.payment(pay)
        payments = None
        if self.payments:
            self.calls["payment_transactions"] += 1
            payments = payments_of(self.client.payment_transactions(row["id"]))
        return StoreDocument(
            order_id=str(row["id"]), number=str(row["order_number"]),
            created_at=parse_iso8601(row["create_date"]), total=_money(row.get("total") or 0),
            currency=str(row.get("currency") or "").upper(), status=rule.status,
            # the rule transform applies to `ready_for_erp`
            ready_for_erp=rule.ready_for_erp and ship not in self.mapping.block_shipping_status,
            payments=payments)

    def close(self) -> None:
        self.client.close()
