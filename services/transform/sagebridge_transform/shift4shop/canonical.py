"""The canonical events of a 3dcart / Shift4Shop order, built the same way for the REST and the
SOAP API: each API's module reads its own field names into `OrderFacts` / `LineFacts`, this
module turns them into the v3 Order (exactly the fields the X-Cart mapper fills, so erp_writer
works unchanged) and v2 Payments.

- Status by id: `mapping.order_status` gives status, ready_for_erp and fulfilment for the store's
  status id (labels are merchant-editable, shift4shop.md §2.1).
- Lines: unit price = item unit price + option price, no line discount (3dcart discounts are
  order-level), location from the item's warehouse id through `mapping.locations` (0 / empty: none).
- Totals (shift4shop.md §2.1, held for all 306 recorded orders): total = Σ unit·qty − discount +
  shipping + tax. A store total off by more than `mapping.order_total_tolerance` is a
  `totals_mismatch` dead letter: the ERP would book a different amount than the store charged.
- Charges: the shipping amount is an order charge and the discount too, placed as
  `mapping.order_charges` says (as X-Cart's surcharges); tax is the order's tax_total.
- Order number: the invoice number the merchant and the ERP reference use. An order without one
  (invoice 0, as in the SOAP mock's order 27) cannot be exported: its reference would collide
  with every other such order; it is a dead letter when its status says "export", otherwise it
  goes out under its order id (the ERP writer skips orders that are not ready).
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sagebridge_common.errors import PermanentError
from sagebridge_common.pair_mapping import MappingTables
from sagebridge_common.pairs import PairConfig

from .values import FOUR_PLACES, money, text

_TAGS = re.compile(r"<[^>]*>")
SALE_TYPES = frozenset({"sale", "capture", "authcapture", "charge"})   # issue 8: money taken, case-insensitive


@dataclass(frozen=True)
class LineFacts:
    line_id: str
    sku: object
    name: object
    quantity: object
    unit_price: object
    option_price: object
    warehouse: object = None


@dataclass(frozen=True)
class OrderFacts:
    order_id: str
    invoice_number: str | None
    status_id: object
    ordered_at: datetime
    updated_at: datetime
    customer: dict
    billing_address: dict | None
    shipping_address: dict | None
    lines: list[LineFacts]
    discount: object
    shipping: object
    taxes: tuple
    total: object
    shipping_method: str | None
    payment_method: str | None
    notes: str | None
    coupon_codes: list[str] = field(default_factory=list)


def plain_name(value: object) -> str | None:
    """Item descriptions may hold HTML option text ("Cap<br>Color:&nbsp;Red"): tags become spaces,
    entities their characters."""
    s = text(value)
    return text(re.sub(r"\s+", " ", html.unescape(_TAGS.sub(" ", s)))) if s else None


def line(f: LineFacts, mapping: MappingTables, where: str) -> dict:
    sku = text(f.sku)
    if not sku:
        raise PermanentError(f"{where}: line {f.line_id} has no SKU", reason="invalid_order")
    qty = money(f.quantity, f"{where} line {sku} quantity")
    if qty <= 0:
        raise PermanentError(f"{where}: line {sku} has quantity {qty}", reason="invalid_order")
    unit = (money(f.unit_price, f"{where} line {sku} unit price")
            + money(f.option_price, f"{where} line {sku} option price"))
    if unit < 0:
        raise PermanentError(f"{where}: line {sku} has a negative price {unit}", reason="invalid_order")
    warehouse = text(f.warehouse)
    return {"line_id": f.line_id, "sku": sku, "name": plain_name(f.name) or sku, "quantity": qty,
            "unit_price": unit, "discount": Decimal(0),
            "line_total": (unit * qty).quantize(FOUR_PLACES, ROUND_HALF_UP),
            "location_code": mapping.location_code(None if warehouse in (None, "0") else warehouse),
            "item_number": mapping.items.number_rule.to_erp(sku)}


def charges(shipping: Decimal, discount: Decimal, shipping_method: str | None, mapping: MappingTables) -> list[dict]:
    out = []
    for kind, amount, description in (("shipping", shipping, shipping_method or "Shipping"),
                                      ("discount", discount, "Discount")):
        if amount == 0:
            continue
        rule = mapping.order_charges.rule(kind)
        out.append({"kind": kind, "code": rule.code if rule.placement == "line" else None,
                    "placement": rule.placement, "amount": amount, "description": description})
    return out


def check_totals(subtotal: Decimal, discount: Decimal, shipping: Decimal, tax: Decimal, total: Decimal,
                 tolerance: Decimal, where: str) -> None:
    computed = subtotal - discount + shipping + tax
    if abs(computed - total) > tolerance:
        raise PermanentError(
            f"{where}: store total {total} but lines {subtotal} - discount {discount} + shipping {shipping} + "
            f"tax {tax} = {computed} (difference {total - computed}, tolerance {tolerance})", reason="totals_mismatch")


def _order_number(f: OrderFacts, ready: bool, where: str) -> str:
    number = text(f.invoice_number)
    if number and number.lstrip("0") and not number.endswith("-0"):
        return number
    if ready:
        raise PermanentError(f"{where} has no invoice number ({f.invoice_number!r}) but its status exports it: "
                             "its ERP reference would collide with other orders", reason="invalid_order")
    return f.order_id


def order(f: OrderFacts, pair: PairConfig, metadata: dict, source_version: str) -> dict:
    """The v3 Order of the facts (same keys as xcart.order.to_canonical)."""
    mapping = pair.mapping
    where = f"order {f.order_id}"
    if not f.lines:
        raise PermanentError(f"{where} has no items", reason="invalid_order")
    rule = mapping.store_order_status(f.status_id)
    lines = [line(li, mapping, where) for li in f.lines]
    subtotal = sum((li["line_total"] for li in lines), Decimal(0))
    discount = money(f.discount, f"{where} discount")
    shipping = money(f.shipping, f"{where} shipping")
    tax = sum((money(t, f"{where} tax") for t in f.taxes), Decimal(0))
    total = money(f.total, f"{where} total")
    check_totals(subtotal, discount, shipping, tax, total, mapping.order_total_tolerance, where)
    return {
        "metadata": metadata, "order_id": f.order_id, "order_number": _order_number(f, rule.ready_for_erp, where),
        "status": rule.status, "fulfilment_status": rule.fulfilment, "ready_for_erp": rule.ready_for_erp,
        "ordered_at": f.ordered_at, "updated_at": max(f.updated_at, f.ordered_at), "currency": pair.currency,
        "customer": f.customer, "billing_address": f.billing_address, "shipping_address": f.shipping_address,
        "lines": lines, "subtotal": subtotal, "discount_total": discount, "shipping_total": shipping,
        "tax_total": tax, "total": total, "tax_included": False, "shipping_method": f.shipping_method,
        "ship_via_code": mapping.ship_via_code(f.shipping_method), "payment_method": f.payment_method,
        "payment_method_code": mapping.payment_method_code(f.payment_method), "notes": f.notes,
        "source_version": source_version, "charges": charges(shipping, discount, f.shipping_method, mapping),
        "tax_mode": mapping.tax, "rate_type": mapping.currency_rate_type, "coupon_codes": f.coupon_codes,
    }


def is_sale(kind: object) -> bool:
    return (text(kind) or "").replace(" ", "").lower() in SALE_TYPES


def payment(txn_id: str, amount: Decimal, at: datetime, method: str | None, order: dict, pair: PairConfig,
            metadata: dict) -> dict:
    """The v2 Payment of one captured transaction (fields as xcart.payments builds them)."""
    mapping = pair.mapping
    name = method or ""
    code = mapping.payment_method_code(name)
    rule = mapping.payments.method(code)
    if rule is None:
        raise PermanentError(f"payment {txn_id} of order {order['order_id']}: no bank for ERP payment code "
                             f"{code!r} (add it, or `default`, under mapping.payments.methods)",
                             reason="payment_method_not_mapped")
    fees = mapping.payments.fees
    fee = fees.fee(code, amount)
    return {"metadata": metadata, "order_id": order["order_id"], "order_number": order["order_number"],
            "customer": order["customer"], "transaction_id": txn_id, "method": name, "method_code": code,
            "amount": amount, "currency": order["currency"], "captured_at": at, "bank_code": rule.bank_code,
            "receipt_type": rule.receipt_type, "fee_amount": fee,
            "fee_expense_account": fees.expense_account if fee is not None else None,
            "fee_clearing_account": fees.clearing_account if fee is not None else None}
