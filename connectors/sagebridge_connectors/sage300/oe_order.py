"""Canonical Order → Sage 300 OE/OEOrders POST body.

Only the API's shape lives here; every business choice (customer, location, ship-via, payment code)
was already made by transform from the pair's mapping template; the reference (the pair's prefix +
the store's number), the local order date and the shipping charge code come from the pair.
Property order matters to Sage (the view applies fields in order: SDK Developer Reference §4), so
the header goes before the details, customer first.

Unconfirmed in Sage's public docs (the Sage300-SDK Web API references), and accepted by our simulator:
`OrderDiscountAmount` (→ OEORDH.INVDISCAMT) and `TaxAmount1` (→ TAMOUNT1, the storefront's tax as an
override). Shipping goes in as a Miscellaneous line with the configured charge code.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from .config import PO_MAX, REFERENCE_MAX


def _num(d: Decimal) -> str:
    """Decimals travel as JSON strings so no float rounding happens on our side of the wire."""
    return format(d.normalize(), "f")


def _address(prefix: str, a: dict | None) -> dict:
    if not a:
        return {}
    return {f"{prefix}Name": a["name"][:60], f"{prefix}AddressLine1": a["line1"][:60],
            f"{prefix}AddressLine2": (a.get("line2") or "")[:60], f"{prefix}City": a["city"][:30],
            f"{prefix}StateProvince": (a.get("region") or "")[:30], f"{prefix}ZipPostalCode": a["postal_code"][:20],
            f"{prefix}Country": a["country"][:30]}


def order_payload(order: dict, *, reference: str, order_date: date, shipping_charge_code: str) -> dict:
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
    if order.get("ship_via_code"):
        body["ShipViaCode"] = order["ship_via_code"]
    body.update(_address("BillTo", order.get("billing_address")))
    body.update(_address("ShipTo", ship))
    if ship and ship.get("phone"):
        body["ShipToPhoneNumber"] = ship["phone"][:30]
    body["ShipToEmail"] = order["customer"]["email"][:50]
    if order.get("notes"):
        body["OrderComment"] = order["notes"][:250]
    if order["discount_total"]:
        body["OrderDiscountAmount"] = _num(order["discount_total"])
    if order["tax_total"]:
        body["TaxAmount1"] = _num(order["tax_total"])
    details = [{"LineType": "Item", "Item": line["sku"], "Location": line["location_code"],
                "QuantityOrdered": _num(line["quantity"]), "OrderUnitPrice": _num(line["unit_price"]),
                "PriceOverride": True, "Description": line["name"][:60]} for line in order["lines"]]
    if order["shipping_total"]:
        details.append({"LineType": "Miscellaneous", "MiscellaneousChargesCode": shipping_charge_code,
                        "ExtendedAmount": _num(order["shipping_total"]),
                        "Description": (order.get("shipping_method") or "Shipping")[:60]})
    body["OrderDetails"] = details
    return body
