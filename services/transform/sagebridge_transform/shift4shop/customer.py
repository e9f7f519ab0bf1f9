"""Shift4Shop REST customer (`GET /Customers/{id}`, shift4shop.md §2.3) → v2 Customer.

Ingest's payload is `{"customer": <Customer object>}`. The customer object names its street
`BillingAddress1` / `ShippingAddress1` (the order's is `BillingAddress`). Identity is the e-mail
key (`Email`), as for X-Cart; customer_id = CustomerID. The object has no creation date, so
created_at is when the hub saw it (the raw event's occurred_at); updated_at is `LastUpdate`
(store-local) when present, else the same.
The order's own customer goes through `xcart.customer.customer_from_order`, which reads only the
canonical order and so serves every storefront.
"""
from __future__ import annotations

from datetime import datetime

from sagebridge_common.customers import email_key
from sagebridge_common.errors import PermanentError
from sagebridge_common.pairs import PairConfig

from .address import AddressParts, address
from .values import malformed_is_permanent, parse_json, store_time, text


def _parts(c: dict, side: str) -> AddressParts:
    return AddressParts(c.get(f"{side}FirstName"), c.get(f"{side}LastName"), c.get(f"{side}Company"),
                        c.get(f"{side}Address1"), c.get(f"{side}Address2"), c.get(f"{side}City"),
                        c.get(f"{side}State"), c.get(f"{side}ZipCode"), c.get(f"{side}Country"),
                        c.get(f"{side}PhoneNumber"))


def parse_payload(payload: str) -> dict:
    return parse_json(payload, "customer")


def canonical_customer(customer_id: str | None, email: str | None, billing: AddressParts, shipping: AddressParts,
                       pair: PairConfig, metadata: dict, source_version: str, created_at: datetime,
                       updated_at: datetime) -> dict:
    """The v2 Customer from an API's parts (shared with the SOAP customer)."""
    if customer_id is None:
        raise PermanentError("customer record without a CustomerID", reason="invalid_customer")
    key = email_key(email)
    where = f"customer {customer_id}"
    if not key:
        raise PermanentError(f"{where} has no e-mail", reason="invalid_customer")
    bill = address(billing, email, pair.mapping, f"{where} billing")
    return {"metadata": metadata, "customer_id": customer_id, "email": text(email), "email_key": key,
            "first_name": text(billing.first_name) or "", "last_name": text(billing.last_name) or "",
            "company": text(billing.company), "phone": text(billing.phone), "is_guest": False,
            "billing_address": bill, "shipping_address": address(shipping, email, pair.mapping, f"{where} shipping"),
            "erp_customer_id": None, "new_customer_number": pair.mapping.customer_number(key),
            "created_at": created_at, "updated_at": max(updated_at, created_at) if updated_at else created_at,
            "source_version": source_version}


@malformed_is_permanent("Shift4Shop customer", "invalid_customer")
def customer_from_record(doc: dict, pair: PairConfig, metadata: dict, source_version: str,
                         seen_at: datetime) -> dict | None:
    c = doc["customer"]
    last = c.get("LastUpdate")
    updated = store_time(last, pair.zone, "LastUpdate", "invalid_customer") if text(last) else seen_at
    return canonical_customer(text(c.get("CustomerID")), text(c.get("Email")), _parts(c, "Billing"),
                              _parts(c, "Shipping"), pair, metadata, source_version, min(seen_at, updated), updated)
