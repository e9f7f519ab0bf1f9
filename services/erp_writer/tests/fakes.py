"""A fake ERP that behaves like Sage 300 where the writer's correctness depends on it, canonical
v3 Order / v2 Payment / v2 Refund / v2 Customer records, and an in-memory link table.

FakeSage keeps customers by number and answers a create of an existing number the way the Sage
300 sink turns Sage's 409 RecordDuplicate into: already present. Its lookup and create are two
steps with an optional window between them (`race_window_s`), as two HTTP calls are, so
concurrent creators of one e-mail really race. Receipts and adjustments refuse an unknown
customer number (Sage: 400 RecordInvalid), so a writer that forgot to resolve the customer fails.
Also loaded by tests/integration/test_erp_writer_customers.py.
"""
from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal

from sagebridge_common.contracts import WriteOutcome
from sagebridge_common.customers import email_key
from sagebridge_common.errors import PermanentError
from sagebridge_common.events import Output, new_metadata

Q = Decimal("0.0001")


def D(text: str) -> Decimal:
    return Decimal(text).quantize(Q)


class FakeSage:
    kind = "sage300"

    def __init__(self, prefix: str = "XC1-", race_window_s: float = 0.0) -> None:
        self.prefix, self.race_window_s = prefix, race_window_s
        self.lock = threading.Lock()
        self.customers: dict[str, dict] = {"WEBCUST": {"email_key": "", "customer_id": "seed"}}
        self.orders: dict[str, dict] = {}
        self.receipts: dict[str, dict] = {}
        self.adjustments: dict[str, dict] = {}
        self.calls: Counter = Counter()
        self.customer_calls: list[tuple[str, bool]] = []       # (email_key, update)
        self.created_customers = 0
        self.fail_next_order: Exception | None = None

    def _count(self, op: str) -> None:
        with self.lock:
            self.calls[op] += 1

    def ensure_customer(self, customer: dict, *, update: bool = True) -> WriteOutcome:
        self._count("ensure_customer")
        with self.lock:
            self.customer_calls.append((customer["email_key"], update))
            found = [n for n, c in self.customers.items() if c["email_key"] == customer["email_key"]]
        if found:
            if update:
                with self.lock:
                    self.customers[found[0]].update(first_name=customer["first_name"],
                                                    last_name=customer["last_name"], phone=customer["phone"])
                    self.customers[found[0]].update({k: customer[k] for k in ("billing_address", "shipping_address")
                                                     if customer.get(k)})     # Sage: an absent address is left as is
                return WriteOutcome("updated", found[0])
            return WriteOutcome("already_present", found[0])
        time.sleep(self.race_window_s)
        number = customer["new_customer_number"]
        with self.lock:
            if number in self.customers:                 # 409 RecordDuplicate: someone created it meanwhile
                return WriteOutcome("already_present", number)
            self.customers[number] = dict(customer)
            self.created_customers += 1
        return WriteOutcome("created", number)

    def _known_customer(self, record: dict) -> str:
        number = record["customer"]["erp_customer_id"]
        if number not in self.customers:
            raise PermanentError(f"RecordInvalid: customer {number!r} does not exist", reason="record_invalid")
        return number

    def ensure_order(self, order: dict) -> WriteOutcome:
        self._count("ensure_order")
        if self.fail_next_order is not None:
            exc, self.fail_next_order = self.fail_next_order, None
            raise exc
        self._known_customer(order)
        reference = self.prefix + order["order_number"]
        with self.lock:
            if reference in self.orders:
                return WriteOutcome("already_present", self.orders[reference]["number"])
            self.orders[reference] = {"number": f"ORD{len(self.orders) + 1:06d}", "order": order}
            return WriteOutcome("created", self.orders[reference]["number"])

    def _ensure_batch(self, table: dict, description: str, record: dict, op: str) -> WriteOutcome:
        self._count(op)
        self._known_customer(record)
        with self.lock:
            if description in table:
                return WriteOutcome("already_present", table[description]["batch"])
            table[description] = {"batch": f"{len(table) + 1:06d}", "record": record}
            return WriteOutcome("created", table[description]["batch"])

    def ensure_payment(self, payment: dict) -> WriteOutcome:
        return self._ensure_batch(self.receipts, f"{self.prefix}{payment['order_number']}-P{payment['transaction_id']}",
                                  payment, "ensure_payment")

    def ensure_refund(self, refund: dict) -> WriteOutcome:
        return self._ensure_batch(self.adjustments, f"{self.prefix}{refund['order_number']}-R{refund['refund_id']}",
                                  refund, "ensure_refund")

    def ping(self) -> tuple[bool, str]:
        return True, "fake"


class MemoryLinks:
    """LinkTable's handler side without a broker; `confirm()` plays the tail reading links back."""

    def __init__(self, topic: str = "links") -> None:
        self.topic, self.data, self.unconfirmed = topic, {}, {}

    def get(self, key, default=None):
        return self.data.get(key, default)

    def put(self, key, value) -> Output:
        raw = json.dumps(value, sort_keys=True).encode()
        self.data[key], self.unconfirmed[key] = json.loads(raw), raw
        return Output(self.topic, key, None, raw)

    def unconfirmed_output(self, key):
        raw = self.unconfirmed.get(key)
        return None if raw is None else Output(self.topic, key, None, raw)

    def confirm(self) -> None:
        self.unconfirmed.clear()


def _meta(kind: str, entity_id: str, pair_id: str, at: datetime) -> dict:
    return new_metadata(kind, source_system="xcart", source_instance="default", source_entity_id=entity_id,
                        pair_id=pair_id, occurred_at=at)


def order_customer(email: str | None = "Ann@Example.com", *, number: str | None = None, guest_default: bool = False,
                   storefront_id: str | None = "42") -> dict:
    key = email_key(email)
    return {"storefront_customer_id": None if guest_default else storefront_id, "email": email, "email_key": key,
            "first_name": "Ann", "last_name": "Lee", "phone": "555-0100", "is_guest": guest_default,
            "erp_customer_id": "WEBCUST" if guest_default else None,
            "new_customer_number": None if guest_default else (number or ("W" + key.split("@")[0].upper())[:12])}


def address() -> dict:
    return {"name": "Ann Lee", "company": "Lee & Co", "line1": "1 Main Street", "line2": None, "city": "New York",
            "region": "New York", "postal_code": "10001", "country": "US", "phone": "555-0100", "email": None,
            "region_code": "NY", "erp_country": "USA"}


def order(order_id: str, number: str, pair_id: str, *, customer: dict | None = None, status: str = "paid",
          ready: bool = True, total: str = "30.00", lines: list[tuple[str, str, str]] | None = None,
          at: datetime | None = None) -> dict:
    """A v3 Order: lines as (sku, quantity, unit price); 2 × 12.50 + 5.00 shipping = 30.00."""
    at = at or datetime.now(timezone.utc)
    rows = lines or [("WIDGET-1", "2", "12.50")]
    return {
        "metadata": _meta("order.created", order_id, pair_id, at), "order_id": order_id, "order_number": number,
        "status": status, "fulfilment_status": "unfulfilled", "ready_for_erp": ready, "ordered_at": at,
        "updated_at": at, "currency": "USD", "customer": customer or order_customer(),
        "billing_address": address(), "shipping_address": address(),
        "lines": [{"line_id": str(i + 1), "sku": sku, "name": sku.title(), "quantity": D(qty), "unit_price": D(price),
                   "discount": D("0"), "line_total": (D(qty) * D(price)).quantize(Q), "location_code": "1", "item_number": sku}
                  for i, (sku, qty, price) in enumerate(rows)],
        "subtotal": D("25.00"), "discount_total": D("0"), "shipping_total": D("5.00"), "tax_total": D("0"),
        "total": D(total), "tax_included": False, "shipping_method": "UPS Ground", "ship_via_code": "UPSGRD",
        "payment_method": "Credit Card", "payment_method_code": "CC", "notes": None, "source_version": "1",
        "charges": [{"kind": "shipping", "code": "FRT", "placement": "line", "amount": D("5.00"),
                     "description": "UPS Ground"}],
        "tax_mode": "store", "rate_type": None, "coupon_codes": [],
    }


def payment(order_id: str, number: str, pair_id: str, txn: str = "t55", *, customer: dict | None = None,
            amount: str = "30.00") -> dict:
    at = datetime.now(timezone.utc)
    return {"metadata": _meta("payment.captured", order_id, pair_id, at), "order_id": order_id, "order_number": number,
            "transaction_id": txn, "customer": customer or order_customer(), "method": "Credit Card",
            "method_code": "CC", "amount": D(amount), "currency": "USD", "captured_at": at, "bank_code": "SEATAC",
            "receipt_type": "Prepayment", "fee_amount": None, "fee_expense_account": None, "fee_clearing_account": None}


def refund(order_id: str, number: str, pair_id: str, refund_id: str = "b7", *, customer: dict | None = None,
           amount: str = "10.00", paid: str = "30.00", refunded: str | None = None) -> dict:
    at = datetime.now(timezone.utc)
    return {"metadata": _meta("refund.completed", order_id, pair_id, at), "order_id": order_id,
            "order_number": number, "refund_id": refund_id, "payment_transaction_id": "t55",
            "customer": customer or order_customer(), "amount": D(amount), "currency": "USD", "paid_total": D(paid),
            "refunded_total": D(refunded or amount), "lines": [], "reason": "damaged", "refunded_at": at,
            "gl_account": "4030", "distribution_code": None}


def customer(pair_id: str, email: str = "Ann@Example.com", profile_id: str = "42", first_name: str = "Ann") -> dict:
    at = datetime.now(timezone.utc)
    key = email_key(email)
    return {"metadata": _meta("customer.updated", profile_id, pair_id, at), "customer_id": profile_id,
            "email": email.strip(), "email_key": key, "first_name": first_name, "last_name": "Lee", "company": None,
            "phone": "555-0100", "is_guest": False, "billing_address": address(), "shipping_address": None,
            "erp_customer_id": None, "new_customer_number": ("W" + key.split("@")[0].upper())[:12],
            "created_at": at, "updated_at": at, "source_version": "1"}
