"""X-Cart 5.5 order JSON → canonical Order.

The arithmetic follows X-Cart's own: surcharges carry shipping (`shipping`, plus `handling`), tax
(`tax`; `include=true` means already inside the prices, so it is not added again) and discounts
(`discount`, negative values such as DCOUPON). Money is parsed from the JSON text straight into
Decimal; a float never touches it.
"""
from __future__ import annotations

import json
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sagebridge_common.errors import PermanentError
from sagebridge_common.pairs import PairConfig
from sagebridge_common.times import parse_iso8601

FOUR_PLACES = Decimal("0.0001")
_USABLE_TXN = {"S", "P", "W", "I"}  # completed, in progress, pending, initialized; not failed/void/cancelled


def money(value: Any, field: str) -> Decimal:
    try:
        return Decimal(str(value if value is not None else 0)).quantize(FOUR_PLACES, ROUND_HALF_UP)
    except InvalidOperation as e:
        raise PermanentError(f"{field} is not a number: {value!r}", reason="invalid_order") from e


def parse_time(value: str | None, field: str) -> datetime:
    if not value:
        raise PermanentError(f"{field} missing", reason="invalid_order")
    try:
        return parse_iso8601(value)
    except ValueError as e:
        raise PermanentError(f"{field} is not a date: {value!r}", reason="invalid_order") from e


def _surcharge_sum(surcharges: list[dict], *types: str, include: bool | None = None) -> Decimal:
    total = Decimal(0)
    for s in surcharges or []:
        if s.get("type") in types and (include is None or bool(s.get("include")) == include):
            total += money(s.get("value"), f"surcharge {s.get('code')}")
    return total


def _address(a: dict | None, email: str | None) -> dict | None:
    if not a:
        return None
    name = " ".join(p for p in (a.get("firstname"), a.get("lastname")) if p) or "—"
    return {"name": name, "company": None, "line1": a.get("street") or "", "line2": None,
            "city": a.get("city") or "", "region": a.get("state_name") or None,
            "postal_code": a.get("zipcode") or "", "country": (a.get("country_code") or "").upper(),
            "phone": a.get("phone") or None, "email": email}


def _line(item: dict, location: str) -> dict:
    sku = (item.get("sku") or "").strip()
    if not sku:
        raise PermanentError(f"order item {item.get('id')} has no SKU", reason="invalid_order")
    qty = money(item.get("amount"), "item amount")
    if qty <= 0:
        raise PermanentError(f"order item {sku} has quantity {qty}", reason="invalid_order")
    price = money(item.get("price"), "item price")
    discount = -_surcharge_sum(item.get("surcharges") or [], "discount")
    return {"line_id": str(item.get("id")), "sku": sku, "name": item.get("name") or sku, "quantity": qty,
            "unit_price": price, "discount": discount,
            "line_total": (price * qty - discount).quantize(FOUR_PLACES, ROUND_HALF_UP), "location_code": location}


def _payment_method(transactions: list[dict]) -> str | None:
    for t in transactions or []:
        if str(t.get("status", "")) in _USABLE_TXN and t.get("name"):
            return str(t["name"])
    return next((str(t["name"]) for t in transactions or [] if t.get("name")), None)


def parse_payload(payload: str) -> dict:
    try:
        doc = json.loads(payload, parse_float=Decimal)
    except ValueError as e:
        raise PermanentError(f"raw payload is not JSON: {e}", reason="malformed_payload") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("order"), dict):
        raise PermanentError("raw payload has no `order` object", reason="malformed_payload")
    return doc


def to_canonical(doc: dict, pair: PairConfig, metadata: dict, source_version: str = "") -> dict:
    """`doc` is ingest's record: {"order": <X-Cart order>, "payment_transactions": [...]}; the
    business choices come from the pair file's `mapping:` block."""
    mapping = pair.mapping
    o = doc["order"]
    items = o.get("items") or []
    if not items:
        raise PermanentError(f"order {o.get('id')} has no items", reason="invalid_order")
    email = o.get("email") or ""
    if not email:
        raise PermanentError(f"order {o.get('id')} has no e-mail", reason="invalid_order")
    surcharges = o.get("surcharges") or []
    pay_code = (o.get("payment_status") or {}).get("code")
    ship_code = (o.get("shipping_status") or {}).get("code")
    rule = mapping.payment(pay_code)
    billing = o.get("billing_address") or {}
    method = _payment_method(doc.get("payment_transactions") or [])
    return {
        "metadata": metadata,
        "order_id": str(o["id"]),
        "order_number": str(o.get("order_number") or o["id"]),
        "status": rule.status,
        "fulfilment_status": mapping.shipping(ship_code),
        "ready_for_erp": rule.ready_for_erp and ship_code not in mapping.block_shipping_status,
        "ordered_at": parse_time(o.get("create_date"), "create_date"),
        "updated_at": parse_time(o.get("update_date") or o.get("create_date"), "update_date"),
        "currency": (o.get("currency") or pair.currency).upper(),
        "customer": {"storefront_customer_id": None if o.get("customer_id") is None else str(o["customer_id"]),
                     "email": email, "first_name": billing.get("firstname") or "",
                     "last_name": billing.get("lastname") or "", "phone": billing.get("phone") or None,
                     "erp_customer_id": mapping.default_customer},
        "billing_address": _address(o.get("billing_address"), email),
        "shipping_address": _address(o.get("shipping_address"), email),
        "lines": [_line(i, mapping.location_code(None)) for i in items],
        "subtotal": money(o.get("sub_total"), "sub_total"),
        "discount_total": -_surcharge_sum(surcharges, "discount"),
        "shipping_total": _surcharge_sum(surcharges, "shipping", "handling"),
        "tax_total": _surcharge_sum(surcharges, "tax", include=False),
        "total": money(o.get("total"), "total"),
        "tax_included": _surcharge_sum(surcharges, "tax", include=True) != 0,
        "shipping_method": o.get("shipping_method_name") or None,
        "ship_via_code": mapping.ship_via_code(o.get("shipping_method_name")),
        "payment_method": method,
        "payment_method_code": mapping.payment_method_code(method),
        "notes": o.get("notes") or None,
        "source_version": source_version,
    }
