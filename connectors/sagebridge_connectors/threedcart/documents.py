"""The raw result documents of the Store Web Service as dicts, and the facts read out of them.

XML -> dict follows the issue's contract (issue8.md "Raw events"), xmltodict semantics: an element
with children is a dict of child name -> value, a leaf is its text ("" when empty, never None), and
the repeated children that may occur once are ALWAYS lists: Order.Transaction,
Order.Promotions.Promotion, Order.ShippingInformation.Shipment,
Order.ShippingInformation.OrderItems.Item, Order.CheckoutQuestions.Question (plus the entity lists
under each listing root). An empty container gives an empty list: `<Transaction/>` -> `[]`,
`<Promotions/>` -> `{"Promotion": []}`. Amounts stay strings as sent ("1,500.00").

Store-local times (no offset on the wire) are converted with the pair's `store_time_zone`:
`LastUpdate` "4/12/2014 5:06:55 AM" or date-only "6/22/2009"; `Date` + `Time` for when the order
was placed.
"""
from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree.ElementTree import Element, tostring
from zoneinfo import ZoneInfo

import xmltodict

# (parent element, child) pairs whose child is always a list
FORCE_LIST = {("GetOrdersResponse", "Order"), ("CustomersRequestResponse", "Customer"),
              ("GetProductDetailsResponse", "Product"), ("Order", "Transaction"), ("Promotions", "Promotion"),
              ("ShippingInformation", "Shipment"), ("OrderItems", "Item"), ("CheckoutQuestions", "Question")}
# container -> the list it holds, filled in as [] when the container is empty
CONTAINERS = {"Promotions": "Promotion", "ShippingInformation": "Shipment", "OrderItems": "Item",
              "CheckoutQuestions": "Question"}
_INVOICE = re.compile(r"^(.*?)(\d+)$")


def _force(path: list, key: str, value: Any) -> bool:
    return bool(path) and (path[-1][0], key) in FORCE_LIST


def _clean(name: str, value: Any) -> Any:
    """None -> "", empty repeated entries dropped, empty containers -> {child: []}."""
    if isinstance(value, list):
        return [_clean(name, v) for v in value if v is not None]
    if name in CONTAINERS and (value is None or value == ""):
        return {CONTAINERS[name]: []}
    if isinstance(value, dict):
        out = {k: _clean(k, v) for k, v in value.items()}
        if name in CONTAINERS:
            out.setdefault(CONTAINERS[name], [])
        if name == "Order":
            out.setdefault("Transaction", [])
        return out
    return "" if value is None else value


def to_dict(element: Element) -> tuple[str, dict[str, Any]]:
    """(root tag, content) of a result document."""
    parsed = xmltodict.parse(tostring(element), force_list=_force, disable_entities=True)
    (tag, body), = parsed.items()
    body = _clean(tag, body)
    return tag, body if isinstance(body, dict) else {"#text": body}


def entities(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return list(body.get(key) or [])


# -- facts -----------------------------------------------------------------------------------------
def money(text: Any) -> Decimal:
    """ "1,500.00" -> Decimal("1500.00"); the store groups thousands with commas (§4)."""
    try:
        return Decimal(str(text or "0").replace(",", "").strip() or "0")
    except InvalidOperation:
        raise ValueError(f"not an amount: {text!r}") from None


def split_invoice(invoice: str) -> tuple[str, int]:
    """ "AB-1000" -> ("AB-", 1000); an invoice without trailing digits is not a placed order."""
    m = _INVOICE.match(invoice.strip())
    if not m:
        raise ValueError(f"invoice {invoice!r} has no number")
    return m.group(1), int(m.group(2))


def local_stamp(text: str, zone: ZoneInfo) -> tuple[datetime, bool]:
    """(UTC datetime, has_time) of "m/d/yyyy h:mm:ss AM" or "m/d/yyyy" store-local."""
    t = " ".join(str(text).replace(": ", ":").split())
    for fmt, has_time in (("%m/%d/%Y %I:%M:%S %p", True), ("%m/%d/%Y", False)):
        try:
            return datetime.strptime(t, fmt).replace(tzinfo=zone).astimezone(timezone.utc), has_time
        except ValueError:
            continue
    raise ValueError(f"not a 3dcart date: {text!r}")


def ordered_at(order: dict[str, Any], zone: ZoneInfo) -> datetime:
    """`Date` + `Time` (store-local) -> UTC; the mock's "12: 44:37 PM" spacing is tolerated."""
    when, _ = local_stamp(f"{order.get('Date', '')} {order.get('Time', '')}".strip(), zone)
    return when


def us_date(when: datetime, zone: ZoneInfo) -> str:
    """mm/dd/yyyy store-local, the form getOrder's dateFrom/dateTo and shipmentDate take."""
    return when.astimezone(zone).strftime("%m/%d/%Y")


def digest(record: Any) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def version(stamp: datetime, record: Any) -> str:
    """`<utc epoch seconds, 16 digits>|<sha256 of the canonical JSON, 16 hex>` (issue8.md "Versions")."""
    return f"{int(stamp.timestamp()):016d}|{digest(record)}"


def order_stamp(order: dict[str, Any], zone: ZoneInfo, read_at: datetime) -> datetime:
    """LastUpdate (store-local -> UTC); a date-only LastUpdate (seen in the recorded mock) cannot
    order two states of one day, so the read time stands in, as the X-Cart profile source does
    (a read that starts later sees the same state or a newer one)."""
    try:
        when, has_time = local_stamp(order.get("LastUpdate") or "", zone)
    except ValueError:
        return read_at
    return when if has_time else read_at
