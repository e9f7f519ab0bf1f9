"""Thread-safe in-memory Shift4Shop store: orders, catalogue, customers, status labels, webhooks.

One re-entrant lock guards all of it (placing an order touches the catalogue's stock and the
customer book). Every modification sets the record's `LastUpdate` to the simulated clock
(shift4shop.md §2.1/§2.2 `LastUpdate`; the brief of issue 8: "LastUpdate changes on every
modification"). Listeners (the webhook emitter) get `(event, snapshot)` after the lock is released,
so a slow receiver never holds the store up. Events: `order.new`, `order.status`, `customer.new`,
`product.new`, `product.changed`, `product.stock` (§3's event names, mapped to EventType codes by
`webhooks`).
"""
from __future__ import annotations

import threading
from typing import Any, Callable

from .catalogue import Catalogue
from .clock import StoreClock
from .customer_book import CustomerBook
from .order_book import OrderBook
from .wire import ApiError

Listener = Callable[[str, dict[str, Any]], None]

# OrderStatusID -> (StatusDefinition, default StatusText). 1-6 and 11 from 3dcart's own sample (H),
# 7-10 and 12 from SkuVault's enum (M) (shift4shop.md §2.1 status table).
STATUS_DEFINITIONS: dict[int, str] = {
    1: "New", 2: "Processing", 3: "Partial", 4: "Shipped", 5: "Cancel", 6: "Hold", 7: "NotCompleted",
    8: "Custom1", 9: "Custom2", 10: "Custom3", 11: "Unpaid", 12: "Review",
}


class StatusTable:
    """`GET /OrderStatus` rows: OrderStatusID, Sorting, StatusDefinition (fixed), StatusText (the
    merchant's label, editable through `/_sim/order-status`), Visible (§2.1)."""

    def __init__(self) -> None:
        self.rows = {sid: {"OrderStatusID": sid, "Sorting": sid, "StatusDefinition": d, "StatusText": d,
                           "Visible": True} for sid, d in STATUS_DEFINITIONS.items()}

    def known(self, sid: int) -> bool:
        return sid in self.rows

    def rename(self, sid: int, text: str | None = None, visible: bool | None = None) -> dict[str, Any]:
        if sid not in self.rows:
            raise ApiError(404, "Order status not found", "OrderStatusID", str(sid))
        if text is not None:
            self.rows[sid]["StatusText"] = text
        if visible is not None:
            self.rows[sid]["Visible"] = visible
        return dict(self.rows[sid])

    def list(self) -> list[dict[str, Any]]:
        return [dict(r) for r in sorted(self.rows.values(), key=lambda r: r["Sorting"])]


class Shift4ShopStore:
    """Composition root of the simulated store. `invoice_prefix` is the store's InvoiceNumberPrefix
    (includes its separator, §2.1 "AB-")."""

    def __init__(self, clock: StoreClock | None = None, *, invoice_prefix: str = "AB-",
                 first_order_id: int = 5001, first_invoice_number: int = 1000,
                 first_catalog_id: int = 101, first_customer_id: int = 201,
                 reduce_stock_on_order: bool = True) -> None:
        self.clock = clock or StoreClock()
        self.lock = threading.RLock()
        self._listeners: list[Listener] = []
        self.statuses = StatusTable()
        self.catalogue = Catalogue(self, first_catalog_id)
        self.customers = CustomerBook(self, first_customer_id)
        self.orders = OrderBook(self, invoice_prefix, first_order_id, first_invoice_number, reduce_stock_on_order)

    def now(self) -> float:
        return self.clock.now()

    def add_listener(self, fn: Listener) -> None:
        self._listeners.append(fn)

    def emit(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        """Called by the books with the lock released."""
        for event, snapshot in events:
            for fn in list(self._listeners):
                fn(event, snapshot)

    def summary(self) -> dict[str, Any]:
        with self.lock:
            return {"orders": self.orders.count(), "products": self.catalogue.count(),
                    "customers": self.customers.count(), "clock": self.clock.snapshot()}
