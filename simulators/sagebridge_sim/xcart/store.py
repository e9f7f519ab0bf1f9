"""Thread-safe in-memory X-Cart 5.5 data: orders, payment transactions, products, profiles.

The store renders records in the exact JSON shape of the X-Cart 5.5 API Platform endpoints
(X-Cart's 5.5.1 admin API docs, developer.x-cart.com/api/5.5.1/admin), so the HTTP layer only parses requests and pages
lists. Money is `Decimal` internally and becomes a 2-place float at the JSON edge, as X-Cart sends it.
Times are unix seconds (UTC) on a clock that tests can shift (`clock_offset`) so `lastRenewDate`
can advance without sleeping. Listeners (the push module) are called after the lock is released so
a slow listener can never hold up the store.
"""
from __future__ import annotations

import copy
import itertools
import random
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Iterable

from .categories import Categories
from .catalogue import Catalogue, DuplicateSku, stable_sorted  # noqa: F401  (DuplicateSku: re-exported)
from .formats import CENT, as_float, iso8601, money
from .profiles import ProfileBook, address_json
from .transactions import LETTERS, Transaction
from .variants import Variants

# (code -> (id, name, customer_name)); ids follow the seed order of X-Cart's sql/xlite_data.yaml.
PAYMENT_STATUSES: dict[str, tuple[int, str, str]] = {
    "Q": (1, "Awaiting payment", "Awaiting payment"),
    "A": (2, "Authorized", "Authorized"),
    "PP": (3, "Partially paid", "Partially paid"),
    "P": (4, "Paid", "Paid"),
    "D": (5, "Declined", "Declined"),
    "C": (6, "Cancelled", "Cancelled"),
    "R": (7, "Refunded", "Refunded"),
}
SHIPPING_STATUSES: dict[str, tuple[int, str, str]] = {
    "N": (1, "New", "New"),
    "P": (2, "Processing", "Processing"),
    "S": (3, "Shipped", "Shipped"),
    "D": (4, "Delivered", "Delivered"),
    "WND": (5, "Will not deliver", "Will not deliver"),
    "R": (6, "Returned", "Returned"),
    "WFA": (7, "Waiting for approve", "Waiting for approve"),
    "NBA": (8, "New/Backorder", "New/Backorder"),
}
STATUS_TABLES = {"payment": PAYMENT_STATUSES, "shipping": SHIPPING_STATUSES}

# Order ids share X-Cart's sequence with carts, so real ids have holes; this cycle reproduces that.
_ID_STEPS = (1, 3, 2, 1, 4)

ListenerFn = Callable[[str, dict[str, Any]], None]


def status_json(kind: str, code: str) -> dict[str, Any]:
    """`{id, code, name, customer_name}` as in `payment_status` / `shipping_status`."""
    sid, name, customer_name = STATUS_TABLES[kind][code]
    return {"id": sid, "code": code, "name": name, "customer_name": customer_name}


class UnknownStatus(ValueError):
    """A status code X-Cart does not know (the API answers 400)."""


@dataclass
class Surcharge:
    id: int
    type: str          # tax | discount | shipping | handling
    code: str          # SHIPPING | DCOUPON | DISCOUNT | CDEV.STAX.{rateId}
    cls: str
    name: str
    value: Decimal
    weight: int
    include: bool = False

    def to_api(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "code": self.code, "class": self.cls,
                "include": self.include, "available": True, "value": as_float(self.value),
                "name": self.name, "weight": self.weight}


@dataclass
class Item:
    id: int
    product_id: int
    sku: str
    name: str
    price: Decimal
    amount: int
    variant_id: int | None = None      # XC/ProductVariants: the line's variant (`variant` in the API)

    def subtotal(self) -> Decimal:
        return (self.price * self.amount).quantize(CENT)


@dataclass
class Order:
    id: int
    order_number: str
    date: int                 # creation, unix seconds
    last_renew: int           # lastRenewDate, unix seconds
    created_at_ms: int        # real wall clock, for end-to-end latency measurement
    currency: str
    payment_code: str
    shipping_code: str
    email: str
    customer_id: int | None
    order_profile_id: int
    billing_address: dict[str, Any]
    shipping_address: dict[str, Any]
    shipping_id: int
    shipping_method_name: str
    items: list[Item]
    surcharges: list[Surcharge]
    used_coupons: list[dict[str, Any]] = field(default_factory=list)
    transactions: list[Transaction] = field(default_factory=list)
    notes: str = ""
    admin_notes: str = ""
    stock_status: str = "reduced"
    tracking: list[dict[str, Any]] = field(default_factory=list)    # {id, date, value, carrier}

    def sub_total(self) -> Decimal:
        return sum((i.subtotal() for i in self.items), Decimal("0.00"))

    def total(self) -> Decimal:
        """sub_total + every surcharge not already inside the prices (`include` false), as X-Cart totals."""
        extra = sum((s.value for s in self.surcharges if not s.include), Decimal("0.00"))
        return (self.sub_total() + extra).quantize(CENT)

    def to_api(self) -> dict[str, Any]:
        data = {
            "id": self.id, "order_number": self.order_number,
            "create_date": iso8601(self.date), "update_date": iso8601(self.last_renew),
            "total": as_float(self.total()), "sub_total": as_float(self.sub_total()),
            "currency": self.currency,
            "payment_status": status_json("payment", self.payment_code),
            "shipping_status": status_json("shipping", self.shipping_code),
            "email": self.email, "customer_id": self.customer_id,
            "order_profile_id": self.order_profile_id,
            "billing_address": copy.deepcopy(self.billing_address),
            "shipping_address": copy.deepcopy(self.shipping_address),
            "shipping_id": self.shipping_id, "shipping_method_name": self.shipping_method_name,
            "notes": self.notes, "admin_notes": self.admin_notes, "stock_status": self.stock_status,
            "items": [self._item_json(i) for i in self.items],
            "surcharges": [s.to_api() for s in self.surcharges],
            "tracking_numbers": [{"id": t["id"], "date": iso8601(t["date"]), "value": t["value"]}
                                 for t in self.tracking],
        }
        if self.used_coupons:
            data["used_coupons"] = copy.deepcopy(self.used_coupons)
        return data

    def _item_json(self, item: Item) -> dict[str, Any]:
        return {"id": item.id, "product_id": item.product_id, "sku": item.sku,
                "update_date": iso8601(self.last_renew), "name": item.name,
                "price": as_float(item.price), "item_net_price": as_float(item.price),
                "discounted_subtotal": as_float(item.subtotal()), "amount": item.amount,
                "backordered_amount": 0, "surcharges": [],
                **({"variant": item.variant_id} if item.variant_id is not None else {})}


@dataclass
class OrderQuery:
    """Parsed `/api/orders` filters. Ranges are (op, unix seconds) with op in after/before/strictly_*."""
    last_renew: list[tuple[str, int]] = field(default_factory=list)
    date: list[tuple[str, int]] = field(default_factory=list)
    payment_codes: list[str] = field(default_factory=list)
    shipping_codes: list[str] = field(default_factory=list)
    login: str | None = None
    sort: list[tuple[str, bool]] = field(default_factory=list)   # (field, descending)


_RANGE_OPS: dict[str, Callable[[int, int], bool]] = {
    "after": lambda v, x: v >= x,
    "strictly_after": lambda v, x: v > x,
    "before": lambda v, x: v <= x,
    "strictly_before": lambda v, x: v < x,
}
RANGE_OPS = tuple(_RANGE_OPS)


def _in_ranges(value: int, ranges: Iterable[tuple[str, int]]) -> bool:
    return all(_RANGE_OPS[op](value, bound) for op, bound in ranges)


def _order_key(o: Order, name: str) -> int:
    return {"id": o.id, "lastRenewDate": o.last_renew, "date": o.date}[name]


class XCartStore(Catalogue, Variants, Categories):
    """All simulated X-Cart data behind one re-entrant lock."""

    def __init__(self, seed: int = 5, first_order_id: int = 101, first_order_number: int = 1, *,
                 child_writes_renew: bool = False) -> None:
        """`child_writes_renew`: whether a write to an order's child rows alone (a backend payment
        transaction, a tracking number) bumps the order's lastRenewDate. X-Cart resets it in
        `Order::prepareBeforeSave()`, a Doctrine PreUpdate hook of the order row, so a write that
        saves only a child row should not; that is unconfirmed (reference: X-Cart 5.5.0 source), so
        the default is the stricter "does not", and True models a store where it does."""
        self.child_writes_renew = child_writes_renew
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self.clock_offset = 0.0
        self.orders: dict[int, Order] = {}
        self.products: dict[int, dict[str, Any]] = {}
        self._next_order_id = first_order_id
        self._id_steps = itertools.cycle(_ID_STEPS)
        self._next_number = first_order_number
        self._seq = {k: itertools.count(1) for k in ("item", "surcharge", "address", "txn", "backend", "coupon",
                                                     "tracking")}
        self._profile_seq = itertools.count(1)
        self._product_seq = itertools.count(1)
        self._method_ids: dict[str, int] = {}
        self._shipping_ids: dict[str, int] = {}
        self._listeners: list[ListenerFn] = []
        # Indexes so bulk loads of many orders stay linear.
        self._sku_index: dict[str, int] = {}
        self.profiles = ProfileBook(self._lock, self.now, lambda: next(self._profile_seq),
                                    lambda: next(self._seq["address"]), self._emit)
        self._number_index: dict[str, int] = {}
        self._init_variants()
        self._init_categories()

    # ---- clock and listeners -------------------------------------------------------------

    def now(self) -> float:
        """Simulated wall clock (real time plus the test-controlled offset)."""
        return time.time() + self.clock_offset

    def add_listener(self, fn: ListenerFn) -> None:
        """`fn(event, snapshot)` is called after each change, outside the lock: the order JSON for
        `order.*` events, the profile record (`{"profile", "addresses"}`) for `customer.*` ones."""
        self._listeners.append(fn)

    def _emit(self, event: str, snapshot: dict[str, Any]) -> None:
        for fn in list(self._listeners):
            fn(event, snapshot)

    # ---- profiles ------------------------------------------------------------------------

    def _profile_for(self, email: str, spec: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
        """The registered profile of `email` (login is the e-mail), created with the order's address on
        the customer's first order: (profile id, the new profile's record or None)."""
        found = self.profiles._find(email)
        if found is not None:
            return found, None
        record = self.profiles._create({"login": email, "first_name": spec.get("first_name") or "Test",
                                        "last_name": spec.get("last_name") or "Customer",
                                        "address": spec.get("address") or {}})
        return record["profile"]["id"], record

    # ---- orders --------------------------------------------------------------------------

    def create_order(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Places an order from the compact admin spec (see `app.OrderSpec`); returns sim metadata."""
        with self._lock:
            order, registered = self._build_order(spec)
            self.orders[order.id] = order
            self._number_index[order.order_number] = order.id
            meta = self._meta(order)
            snapshot = order.to_api()
        if registered is not None:
            self._emit("customer.created", registered)
        self._emit("order.created", snapshot)
        return meta

    def _build_order(self, spec: dict[str, Any]) -> tuple[Order, dict[str, Any] | None]:
        # Validate before touching any sequence or stock, so a rejected spec leaves no trace.
        payment_code = self._check_code("payment", spec.get("payment_code") or "P")
        shipping_code = self._check_code("shipping", spec.get("shipping_code") or "N")
        if not spec.get("items"):
            raise ValueError("an order needs at least one item")
        oid = self._next_order_id
        self._next_order_id += next(self._id_steps)
        number = f"{self._next_number:05d}"
        self._next_number += 1
        ts = int(self.now())
        currency = spec.get("currency") or "USD"
        items = [self._build_item(i) for i in spec["items"]]
        surcharges, coupons = self._build_surcharges(spec)
        email = spec.get("email") or f"customer{oid}@example.com"
        customer_id, registered = (None, None) if spec.get("guest") else self._profile_for(email, spec)
        order = Order(
            id=oid, order_number=number, date=ts, last_renew=ts, created_at_ms=int(time.time() * 1000),
            currency=currency, payment_code=payment_code, shipping_code=shipping_code,
            email=email, customer_id=customer_id, order_profile_id=next(self._profile_seq),
            billing_address=self._address(spec, billing=True),
            shipping_address=self._address(spec, billing=False),
            shipping_id=self._shipping_id(spec.get("shipping_method") or "UPS Ground"),
            shipping_method_name=spec.get("shipping_method") or "UPS Ground",
            items=items, surcharges=surcharges, used_coupons=coupons,
            notes=spec.get("notes") or "", admin_notes=spec.get("admin_notes") or "",
        )
        order.transactions.append(self._transaction(order, spec.get("payment_method") or "Credit Card",
                                                    spec.get("payment_type") or "sale"))
        return order, registered

    def _check_code(self, kind: str, code: str) -> str:
        if code not in STATUS_TABLES[kind]:
            raise UnknownStatus(f"unknown {kind} status code {code!r}")
        return code

    def _build_item(self, spec: dict[str, Any]) -> Item:
        """Links the line to the catalogue product (or variant) of that SKU, creating a product if the
        SKU is new, and reduces stock: a variant's own stock unless it uses the product's
        (`default_amount`)."""
        sku, price, amount = spec["sku"], money(spec["price"]), int(spec.get("amount", 1))
        owner = self.sku_owner(sku)
        variant = self.variants[owner[1]] if owner and owner[0] == "variant" else None
        product = self.products[variant["product_id"]] if variant else self._product_by_sku(sku)
        if product is None:
            product = self.products[self.add_product(sku, spec.get("name") or sku, price)]
        stock = variant if variant is not None and not variant["default_amount"] else product
        if product["inventory_traceable"]:
            stock["amount"] = max(0, stock["amount"] - amount)
        return Item(id=next(self._seq["item"]), product_id=product["id"], sku=sku,
                    name=spec.get("name") or product["name"], price=price, amount=amount,
                    variant_id=variant["id"] if variant else None)

    def _build_surcharges(self, spec: dict[str, Any]) -> tuple[list[Surcharge], list[dict[str, Any]]]:
        nxt = self._seq["surcharge"]
        out: list[Surcharge] = []
        coupons: list[dict[str, Any]] = []
        shipping = money(spec.get("shipping") or "0")
        tax = money(spec.get("tax") or "0")
        discount = money(spec.get("discount") or "0")
        if shipping:
            out.append(Surcharge(next(nxt), "shipping", "SHIPPING", "XLite\\Logic\\Order\\Modifier\\Shipping",
                                 "Shipping cost", shipping, 100))
        if discount and spec.get("coupon"):
            out.append(Surcharge(next(nxt), "discount", "DCOUPON", "CDev\\Coupons\\Logic\\Order\\Modifier\\Discount",
                                 "Coupon discount", -discount, 200))
            cid = next(self._seq["coupon"])
            coupons.append({"id": cid, "code": spec["coupon"], "value": as_float(discount), "type": "$",
                            "coupon_id": cid})
        elif discount:
            out.append(Surcharge(next(nxt), "discount", "DISCOUNT", "XLite\\Logic\\Order\\Modifier\\Discount",
                                 "Discount", -discount, 150))
        if tax:
            out.append(Surcharge(next(nxt), "tax", "CDEV.STAX.1", "CDev\\SalesTax\\Logic\\Order\\Modifier\\Tax",
                                 "Sales tax", tax, 1000, include=bool(spec.get("tax_included"))))
        return out, coupons

    def _address(self, spec: dict[str, Any], billing: bool) -> dict[str, Any]:
        """An address of the order's own profile snapshot (`order_profile_id`), guest or not."""
        return address_json(next(self._seq["address"]), spec.get("first_name") or "Test",
                            spec.get("last_name") or "Customer", spec.get("address") or {},
                            billing=billing, shipping=not billing)

    def _shipping_id(self, method: str) -> int:
        return self._shipping_ids.setdefault(method, len(self._shipping_ids) + 1)

    def _transaction(self, order: Order, method: str, kind: str = "sale", status: str = "S",
                     value: Decimal | None = None, date: int | None = None) -> Transaction:
        method_id = self._method_ids.setdefault(method, len(self._method_ids) + 1)
        return Transaction(id=next(self._seq["txn"]), public_id="".join(self._rng.choices(LETTERS, k=8)),
                           public_txn_id=f"TXN{self._rng.randrange(10**9):09d}", method_id=method_id,
                           method_name=method, date=order.date if date is None else date, currency=order.currency,
                           value=order.total() if value is None else value, type=kind, status=status)

    @staticmethod
    def _meta(order: Order) -> dict[str, Any]:
        return {"id": order.id, "order_number": order.order_number, "created_at_ms": order.created_at_ms,
                "last_renew": order.last_renew}

    def sim_meta(self, oid: int) -> dict[str, Any] | None:
        with self._lock:
            order = self.orders.get(oid)
            return self._meta(order) if order else None

    def order_count(self) -> int:
        with self._lock:
            return len(self.orders)

    def get_order(self, oid: int) -> dict[str, Any] | None:
        with self._lock:
            order = self.orders.get(oid)
            return order.to_api() if order else None

    def get_order_by_number(self, number: str) -> dict[str, Any] | None:
        with self._lock:
            order = self.orders.get(self._number_index.get(number, -1))
            return order.to_api() if order else None

    def transactions(self, oid: int, window: slice = slice(None)) -> tuple[int, list[dict[str, Any]]] | None:
        with self._lock:
            order = self.orders.get(oid)
            if order is None:
                return None
            return len(order.transactions), [t.to_api() for t in order.transactions[window]]

    def list_orders(self, q: OrderQuery, window: slice = slice(None)) -> tuple[int, list[dict[str, Any]]]:
        """(number of matches, the matches in `window` rendered) in the requested stable order.
        Only the page is rendered, so polling a large store stays cheap."""
        with self._lock:
            rows = [o for o in self.orders.values() if self._matches(o, q)]
            rows = stable_sorted(rows, q.sort, _order_key)
            return len(rows), [o.to_api() for o in rows[window]]

    @staticmethod
    def _matches(o: Order, q: OrderQuery) -> bool:
        return (_in_ranges(o.last_renew, q.last_renew) and _in_ranges(o.date, q.date)
                and (not q.payment_codes or o.payment_code in q.payment_codes)
                and (not q.shipping_codes or o.shipping_code in q.shipping_codes)
                and (q.login is None or q.login.lower() in o.email.lower()))

    def get_status(self, oid: int, kind: str) -> dict[str, Any] | None:
        with self._lock:
            order = self.orders.get(oid)
            if order is None:
                return None
            return status_json(kind, order.payment_code if kind == "payment" else order.shipping_code)

    def set_status(self, oid: int, kind: str, code: str) -> dict[str, Any] | None:
        """PUT .../payment_status|shipping_status. Every PUT saves the order, so lastRenewDate moves;
        the push module reports a change of code as `order.<kind>_status_changed`, a save with the
        same code as `order.updated`."""
        self._check_code(kind, code)
        with self._lock:
            order = self.orders.get(oid)
            if order is None:
                return None
            changed = getattr(order, f"{kind}_code") != code
            setattr(order, f"{kind}_code", code)
            order.last_renew = int(self.now())
            snapshot = order.to_api()
        self._emit(f"order.{kind}_status_changed" if changed else "order.updated", snapshot)
        return status_json(kind, code)

    def touch(self, oid: int) -> dict[str, Any] | None:
        """Simulates an admin edit: bumps lastRenewDate to now."""
        with self._lock:
            order = self.orders.get(oid)
            if order is None:
                return None
            order.last_renew = int(self.now())
            meta, snapshot = self._meta(order), order.to_api()
        self._emit("order.updated", snapshot)
        return meta
