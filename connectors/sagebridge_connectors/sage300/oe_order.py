"""Canonical Order → Sage 300 OE/OEOrders POST body.

Only the API's shape lives here; every business choice (customer, item numbers, location, ship-via,
charges and their placement, tax mode, rate type, ERP country codes) was already made by transform
from the pair's mapping template; the reference (the pair's prefix + the store's number) and the
local order date come from the pair. Property order matters to Sage (the view applies fields in
order: SDK Developer Reference §4), so the header goes before the details, customer first, and the
source currency before its rate type.

- Lines: `Item` is the ERP item number (`item_number`, the formatted number O/E takes: SDK sample
  OEOrders_OrdersOnly), the store's unit price kept with PriceOverride.
- Charges (v3 `charges`): placement "line" → a Miscellaneous line with the charge's code (OEMISC);
  a discount on a line is a negative amount, since OrderTotal adds misc lines. Placement "header"
  (discounts only) → OrderDiscountAmount.
- Tax: tax_mode "store" → the store's tax as TaxAmount1 with TaxOverride (Sage keeps it instead of
  computing from its tax tables); "erp" → nothing sent, Sage computes.
- Currency: OrderSourceCurrency always; OrderRateType when transform set the template's rate type.

Older orders (v1/v2, no `charges`) keep their shipping total as one Miscellaneous line with the
pair's shipping charge code, and their discount as OrderDiscountAmount.

Unconfirmed in Sage's public docs (the Sage300-SDK Web API references), and accepted by our
simulator: `OrderDiscountAmount` (→ OEORDH.INVDISCAMT), `TaxAmount1` (→ TAMOUNT1), `TaxOverride`
(→ TAXOVERRD), `PriceOverride` (→ PRICEOVER), `OrderRateType` (→ ORRATETYPE).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sagebridge_common.errors import PermanentError

from .config import PO_MAX, REFERENCE_MAX
from .documents import num

ZERO = Decimal(0)


def _address(prefix: str, a: dict | None) -> dict:
    if not a:
        return {}
    return {f"{prefix}Name": a["name"].strip()[:60], f"{prefix}AddressLine1": a["line1"].strip()[:60],
            f"{prefix}AddressLine2": (a.get("line2") or "").strip()[:60], f"{prefix}City": a["city"].strip()[:30],
            f"{prefix}StateProvince": (a.get("region_code") or a.get("region") or "").strip()[:30],
            f"{prefix}ZipPostalCode": (a.get("postal_code") or "").strip()[:20],
            f"{prefix}Country": (a.get("erp_country") or a["country"]).strip()[:30]}


def _misc_line(code: str | None, amount: Decimal, description: str) -> dict:
    if not code:
        raise PermanentError(f"charge {description!r} goes on a Miscellaneous line but has no charge code",
                             reason="sage300_charge_without_code")
    return {"LineType": "Miscellaneous", "MiscellaneousChargesCode": code, "ExtendedAmount": num(amount),
            "Description": description[:60]}


def charges(order: dict[str, Any], shipping_charge_code: str | None) -> tuple[list[dict], Decimal]:
    """(Miscellaneous lines, header discount) of the order."""
    if not order.get("charges"):                     # a v1/v2 order: shipping and discount totals only
        lines = []
        if order["shipping_total"]:
            lines.append(_misc_line(shipping_charge_code, order["shipping_total"],
                                    order.get("shipping_method") or "Shipping"))
        return lines, order["discount_total"] or ZERO
    lines, header_discount = [], ZERO
    for charge in order["charges"]:
        amount: Decimal = charge["amount"]
        description = charge.get("description") or charge["kind"]
        if charge["placement"] == "header":
            if charge["kind"] != "discount":
                raise PermanentError(f"a {charge['kind']} charge cannot be a header amount (only discounts can)",
                                     reason="sage300_charge_placement")
            header_discount += amount
        else:
            lines.append(_misc_line(charge.get("code"), -amount if charge["kind"] == "discount" else amount,
                                    description))
    return lines, header_discount


def order_payload(order: dict, *, reference: str, order_date: date, shipping_charge_code: str | None = None) -> dict:
    """`reference` goes whole into OrderReference and PurchaseOrderNumber: the caller has checked it
    fits (a cut reference could match another order's)."""
    if len(reference) > min(PO_MAX, REFERENCE_MAX):
        raise ValueError(f"reference {reference!r} is longer than PONUMBER's {PO_MAX} characters")
    ship = order.get("shipping_address") or order.get("billing_address")
    body: dict = {
        "CustomerNumber": order["customer"]["erp_customer_id"],
        "OrderDate": order_date.isoformat(),
        "OrderReference": reference,
        "PurchaseOrderNumber": reference,
        "OrderDescription": f"Web order {reference}"[:60],
        "OrderSourceCurrency": order["currency"],
    }
    if order.get("rate_type"):
        body["OrderRateType"] = order["rate_type"]
    if order.get("ship_via_code"):
        body["ShipViaCode"] = order["ship_via_code"]
    body.update(_address("BillTo", order.get("billing_address")))
    body.update(_address("ShipTo", ship))
    phone = (ship or {}).get("phone") or order["customer"].get("phone")
    if phone:
        body["ShipToPhoneNumber"] = phone.strip()[:30]
    body["ShipToEmail"] = order["customer"]["email"].strip()[:50]
    if order.get("notes"):
        body["OrderComment"] = order["notes"][:250]
    misc, discount = charges(order, shipping_charge_code)
    if discount:
        body["OrderDiscountAmount"] = num(discount)
    if order.get("tax_mode", "store") == "store":
        body["TaxAmount1"] = num(order["tax_total"] or ZERO)
        body["TaxOverride"] = True
    details = [{"LineType": "Item", "Item": line.get("item_number") or line["sku"], "Location": line["location_code"],
                "QuantityOrdered": num(line["quantity"]), "OrderUnitPrice": num(line["unit_price"]),
                "PriceOverride": True, "Description": line["name"][:60]} for line in order["lines"]]
    body["OrderDetails"] = details + misc
    return body
