"""The store's customers (shift4shop.md §2.3): GET/POST /Customers, PUT /Customers/{id}.

- `Email` is required (≤100) and `Password` is required on create (§2.3); a second customer with the
  same email is refused (400; ASSUMPTION: 3dcart logins are unique per store, the reference is silent).
- Customers list in CustomerID order (ASSUMPTION, as for orders).
- A create emits `customer.new` (§3 "Customer New"); updates emit nothing (no such event in §3).
"""
from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from . import records as rm
from .query import Filters
from .values import FieldError, apply_fields

if TYPE_CHECKING:
    from .store import Shift4ShopStore


class CustomerBook:
    def __init__(self, store: "Shift4ShopStore", first_id: int) -> None:
        self.s = store
        self._customers: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(first_id)

    def count(self) -> int:
        return len(self._customers)

    def _render(self, c: dict[str, Any]) -> dict[str, Any]:
        out = rm.render_customer(c)
        out["LastUpdate"] = self.s.clock.wire(c["LastUpdate"])
        return out

    def raw(self, cid: int) -> dict[str, Any] | None:
        return self._customers.get(cid)

    def query(self, filters: Filters, offset: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
        with self.s.lock:
            matching = [c for _, c in sorted(self._customers.items()) if filters.match(c)]
            return len(matching), [self._render(c) for c in matching[offset - 1: offset - 1 + limit]]

    def get(self, cid: int) -> dict[str, Any] | None:
        with self.s.lock:
            c = self._customers.get(cid)
            return self._render(c) if c else None

    def _email_taken(self, email: str, by: int | None) -> bool:
        want = email.strip().lower()
        return any(c["Email"].strip().lower() == want and cid != by for cid, c in self._customers.items())

    def _check_email(self, email: str, by: int | None) -> None:
        if not email.strip() or len(email) > rm.EMAIL_MAX or "@" not in email:
            raise FieldError("Email", email)
        if self._email_taken(email, by):
            raise FieldError("Email", email)

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /Customers body (FieldError for a missing/invalid Email or Password)."""
        with self.s.lock:
            fields: dict[str, Any] = {}
            apply_fields(fields, body, rm.CUSTOMER_WRITABLE)
            self._check_email(fields.get("Email", ""), None)
            if not fields.get("Password"):
                raise FieldError("Password", "")
            c = rm.new_customer(next(self._ids), self.s.now(), fields)
            self._customers[c["CustomerID"]] = c
            snapshot = self._render(c)
        self.s.emit([("customer.new", snapshot)])
        return snapshot

    def create_from_billing(self, billing: dict[str, Any]) -> dict[str, Any]:
        """A shopper registering at checkout (lock held by the order book; the caller emits)."""
        fields = {"Email": billing.get("email", ""), "Password": "checkout-registered",
                  "BillingFirstName": billing.get("first_name", ""), "BillingLastName": billing.get("last_name", ""),
                  "BillingCompany": billing.get("company", ""), "BillingAddress1": billing.get("address", ""),
                  "BillingAddress2": billing.get("address2", ""), "BillingCity": billing.get("city", ""),
                  "BillingState": billing.get("state", ""), "BillingZipCode": billing.get("zip", ""),
                  "BillingCountry": billing.get("country", "US"), "BillingPhoneNumber": billing.get("phone", "")}
        for k in list(fields):
            if k.startswith("Billing") and k != "BillingTaxID":
                fields["Shipping" + k[len("Billing"):]] = fields[k]
        try:
            self._check_email(fields["Email"], None)
        except FieldError:
            raise ValueError(f"cannot register {fields['Email']!r}: missing, invalid or already registered") from None
        c = rm.new_customer(next(self._ids), self.s.now(), fields)
        self._customers[c["CustomerID"]] = c
        return self._render(c)

    def update(self, cid: int, body: dict[str, Any]) -> bool:
        """PUT /Customers/{id}; False for an unknown id."""
        with self.s.lock:
            c = self._customers.get(cid)
            if c is None:
                return False
            staged = dict(c)
            apply_fields(staged, body, rm.CUSTOMER_WRITABLE)
            if staged["Email"] != c["Email"]:
                self._check_email(staged["Email"], cid)
            if "Password" in body and not staged["Password"]:
                raise FieldError("Password", "")
            c.update(staged)
            c["LastUpdate"] = self.s.now()
        return True
