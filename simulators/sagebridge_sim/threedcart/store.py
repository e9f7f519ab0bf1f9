"""The simulated 3dcart store behind the legacy SOAP "Store Web Service": orders, customers and
products in memory, money as Decimal, times as aware UTC datetimes on a clock tests can shift.

Facts it keeps (shift4shop.md §4): an order's `InvoiceNumber` is the full string, prefix included
("AB-1000"); its status is a store status id whose merchant-editable TEXT is what the XML shows and
what `updateOrderStatus` takes; a product is addressed by its merchant SKU (`ProductID`), not by its
CatalogID. Every change to an order moves its `LastUpdate` (the service renders it store-local).
"""
from __future__ import annotations

import threading
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

# Store status ids and their default texts (the REST OrderStatus table's defaults; labels are editable).
DEFAULT_STATUSES = {1: "New", 2: "Processing", 3: "Partial", 4: "Shipped", 5: "Cancel", 6: "Hold",
                    7: "Not Completed", 11: "Unpaid", 12: "Review"}


class StoreError(Exception):
    """A refusal the SOAP layer turns into `<Error><Id>code</Id>...`."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


@dataclass
class Item:
    sku: str
    name: str
    quantity: Decimal
    unit_price: Decimal
    option_price: Decimal = Decimal("0.00")
    unit_cost: Decimal = Decimal("0.00")


@dataclass
class Shipment:
    shipment_id: int
    method: str = "UPS Ground"
    cost: Decimal = Decimal("0.00")
    date: datetime | None = None          # UTC
    tracking: str = ""


@dataclass
class Order:
    order_id: int
    number: int
    customer_id: int
    email: str
    first_name: str
    last_name: str
    status_id: int
    created_at: datetime                  # UTC
    last_update: datetime                 # UTC
    items: list[Item]
    shipments: list[Shipment]
    tax: Decimal = Decimal("0.00")
    tax2: Decimal = Decimal("0.00")
    tax3: Decimal = Decimal("0.00")
    discount: Decimal = Decimal("0.00")
    payment_method: str = "Online Credit Card"
    transactions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        lines = sum(((i.unit_price + i.option_price) * i.quantity for i in self.items), Decimal("0"))
        ship = sum((s.cost for s in self.shipments), Decimal("0"))
        return (lines + ship + self.tax + self.tax2 + self.tax3 - self.discount).quantize(Decimal("0.01"))


@dataclass
class Customer:
    customer_id: int
    email: str
    first_name: str
    last_name: str
    city: str = "Coral Springs"
    state_code: str = "FL"
    country_code: str = "US"
    phone: str = "800-828-6650"
    last_update: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


@dataclass
class Product:
    catalog_id: int
    sku: str
    name: str
    price: Decimal
    stock: int
    last_update: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


class ThreeDCartStore:
    """Thread-safe store state; every mutator takes the lock and stamps `last_update` with `now()`."""

    def __init__(self, invoice_prefix: str = "AB-", first_number: int = 1000, first_order_id: int = 1) -> None:
        self.lock = threading.RLock()
        self.invoice_prefix = invoice_prefix
        self.statuses: dict[int, str] = dict(DEFAULT_STATUSES)
        self.orders: dict[int, Order] = {}            # by invoice number (the numeric part)
        self.customers: dict[int, Customer] = {}
        self.products: dict[str, Product] = {}        # by SKU
        self.clock_offset = 0.0
        self._next_order_id = first_order_id
        self._next_number = first_number
        self._next_customer = 1
        self._next_catalog = 1
        self._next_shipment = 1
        self.api_enabled = True                        # Settings > API "Enable API" (off: error 18)
        self.allowed_ips: list[str] = []               # optional IP allow-list (outside it: error 16)

    # -- clock -----------------------------------------------------------------------------------
    def now(self) -> datetime:
        return (datetime.now(timezone.utc) + timedelta(seconds=self.clock_offset)).replace(microsecond=0)

    # -- invoice numbers -------------------------------------------------------------------------
    def invoice_of(self, order: Order) -> str:
        return f"{self.invoice_prefix}{order.number}"

    def parse_invoice(self, text: str) -> int:
        """The numeric part of a full invoice string. `invoiceNum` is taken as the service prints
        the invoice, prefix included: shift4shop.md §4 "SOAP order InvoiceNumber is the full
        "AB-1000" string", and the recorded updateOrderStatus answer (Menes1337 mock
        updateOrderStatus/response.xml) echoes `<InvoiceNum>AB-1000</InvoiceNum>` (confidence M: the
        PDF names the parameter, no recorded request shows its value). A bare number or another
        prefix is not this store's invoice: error 35 (invalid invoice)."""
        if not text.startswith(self.invoice_prefix) or not text[len(self.invoice_prefix):].isdigit():
            raise StoreError(35, "Invalid Invoice Number")
        return int(text[len(self.invoice_prefix):])

    def order_by_invoice(self, text: str) -> Order:
        number = self.parse_invoice(text)
        order = self.orders.get(number)
        if order is None:
            raise StoreError(49, "Order not found")
        return order

    def status_id_of(self, text: str) -> int:
        """Exact match on the merchant's status text (error 39 otherwise)."""
        for sid, label in self.statuses.items():
            if label == text:
                return sid
        raise StoreError(39, "Invalid Status")

    # -- mutators (admin routes and SOAP writes) -------------------------------------------------
    def add_customer(self, email: str, first_name: str = "Test", last_name: str = "Customer", **extra: Any) -> Customer:
        with self.lock:
            c = Customer(self._next_customer, email, first_name, last_name, last_update=self.now(), **extra)
            self.customers[c.customer_id] = c
            self._next_customer += 1
            return c

    def add_product(self, sku: str, name: str = "", price: Decimal = Decimal("10.00"), stock: int = 0) -> Product:
        with self.lock:
            if sku in self.products:
                raise ValueError(f"product {sku} exists")
            p = Product(self._next_catalog, sku, name or sku, Decimal(price), int(stock), self.now())
            self.products[sku] = p
            self._next_catalog += 1
            return p

    def place_order(self, *, email: str, items: list[Item], first_name: str = "Test", last_name: str = "Customer",
                    status_id: int = 1, shipping_cost: Decimal = Decimal("0.00"), tax: Decimal = Decimal("0.00"),
                    discount: Decimal = Decimal("0.00"), shipments: int = 1, created_at: datetime | None = None,
                    payment_method: str = "Online Credit Card", transaction_type: str = "Sale") -> Order:
        if status_id not in self.statuses:
            raise ValueError(f"unknown status id {status_id}")
        with self.lock:
            now = self.now()
            customer = next((c for c in self.customers.values() if c.email == email), None)
            ships = [Shipment(self._next_shipment + i, cost=shipping_cost if i == 0 else Decimal("0.00"))
                     for i in range(max(1, shipments))]
            self._next_shipment += len(ships)
            order = Order(self._next_order_id, self._next_number, customer.customer_id if customer else 0, email,
                          first_name, last_name, status_id, created_at or now, now, items, ships,
                          tax=tax, discount=discount, payment_method=payment_method)
            order.transactions.append({"TransactionId": f"T{order.order_id:06d}", "TransactionType": transaction_type,
                                       "Amount": order.total})
            self.orders[order.number] = order
            self._next_order_id += 1
            self._next_number += 1
            return order

    def set_status(self, order: Order, status_id: int) -> None:
        with self.lock:
            order.status_id = status_id
            order.last_update = self.now()

    def set_shipment(self, order: Order, shipment_id: str, tracking: str, date: datetime | None) -> Shipment:
        """`shipmentID` empty: the order's only shipment; with several, the id is needed (§4
        "shipmentID (needed for multi-shipment)"): error 43 without it or for another order's id."""
        with self.lock:
            if shipment_id:
                ship = next((s for s in order.shipments if str(s.shipment_id) == shipment_id), None)
                if ship is None:
                    raise StoreError(43, "Invalid Data: shipmentID")
            elif len(order.shipments) == 1:
                ship = order.shipments[0]
            else:
                raise StoreError(43, "Invalid Data: shipmentID required for an order with several shipments")
            ship.tracking = tracking
            if date is not None:
                ship.date = date
            order.last_update = self.now()
            return ship

    def change_inventory(self, sku: str, quantity: int, replace: bool) -> Product:
        with self.lock:
            product = self.products.get(sku)
            if product is None:
                raise StoreError(46, "Product not found")
            product.stock = quantity if replace else product.stock + quantity
            product.last_update = self.now()
            return product

    # -- reads -----------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "invoice_prefix": self.invoice_prefix,
                "statuses": {str(k): v for k, v in self.statuses.items()},
                "orders": [self._order_json(o) for o in sorted(self.orders.values(), key=lambda o: o.number)],
                "customers": [_plain(vars(c)) for c in self.customers.values()],
                "products": [_plain(vars(p)) for p in self.products.values()],
                "api_enabled": self.api_enabled, "allowed_ips": list(self.allowed_ips),
                "now": self.now().isoformat(),
            }

    def _order_json(self, o: Order) -> dict[str, Any]:
        data = _plain(deepcopy(vars(o)))
        data.update(invoice=self.invoice_of(o), status_text=self.statuses[o.status_id], total=str(o.total))
        return data


def _plain(value: Any) -> Any:
    """JSON-ready copy: Decimals and datetimes as strings, dataclasses as dicts."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return _plain(vars(value))
    if isinstance(value, (Decimal, datetime)):
        return str(value) if isinstance(value, Decimal) else value.isoformat()
    return value
