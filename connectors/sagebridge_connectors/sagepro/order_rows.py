"""A canonical order -> the somast (header), soaddr (ship-to) and sotran (lines) rows, by logical
field (the layout turns them into columns and checks every width before anything is sent).

Only the tables' shape lives here; every business choice was made by transform from the pair's
mapping (the ERP customer, item numbers by `mapping.items`, charge placements and codes by
`mapping.order_charges`, the tax mode). What a Sage Pro order holds:

- header: sono (from the numbering row, set inside the transaction), custno, ponum = the reference
  (pair prefix + store number, the guard), ordate = the store-local order date, shipvia, tax
  (tax_mode store: the store's tax; erp: 0, Sage Pro computes), freight (header shipping charges),
  discount (header discounts, a positive amount off), ordamt = the store's total, loctid, currid,
  adduser/adddate/addtime (store-local: the ERP's users read them as their own clock).
- a line per order line: item, qtyord, price (unit), discount, extprice (the store's line total),
  loctid (erp.location, else the line's mapped location, else mapping.default_location).
- a line per `line` charge: the charge code as item, quantity 1, the amount as price and extprice
  (a discount line negative, so the lines add up to the total).

Orders without `charges` (v1/v2) keep shipping_total and discount_total, placed by the pair's
shipping rule and as a header discount.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sagebridge_common.errors import PermanentError

from .layout import Layout

ZERO = Decimal(0)
HEADER_KINDS = {"shipping": "freight", "discount": "discount"}


def check_charge_rules(charges: Any, layout: Layout) -> None:
    """At start: every placement the mapping asks for has somewhere to go in this layout."""
    header, lines = layout.table("order_header"), layout.table("order_line")
    item_width = lines.columns["item"].width or 0
    for kind in ("shipping", "handling", "discount", "surcharge"):
        rule = getattr(charges, kind)
        if rule is None:
            continue
        if rule.placement == "header":
            field = HEADER_KINDS.get(kind)
            if field is None:
                raise PermanentError(f"mapping.order_charges.{kind}: placement header is only for shipping (somast "
                                     "freight) and discount (somast disc); use a line with a code",
                                     reason="sagepro_charge_placement")
            if field not in header.columns:
                raise PermanentError(f"mapping.order_charges.{kind}: placement header needs the order_header field "
                                     f"{field!r}, which erp.layout removed", reason="sagepro_charge_placement")
        elif rule.code and len(rule.code) > item_width:
            raise PermanentError(f"mapping.order_charges.{kind}.code {rule.code!r} has {len(rule.code)} characters; "
                                 f"sotran item holds {item_width}", reason="sagepro_charge_code_too_long")


@dataclass
class OrderRows:
    header: dict[str, Any]
    address: dict[str, Any] | None
    lines: list[dict[str, Any]]
    store_tax: Decimal          # for the total check (written as 0 in tax_mode erp)


def _charges(order: dict, mapping: Any) -> list[dict]:
    if order.get("charges"):
        return list(order["charges"])
    out = []                                  # a v1/v2 order: its shipping and discount totals
    if order.get("shipping_total"):
        rule = mapping.order_charges.shipping
        out.append({"kind": "shipping", "placement": rule.placement, "code": rule.code,
                    "amount": order["shipping_total"], "description": order.get("shipping_method") or "Shipping"})
    if order.get("discount_total"):
        out.append({"kind": "discount", "placement": "header", "code": None, "amount": order["discount_total"],
                    "description": "Discount"})
    return out


def _address(order: dict) -> dict | None:
    a = order.get("shipping_address") or order.get("billing_address")
    if not a:
        return None
    customer = order["customer"]
    person = " ".join(p for p in ((customer.get("first_name") or "").strip(),
                                  (customer.get("last_name") or "").strip()) if p)
    return {"name": a.get("company") or a.get("name"), "contact": a.get("name") or person,
            "address1": a.get("line1"), "address2": a.get("line2"), "city": a.get("city"),
            "state": a.get("region_code") or a.get("region"), "zip": a.get("postal_code"),
            "country": a.get("erp_country") or a.get("country"), "phone": a.get("phone") or customer.get("phone")}


def build(order: dict, pair: Any, *, reference: str, order_date: date, now_local: datetime) -> OrderRows:
    cfg, mapping = pair.erp, pair.mapping
    customer = order["customer"]["erp_customer_id"]
    location = cfg.location or mapping.default_location
    freight = discount = ZERO
    charge_lines = []
    for charge in _charges(order, mapping):
        amount: Decimal = charge["amount"]
        if charge["placement"] == "header":
            if charge["kind"] not in HEADER_KINDS:
                raise PermanentError(f"a {charge['kind']} charge cannot be a Sage Pro header amount",
                                     reason="sagepro_charge_placement")
            if charge["kind"] == "shipping":
                freight += amount
            else:
                discount += amount
            continue
        if not charge.get("code"):
            raise PermanentError(f"charge {charge.get('description')!r} goes on a line but has no code",
                                 reason="sagepro_charge_without_code")
        signed = -amount if charge["kind"] == "discount" else amount
        charge_lines.append({"item": charge["code"], "descrip": charge.get("description") or charge["kind"],
                             "qtyord": Decimal(1), "price": signed, "discount": ZERO, "extprice": signed,
                             "loctid": location})
    item_rule = mapping.items.number_rule
    lines = [{"item": line.get("item_number") or item_rule.to_erp(line["sku"]), "descrip": line.get("name"),
              "qtyord": line["quantity"], "price": line["unit_price"], "discount": line.get("discount") or ZERO,
              "extprice": line["line_total"],
              "loctid": cfg.location or line.get("location_code") or mapping.default_location}
             for line in order["lines"]] + charge_lines
    for n, line in enumerate(lines, start=1):
        line.update(tranlineno=n, custno=customer, ordate=order_date)
    store_tax: Decimal = order.get("tax_total") or ZERO
    header = {"custno": customer, "ponum": reference, "ordate": order_date, "shipvia": order.get("ship_via_code"),
              "tax": store_tax if order.get("tax_mode", "store") == "store" else ZERO, "freight": freight,
              "discount": discount, "ordamt": order["total"], "loctid": location, "currency": order["currency"],
              "adduser": cfg.user_stamp, "adddate": now_local.date(), "addtime": now_local.strftime("%H:%M:%S")}
    return OrderRows(header, _address(order), lines, store_tax)
