"""Sage 300 as an `ErpLedger`: the O/E orders and A/R receipt batches carrying a pair's reference.

Orders: `GET OE/OEOrders?$filter=startswith(OrderReference,'XC1-') and OrderUniquifier gt N` with
`$top=100` (the Web API's default page size; `$filter` with `startswith` and `gt`, `$top` and `$skip`
are the query options the Sage 300 SDK Developer Reference documents; `$select` is not, so it is not
sent). Paging is by key rather than by `$skip`: a clerk deleting an order while the report runs
would shift every later offset by one and a row would never be read, reported as missing though it
is there. That needs the feed in OrderUniquifier order (the view's key order, which is what the
simulator serves; Sage does not document the feed's order); a page that is not ascending stops the
run with an error instead of a silently partial read.

Receipts: `GET AR/ARReceiptAndAdjustmentBatches?$filter=BatchRecordType eq 'CA' and
startswith(Description,'XC1-')`, paged by `$skip`/`$top` (batches are only added at the end). The
hub writes one batch per store payment with Description `<ref>-P<transaction>`; its amount is the sum
of its entries' CustomerReceiptAmount (the Sage300-SDK sample payload
`AR/ARReceiptAndAdjustmentBatches_Prepayment.txt`), or the batch's BatchTotal when the entries are
not nested in the feed.
"""
from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any, Iterator

from sagebridge_common.contracts import ErpDocument, ErpReceipt
from sagebridge_common.errors import PermanentError

from .web_api import Sage300Client, odata_literal

PAGE = 100


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value if value is not None else 0))


class Sage300Ledger:
    kind = "sage300"

    def __init__(self, pair: Any, client: Sage300Client | None = None, *, page_size: int = PAGE) -> None:
        self.client = client or Sage300Client(pair.erp)
        self.page_size = page_size
        self.calls: Counter[str] = Counter()     # Web API calls made, by operation (for the report)

    def orders(self, reference_prefix: str) -> Iterator[ErpDocument]:
        prefix = f"startswith(OrderReference,{odata_literal(reference_prefix)})"
        after: int | None = None
        while True:
            where = prefix if after is None else f"{prefix} and OrderUniquifier gt {after}"
            rows = self._feed("list_orders", "OE/OEOrders", {"$filter": where, "$top": self.page_size})
            keys = [int(row["OrderUniquifier"]) for row in rows]
            if keys != sorted(set(keys)) or (after is not None and keys and keys[0] <= after):
                raise PermanentError("Sage 300 listed OE orders out of OrderUniquifier order; reading them by key "
                                     "would miss orders", reason="sage300_feed_order")
            for row in rows:
                yield ErpDocument(document_id=str(row["OrderNumber"]), reference=str(row["OrderReference"]),
                                  total=_decimal(row.get("OrderTotal")), customer=str(row.get("CustomerNumber") or ""))
            if not rows:
                return
            after = keys[-1]

    def receipts(self, reference_prefix: str) -> Iterator[ErpReceipt]:
        where = f"BatchRecordType eq 'CA' and startswith(Description,{odata_literal(reference_prefix)})"
        skip = 0
        while True:
            rows = self._feed("list_receipts", "AR/ARReceiptAndAdjustmentBatches",
                              {"$filter": where, "$top": self.page_size, "$skip": skip})
            for row in rows:
                entries = row.get("ReceiptsAdjustments")
                amount = (sum((_decimal(e.get("CustomerReceiptAmount")) for e in entries), Decimal(0)) if entries
                          else _decimal(row.get("BatchTotal")))   # a feed that does not nest the entries
                yield ErpReceipt(batch_id=str(row.get("BatchNumber")), description=str(row.get("Description") or ""),
                                 amount=amount)
            if not rows:
                return
            skip += len(rows)

    def _feed(self, operation: str, path: str, params: dict) -> list[dict]:
        self.calls[operation] += 1
        return list(self.client._json(operation, "GET", path, params=params).get("value") or [])

    def close(self) -> None:
        self.client.close()
