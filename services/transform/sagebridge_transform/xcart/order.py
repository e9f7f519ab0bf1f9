"""X-Cart 5.5 order JSON → canonical Order (sagebridge.v3.Order).

The arithmetic follows X-Cart's own (5.5 order DTO): surcharges carry shipping (`shipping`),
handling (`handling`), tax (`tax`; `include=true` means already inside the prices, so it is not added
again) and discounts (`discount`, negative values such as DCOUPON); total = sub_total + the
non-included surcharges. Each non-tax surcharge becomes an order charge placed as the template's
`mapping.order_charges` says (a misc charge line with its code, or the header discount); tax is the
order's `tax_total`, sent as the store's amount or left to the ERP (`mapping.tax`). Coupon codes come
from the Coupons module's `used_coupons`. SKUs become ERP item numbers by `mapping.items`.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sagebridge_common.errors import PermanentError
from sagebridge_common.pair_mapping import MappingTables
from sagebridge_common.pairs import PairConfig

from .address import address
from .customer import order_customer
from .values import FOUR_PLACES, money, parse_json, parse_time, text

_USABLE_TXN = {"S", "P", "W", "I"}  # completed, in progress, pending, initialized; not failed/void/cancelled
CHARGE_KINDS = {"shipping": "shipping", "handling": "handling", "discount": "discount"}   # else: surcharge


def _surcharge_sum(surcharges: list[dict], *types: str, include: bool | None = None) -> Decimal:
    total = Decimal(0)
    for s in surcharges or []:
        if s.get("type") in types and (include is None or bool(s.get("include")) == include):
            total += money(s.get("value"), f"surcharge {s.get('code')}")
    return total


def charges(surcharges: list[dict], mapping: MappingTables) -> list[dict]:
    """One charge per non-tax order surcharge with a value; discounts as positive money off."""
    out = []
    for s in surcharges or []:
        if s.get("type") == "tax":
            continue
        kind = CHARGE_KINDS.get(str(s.get("type") or ""), "surcharge")
        value = money(s.get("value"), f"surcharge {s.get('code')}")
        if value == 0:
            continue
        rule = mapping.order_charges.rule(kind)
        out.append({"kind": kind, "code": rule.code if rule.placement == "line" else None,
                    "placement": rule.placement, "amount": -value if kind == "discount" else value,
                    "description": text(s.get("name")) or text(s.get("code")) or kind})
    return out


def _line(item: dict, location: str, mapping: MappingTables) -> dict:
    sku = text(item.get("sku")) or ""
    if not sku:
        raise PermanentError(f"order item {item.get('id')} has no SKU", reason="invalid_order")
    qty = money(item.get("amount"), "item amount")
    if qty <= 0:
        raise PermanentError(f"order item {sku} has quantity {qty}", reason="invalid_order")
    price = money(item.get("price"), "item price")
    discount = -_surcharge_sum(item.get("surcharges") or [], "discount")
    return {"line_id": str(item.get("id")), "sku": sku, "name": text(item.get("name")) or sku, "quantity": qty,
            "unit_price": price, "discount": discount,
            "line_total": (price * qty - discount).quantize(FOUR_PLACES, ROUND_HALF_UP), "location_code": location,
            "item_number": mapping.items.number_rule.to_erp(sku)}


def _payment_method(transactions: list[dict]) -> str | None:
    for t in transactions or []:
        if str(t.get("status", "")) in _USABLE_TXN and t.get("name"):
            return str(t["name"])
    return next((str(t["name"]) for t in transactions or [] if t.get("name")), None)


def coupon_codes(o: dict) -> list[str]:
    return [c for c in (text(u.get("code")) for u in o.get("used_coupons") or [] if isinstance(u, dict)) if c]


def parse_payload(payload: str) -> dict:
    return parse_json(payload, "order")


def to_canonical(doc: dict, pair: PairConfig, metadata: dict, source_version: str = "") -> dict:
    """`doc` is ingest's record: {"order": <X-Cart order>, "payment_transactions": [...]}; the
    business choices come from the pair file's `mapping:` block."""
    mapping = pair.mapping
    o = doc["order"]
    items = o.get("items") or []
    if not items:
        raise PermanentError(f"order {o.get('id')} has no items", reason="invalid_order")
    customer = order_customer(o, pair)
    surcharges = o.get("surcharges") or []
    pay_code = (o.get("payment_status") or {}).get("code")
    ship_code = (o.get("shipping_status") or {}).get("code")
    rule = mapping.payment(pay_code)
    method = _payment_method(doc.get("payment_transactions") or [])
    where = f"order {o.get('id')}"
    return {
        "metadata": metadata,
        "order_id": str(o["id"]),
        "order_number": str(o.get("order_number") or o["id"]),
        "status": rule.status,
        "fulfilment_status": mapping.shipping(ship_code),
        "ready_for_erp": rule.ready_for_erp and ship_code not in mapping.block_shipping_status,
        "ordered_at": parse_time(o.get("create_date"), "create_date"),
        "updated_at": parse_time(o.get("update_date") or o.get("create_date"), "update_date"),
        "currency": (text(o.get("currency")) or pair.currency).upper(),
        "customer": customer,
        "billing_address": address(o.get("billing_address"), customer["email"], mapping, f"{where} billing"),
        "shipping_address": address(o.get("shipping_address"), customer["email"], mapping, f"{where} shipping"),
        "lines": [_line(i, mapping.location_code(None), mapping) for i in items],
        "subtotal": money(o.get("sub_total"), "sub_total"),
        "discount_total": -_surcharge_sum(surcharges, "discount"),
        "shipping_total": _surcharge_sum(surcharges, "shipping", "handling"),
        "tax_total": _surcharge_sum(surcharges, "tax", include=False),
        "total": money(o.get("total"), "total"),
        "tax_included": _surcharge_sum(surcharges, "tax", include=True) != 0,
        "shipping_method": text(o.get("shipping_method_name")),
        "ship_via_code": mapping.ship_via_code(o.get("shipping_method_name")),
        "payment_method": method,
        "payment_method_code": mapping.payment_method_code(method),
        "notes": text(o.get("notes")),
        "source_version": source_version,
        "charges": charges(surcharges, mapping),
        "tax_mode": mapping.tax,
        "rate_type": mapping.currency_rate_type,
        "coupon_codes": coupon_codes(o),
    }
