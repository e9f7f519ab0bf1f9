"""Legacy `create_sotransaction` (intacct.md §4 "Sales order"; contract §2).

The header and line children are checked in the DTD's sequence (intacct.md §4, [DTD-ICOE],
[DTD-REQOBJ]); out of order or unknown -> XL03000003. Validation failures answer the specific
error then BL01001973 "Could not create Document record!" (the wrapper pattern of intacct.md §5).
The errorno for an invalid item is not confirmed (intacct.md §6): the simulator uses BL03000018
(and neighbouring BL030000nn codes for customer / warehouse / term / ship method, also its
choice). The key is the DOCID `<definition>-<docno>` (inferred, intacct.md §4).
TOTAL = sum(qty * price * (1 - discountpercent/100)) + sum(subtotal totals), rounded half-up to
cents (contract §2).
"""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from lxml import etree

from .objects import CURRENCIES, DEFINITIONS
from .outcome import Outcome
from .state import CompanyState
from .values import parse_decimal
from .wire import ErrorItem, check_order, function_failure, schema_error, text

HEADER_ORDER = [(t, o) for t, o in [
    ("transactiontype", False), ("datecreated", False), ("dateposted", True), ("createdfrom", True),
    ("customerid", False), ("documentno", True), ("origdocdate", True), ("referenceno", True), ("termname", True),
    ("datedue", True), ("message", True), ("shippingmethod", True), ("shipto", True), ("billto", True),
    ("supdocid", True), ("externalid", True), ("basecurr", True), ("currency", True), ("exchratedate", True),
    ("exchratetype", True), ("exchrate", True), ("vsoepricelist", True), ("customfields", True), ("state", True),
    ("projectid", True), ("customerponumber", True), ("sotransitems", False), ("subtotals", True)]]
LINE_ORDER = [("bundlenumber", True), ("itemid", False), ("itemaliasid", True), ("itemdesc", True),
              ("taxable", True), ("warehouseid", True), ("quantity", False), ("unit", True),
              ("linelevelsimpletaxtype", True), ("discountpercent", True), ("price", True), ("sourcelinekey", True),
              ("discsurchargememo", True), ("locationid", True), ("departmentid", True), ("memo", True),
              ("itemdetails", True), ("customfields", True)]
STATES = ("Draft", "Pending", "Closed")
REFERENCE_MAX = 100
CENT = Decimal("0.01")
TAIL = ("BL01001973", "Could not create Document record!", "", "")


def fail(errorno: str, description: str, description2: str, correction: str):
    return function_failure(ErrorItem(errorno, description, description2, correction), ErrorItem(*TAIL))


def date_of(el: etree._Element | None, where: str) -> date:
    parts = check_order(el, [("year", False), ("month", False), ("day", False)], where)
    try:
        return date(int(text(parts["year"])), int(text(parts["month"])), int(text(parts["day"])))
    except ValueError:
        raise fail("PL03000006", "Invalid date", f"The {where} is not a valid date.",
                   "Give year, month and day of a real date.") from None


def create_sotransaction(state: CompanyState, fn: etree._Element) -> Outcome:
    h = check_order(fn, HEADER_ORDER, "create_sotransaction")
    definition = text(h["transactiontype"])
    if definition not in DEFINITIONS:
        raise fail("BL03000024", "Invalid transaction definition", f"Invalid Transaction Definition {definition}",
                   "Use an existing transaction definition.")
    created = date_of(h["datecreated"], "datecreated")
    customerid = text(h["customerid"])
    if not state.one("CUSTOMER", CUSTOMERID=customerid):
        raise fail("BL03000017", "Invalid customer", f"Invalid Customer {customerid}",
                   "Use a valid customer ID or create the customer first.")
    reference = text(h.get("referenceno"))
    if len(reference) > REFERENCE_MAX:
        raise fail("BL03000023", "Reference number too long", f"referenceno is {len(reference)} characters, "
                   f"more than {REFERENCE_MAX}.", "Shorten the reference number.")
    term = text(h.get("termname"))
    due = date_of(h["datedue"], "datedue") if "datedue" in h else None
    if term and term not in state.ref.terms:
        raise fail("BL03000021", "Invalid term", f"Invalid Term {term}", "Use a valid term name.")
    if not term and due is None:
        raise fail("BL03000020", "Missing due date", "Either a term or a due date is required.",
                   "Give termname or datedue.")
    ship = text(h.get("shippingmethod"))
    if ship and ship not in state.ref.ship_methods:
        raise fail("BL03000022", "Invalid shipping method", f"Invalid Shipping Method {ship}",
                   "Use a valid shipping method.")
    currency = text(h.get("currency")) or "USD"
    if currency not in CURRENCIES:
        raise fail("BL03000025", "Invalid currency", f"Invalid Currency {currency}", "Use a valid currency code.")
    doc_state = text(h.get("state")) or "Pending"
    if doc_state not in STATES:
        raise fail("BL03000026", "Invalid state", f"Invalid state {doc_state}", "Use Draft, Pending or Closed.")
    lines = [_line(state, el, n) for n, el in enumerate(h["sotransitems"], 1) if isinstance(el.tag, str)]
    if not lines:
        raise schema_error("sotransitems must hold at least one sotransitem.")
    subtotals = [_subtotal(el) for el in (h["subtotals"] if "subtotals" in h else []) if isinstance(el.tag, str)]
    subtotal = sum((Decimal(l["line_total"]) for l in lines), Decimal(0))
    total = (subtotal + sum((Decimal(s["total"]) for s in subtotals), Decimal(0))).quantize(CENT, ROUND_HALF_UP)
    row = add_document(state, definition, {
        "CUSTVENDID": customerid, "REFERENCENO": reference, "STATE": doc_state, "CURRENCY": currency,
        "TOTAL": total, "SUBTOTAL": subtotal.quantize(CENT, ROUND_HALF_UP), "WHENCREATED": created,
        "CREATEDFROM": text(h.get("createdfrom")), "TRACKINGNUMBER": "", "SHIPVIAKEY": ship,
        "MESSAGE": text(h.get("message"))},
        extra={"termname": term, "datedue": due.isoformat() if due else "", "lines": lines, "subtotals": subtotals,
               "shipto": _contact(h.get("shipto")), "billto": _contact(h.get("billto")),
               "externalid": text(h.get("externalid"))})
    return Outcome(key=row["DOCID"], write=True)


def add_document(state: CompanyState, definition: str, header: dict[str, Any], extra: dict[str, Any]) -> dict:
    docno = state.next_docno(definition)
    docid = f"{definition}-{docno}"
    row = state.insert("SODOCUMENT", {"DOCID": docid, "DOCNO": docno, "DOCPARID": definition, **header})
    state.documents[docid] = {"RECORDNO": row["RECORDNO"], **{k: v for k, v in header.items()}, **extra,
                              "DOCID": docid, "DOCPARID": definition}
    return row


def _line(state: CompanyState, el: etree._Element, n: int) -> dict[str, str]:
    if el.tag != "sotransitem":
        raise schema_error(f"Element {el.tag} is not allowed in sotransitems.")
    p = check_order(el, LINE_ORDER, "sotransitem")
    itemid = text(p["itemid"])
    item = state.one("ITEM", ITEMID=itemid)
    if item is None or item.get("STATUS") != "active":
        raise fail("BL03000018", "Invalid item", f"Invalid Item {itemid}",
                   "Use a valid item ID or create the item first.")
    warehouse = text(p.get("warehouseid"))
    if warehouse and warehouse not in state.ref.warehouses:
        raise fail("BL03000019", "Invalid warehouse", f"Invalid Warehouse {warehouse}",
                   "Use a valid warehouse ID.")
    try:
        qty = parse_decimal(text(p["quantity"]))
        price = parse_decimal(text(p["price"])) if "price" in p else Decimal(item.get("BASEPRICE") or 0)
        pct = parse_decimal(text(p["discountpercent"])) if "discountpercent" in p else Decimal(0)
    except ValueError as e:
        raise fail("BL03000027", "Invalid number", f"Line {n}: {e}", "Send decimal numbers.") from None
    if qty <= 0 or not 0 <= pct <= 100:
        raise fail("BL03000027", "Invalid quantity or discount", f"Line {n}: quantity must be > 0 and "
                   "discountpercent 0..100.", "Correct the line.")
    line_total = qty * price * (1 - pct / 100)
    return {"line_no": str(n), "itemid": itemid, "itemdesc": text(p.get("itemdesc")), "warehouseid": warehouse,
            "quantity": format(qty, "f"), "price": format(price, "f"), "discountpercent": format(pct, "f"),
            "line_total": format(line_total, "f"), "locationid": text(p.get("locationid")),
            "departmentid": text(p.get("departmentid")), "memo": text(p.get("memo"))}


def _subtotal(el: etree._Element) -> dict[str, str]:
    if el.tag != "subtotal":
        raise schema_error(f"Element {el.tag} is not allowed in subtotals.")
    order = [("description", False), ("total", False), ("absval", True), ("percentval", True),
             ("locationid", True), ("departmentid", True), ("projectid", True)]
    p = check_order(el, order, "subtotal")
    try:
        total = parse_decimal(text(p["total"]))
    except ValueError:
        raise fail("BL03000027", "Invalid number", f"subtotal total {text(p['total'])!r}", "Send a decimal.") from None
    return {"description": text(p["description"]), "total": format(total, "f")}


def _contact(el: etree._Element | None) -> str:
    return "" if el is None else text(el.find("contactname"))
