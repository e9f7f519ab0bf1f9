"""X-Cart customers → the order's customer (v2 OrderCustomer) and canonical customers (v2 Customer).

X-Cart's login is the e-mail; an order carries `email` and `customer_id` (the registered profile,
null for a guest). Identity is `email_key` (trimmed, lower case): the writer finds or creates the
ERP customer by it, and commerce.customers.v1 is keyed by it so every event of one e-mail is in
order on one partition. A guest order goes to the template's default ERP customer
(`customers.guests: default_customer`) or becomes a customer of its own (`own_customer`, id
"guest:<email_key>"). Raw `profile` records (ingest: {"profile": ..., "addresses": [...]} from
`/api/profiles/{id}` and its addresses) become customers too.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sagebridge_common.customers import email_key
from sagebridge_common.errors import PermanentError
from sagebridge_common.pairs import PairConfig

from .address import address
from .values import parse_json, parse_time, text

ADMIN_ACCESS_LEVEL = 100     # X-Cart Profile access_level: 0 customer, 100 administrator
_UNCHANGING = ("metadata", "created_at", "updated_at", "source_version")


def order_customer(o: dict, pair: PairConfig) -> dict:
    """The customer of an X-Cart order, as the order and its payments carry it."""
    mapping = pair.mapping
    email = text(o.get("email"))
    key = email_key(email)
    if not key:
        raise PermanentError(f"order {o.get('id')} has no e-mail", reason="invalid_order")
    billing = o.get("billing_address") or {}
    guest = o.get("customer_id") is None
    to_default = guest and mapping.customers.guests == "default_customer"
    return {"storefront_customer_id": None if guest else str(o["customer_id"]), "email": email,
            "email_key": key, "first_name": text(billing.get("firstname")) or "",
            "last_name": text(billing.get("lastname")) or "", "phone": text(billing.get("phone")),
            "is_guest": guest, "erp_customer_id": mapping.default_customer if to_default else None,
            "new_customer_number": None if to_default else mapping.customer_number(key)}


def customer_from_order(order: dict, pair: PairConfig, metadata: dict) -> dict | None:
    """The canonical customer an order implies: registered customers always, guests only when
    the template gives them their own ERP customer; None otherwise. `order` is the v3 Order."""
    c = order["customer"]
    if c["is_guest"] and pair.mapping.customers.guests != "own_customer":
        return None
    billing = order["billing_address"]
    return {"metadata": metadata,
            "customer_id": "guest:" + c["email_key"] if c["is_guest"] else c["storefront_customer_id"],
            "email": c["email"], "email_key": c["email_key"], "first_name": c["first_name"],
            "last_name": c["last_name"], "company": billing["company"] if billing else None, "phone": c["phone"],
            "is_guest": c["is_guest"], "billing_address": billing, "shipping_address": order["shipping_address"],
            "erp_customer_id": None, "new_customer_number": pair.mapping.customer_number(c["email_key"]),
            "created_at": order["ordered_at"], "updated_at": order["updated_at"],
            "source_version": order["source_version"]}


def _pick(addresses: list[dict], flag: str) -> dict | None:
    return next((a for a in addresses if a.get(flag)), None)


def customer_from_profile(doc: dict, pair: PairConfig, metadata: dict, source_version: str,
                          seen_at: datetime) -> dict | None:
    """The canonical customer of an X-Cart profile; None for an administrator account."""
    p = doc["profile"]
    pid = p.get("profile_id", p.get("id"))
    if pid is None:
        raise PermanentError("profile has no profile_id", reason="invalid_profile")
    try:
        admin = int(p.get("access_level") or 0) >= ADMIN_ACCESS_LEVEL
    except (TypeError, ValueError):
        raise PermanentError(f"profile {pid}: access_level {p.get('access_level')!r} is not a number",
                             reason="invalid_profile") from None
    if admin:
        return None
    email = text(p.get("login")) or text(p.get("email"))
    key = email_key(email)
    if not key:
        raise PermanentError(f"profile {pid} has no login (e-mail)", reason="invalid_profile")
    addresses = [a for a in doc.get("addresses") or [] if isinstance(a, dict)]
    bill_src = _pick(addresses, "is_billing") or (addresses[0] if addresses else None)
    ship_src = _pick(addresses, "is_shipping") or bill_src
    where = f"profile {pid}"
    billing = address(bill_src, email, pair.mapping, where)
    person = bill_src or {}
    added = p.get("added")
    return {"metadata": metadata, "customer_id": str(pid), "email": email, "email_key": key,
            "first_name": text(person.get("firstname")) or text(p.get("firstname")) or "",
            "last_name": text(person.get("lastname")) or text(p.get("lastname")) or "",
            "company": billing["company"] if billing else None, "phone": text(person.get("phone")),
            "is_guest": False, "billing_address": billing,
            "shipping_address": address(ship_src, email, pair.mapping, where),
            "erp_customer_id": None, "new_customer_number": pair.mapping.customer_number(key),
            "created_at": parse_time(added, "profile added", "invalid_profile") if added not in (None, "")
            else seen_at,
            "updated_at": seen_at, "source_version": source_version}


def fingerprint(customer: dict) -> str:
    """What the ERP customer is made of: a change here (name, phone, an address) is worth a new
    customer event; a new order of the same customer, unchanged, is not."""
    kept = {k: v for k, v in customer.items() if k not in _UNCHANGING}
    return hashlib.blake2b(json.dumps(kept, sort_keys=True, default=str).encode(), digest_size=12).hexdigest()


def parse_profile_payload(payload: str) -> dict[str, Any]:
    return parse_json(payload, "profile")
