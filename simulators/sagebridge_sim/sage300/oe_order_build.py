"""Validation of an OE/OEOrders POST body into OEORDH, OEORDH1 and OEORDD rows, totals included.

Why here and strict: the real O/E views refuse unknown customers, items, locations, ship-via and
miscellaneous charge codes; the simulator refuses them the same way (400 RecordInvalid naming the
code) so a connector's mapping mistakes show up in tests, not in a merchant's ERP.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .conversions import BOOL, STR, decimal_field, parse_date, reject_unknown, require_object, required_text
from .db import SCHEMA, Sage300Database, unformat_item, utc_stamp
from .http_errors import invalid_payload, record_invalid
from .ledger_tables import HOME_CURRENCY
from .oe_orders import (BILL_TO_DEFAULTS, ITEM_LINE_PROPS, MISC_LINE_PROPS, ORDER_POST_PROPS, ORDER_PROPS,
                        ORDER_SIMPLE, SHIP_FROM_BILL)


def build_order(db: Sage300Database, payload: Any, strict_tax: bool = False) -> tuple[dict, dict, list[dict]]:
    """Validate an OEOrders POST body -> (OEORDH row, OEORDH1 row, OEORDD rows) with totals.
    `strict_tax`: see `_apply_tax`."""
    payload = require_object(payload, "The request body")
    reject_unknown(payload, ORDER_POST_PROPS, "OEOrders")
    customer = _customer_for_order(db, required_text(payload, "CustomerNumber", ""))
    header = _header_defaults(customer)
    rows = {"OEORDH": header, "OEORDH1": {}}
    for prop in ORDER_PROPS:
        if prop.api in ORDER_SIMPLE and prop.api in payload:
            table = prop.table or "OEORDH"
            col = SCHEMA[table].col(prop.col)
            rows[table][prop.col] = prop.conv.from_api(prop.api, payload[prop.api], col.size, col.scale)
    _fill_ship_to(header, payload)
    _apply_order_date(header, payload)
    _apply_ship_via(db, header, payload)
    _apply_location(db, header, payload)
    _apply_currency(db, header, payload, customer)
    _apply_tax(header, payload, strict_tax)
    details = _build_lines(db, payload.get("OrderDetails"), header["LOCATION"] or _first_location(db))
    header["ITEMTOTAL"] = sum((d["EXTINVMISC"] for d in details if d["LINETYPE"] == 1), Decimal("0.000"))
    header["MISCTOTAL"] = sum((d["EXTINVMISC"] for d in details if d["LINETYPE"] == 2), Decimal("0.000"))
    header["INVNETWTX"] = order_total(details, header.get("INVDISCAMT", Decimal(0)), header.get("TAMOUNT1", Decimal(0)))
    return header, rows["OEORDH1"], details


def order_total(details: list[dict], discount: Decimal, tax: Decimal) -> Decimal:
    """Σ item extended (qty × price) + Σ misc − order discount + tax, all Decimal."""
    total = sum((Decimal(d["EXTINVMISC"]) for d in details), Decimal("0.000"))
    return (total - discount + tax).quantize(Decimal("0.001"))


def _customer_for_order(db: Sage300Database, number: str) -> dict[str, Any]:
    customer = db.get("ARCUS", {"IDCUST": number}) if len(number) <= 12 else None
    if customer is None:
        raise record_invalid(f"Customer {number} does not exist.")
    if not customer["SWACTV"]:
        raise record_invalid(f"Customer {number} is inactive.")
    return customer


def _header_defaults(customer: dict[str, Any]) -> dict[str, Any]:
    header: dict[str, Any] = {"CUSTOMER": customer["IDCUST"], "TYPE": 1, "COMPLETE": 1, "ORDERSOURC": 1,
                              "ONHOLD": 1 if customer["SWHOLD"] else 0, "LOCATION": ""}
    header.update({col: customer[src] for col, src in BILL_TO_DEFAULTS.items()})
    return header


def _fill_ship_to(header: dict[str, Any], payload: dict[str, Any]) -> None:
    """Without any ShipTo* address property the ship-to address is the bill-to address."""
    contact = ("ShipToEmail", "ShipToPhoneNumber", "ShipToContact")
    if not any(k.startswith("ShipTo") and k not in contact for k in payload):
        header.update({col: header[src] for col, src in SHIP_FROM_BILL.items()})


def _apply_order_date(header: dict[str, Any], payload: dict[str, Any]) -> None:
    date = parse_date("OrderDate", payload["OrderDate"]) if payload.get("OrderDate") is not None else utc_stamp()[0]
    header["ORDDATE"] = header["EXPDATE"] = date


def _apply_ship_via(db: Sage300Database, header: dict[str, Any], payload: dict[str, Any]) -> None:
    code = STR.from_api("ShipViaCode", payload.get("ShipViaCode"), 6, 0).strip()
    if not code:
        return
    via = db.get("OEVIA", {"CODE": code})
    if via is None:
        raise record_invalid(f"Ship-via code {code} does not exist.")
    header["SHIPVIA"], header["VIADESC"] = code, via["NAME"]


def _apply_location(db: Sage300Database, header: dict[str, Any], payload: dict[str, Any]) -> None:
    code = STR.from_api("DefaultLocationCode", payload.get("DefaultLocationCode"), 6, 0).strip()
    if code and db.get("ICLOC", {"LOCATION": code}) is None:
        raise record_invalid(f"Location {code} does not exist.")
    header["LOCATION"] = code


def _apply_currency(db: Sage300Database, header: dict[str, Any], payload: dict[str, Any],
                    customer: dict[str, Any]) -> None:
    """The order is in the customer's currency (multicurrency rule: storefront currency = customer
    currency). A currency Sage does not hold (not in CSCCD) is refused before that comparison, so the
    client learns the real reason. A source currency other than the home currency carries a rate type
    (ORRATETYPE; OrderRateType as sent, else "SP", spot); rates themselves (CSCRH) are not simulated."""
    currency = STR.from_api("OrderSourceCurrency", payload.get("OrderSourceCurrency"), 3, 0).strip()
    if currency and db.get("CSCCD", {"CURID": currency}) is None:
        raise record_invalid(f"Currency {currency} does not exist.")
    if currency and currency != customer["CODECURN"]:
        raise record_invalid(f"Order currency {currency} differs from customer currency {customer['CODECURN']}.")
    rate_type = STR.from_api("OrderRateType", payload.get("OrderRateType"), 2, 0).strip()
    header["ORSOURCURR"], header["ORHOMECURR"] = customer["CODECURN"], HOME_CURRENCY
    header["ORRATETYPE"] = rate_type or ("SP" if customer["CODECURN"] != HOME_CURRENCY else "")


def _apply_tax(header: dict[str, Any], payload: dict[str, Any], strict: bool) -> None:
    """`TaxOverride: true` keeps TaxAmount1 as sent (OEORDH.TAXOVERRD; "push the storefront's tax only
    through overrides"). Without it Sage computes the tax from its tax tables, which are empty here,
    so the tax is 0 — when `strict`. Not strict (the default, for clients written before TaxOverride
    was simulated): a TaxAmount1 sent without TaxOverride is kept as sent."""
    override = BOOL.from_api("TaxOverride", payload.get("TaxOverride", False), 0, 0)
    header["TAXOVERRD"] = override
    if not override and (strict or "TaxAmount1" not in payload):
        header["TAMOUNT1"] = Decimal(0)


def check_duplicate_po(db: Sage300Database, header: dict[str, Any]) -> None:
    """ARCUS.SWCHKDUPPO = 2 (Error): a PO number already used by this customer is refused. Reads the
    option at commit time (an administrator may have changed it since the order was validated)."""
    po = header.get("PONUMBER", "").strip()
    if not po:
        return
    customer = db.get("ARCUS", {"IDCUST": header["CUSTOMER"]})
    if customer and customer["SWCHKDUPPO"] == 2 and db.order_rows({"CUSTOMER": customer["IDCUST"], "PONUMBER": po}):
        raise record_invalid(f"Purchase order number {po} has already been used for customer "
                             f"{customer['IDCUST'].strip()}.")


def _first_location(db: Sage300Database) -> str:
    locations = db.select("ICLOC")
    return locations[0]["LOCATION"] if locations else ""


def _build_lines(db: Sage300Database, details: Any, location: str) -> list[dict[str, Any]]:
    if not isinstance(details, list) or not details:
        raise invalid_payload("OrderDetails is required and must be a non-empty array.")
    return [_build_line(db, require_object(d, f"OrderDetails[{i}]"), f"OrderDetails[{i}].", location)
            for i, d in enumerate(details)]


def _build_line(db: Sage300Database, detail: dict[str, Any], where: str, location: str) -> dict[str, Any]:
    line_type = detail.get("LineType")
    if line_type == "Item":
        reject_unknown(detail, ITEM_LINE_PROPS, f"{where[:-1]} (Item line)")
        return _item_line(db, detail, where, location)
    if line_type == "Miscellaneous":
        reject_unknown(detail, MISC_LINE_PROPS, f"{where[:-1]} (Miscellaneous line)")
        return _misc_line(db, detail, where)
    raise invalid_payload(f"{where}LineType must be Item or Miscellaneous.")


def _item_line(db: Sage300Database, detail: dict[str, Any], where: str, default_location: str) -> dict[str, Any]:
    number = required_text(detail, "Item", where)
    item = find_item(db, number)
    if item is None:
        raise record_invalid(f"Item {number} does not exist.")
    if item["INACTIVE"]:
        raise record_invalid(f"Item {number} is inactive.")
    location = STR.from_api(where + "Location", detail.get("Location"), 6, 0).strip() or default_location
    if db.get("ICILOC", {"ITEMNO": item["ITEMNO"], "LOCATION": location}) is None:
        raise record_invalid(f"Item {number} does not exist at location {location}.")
    qty = decimal_field(detail, "QuantityOrdered", 4, where)
    price = decimal_field(detail, "OrderUnitPrice", 6, where)
    if qty <= 0 or price < 0:
        raise record_invalid(f"{where}QuantityOrdered must be positive and OrderUnitPrice not negative.")
    override = BOOL.from_api(where + "PriceOverride", detail.get("PriceOverride", False), 0, 0)
    desc = STR.from_api(where + "Description", detail.get("Description"), 60, 0) or item["DESC"]
    return {"LINETYPE": 1, "ITEM": item["FMTITEMNO"], "LOCATION": location, "DESC": desc,
            "QTYORDERED": qty, "QTYBACKORD": qty, "QTYCOMMIT": qty, "UNITPRICE": price, "PRICEOVER": override,
            "EXTINVMISC": (qty * price).quantize(Decimal("0.001"), ROUND_HALF_UP), "COMPLETE": 0}


def _misc_line(db: Sage300Database, detail: dict[str, Any], where: str) -> dict[str, Any]:
    code = required_text(detail, "MiscellaneousChargesCode", where)
    misc = db.get("OEMISC", {"MISCCHARGE": code}) if len(code) <= 6 else None
    if misc is None:
        raise record_invalid(f"Miscellaneous charge {code} does not exist (codes have at most 6 characters).")
    amount = decimal_field(detail, "ExtendedAmount", 3, where)
    desc = STR.from_api(where + "Description", detail.get("Description"), 60, 0) or misc["DESC"]
    return {"LINETYPE": 2, "MISCCHARGE": code, "DESC": desc, "EXTINVMISC": amount, "COMPLETE": 0}


def find_item(db: Sage300Database, number: str) -> dict[str, Any] | None:
    """ICITEM by formatted number, else by unformatted number (O/E lines take the formatted one)."""
    if len(number) > 24:
        return None
    return db.get("ICITEM", {"FMTITEMNO": number}) or db.get("ICITEM", {"ITEMNO": unformat_item(number)})
