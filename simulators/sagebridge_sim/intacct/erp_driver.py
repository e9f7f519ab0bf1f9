"""What an Intacct user does to orders (contract §3): ship (a Shipper converted from the order),
invoice (a Sales Invoice + its AR invoice), change an order's state.

The AR invoice's DOCNUMBER = the order's REFERENCENO: our inference (an OE definition that posts
to AR creates the AR invoice, intacct.md §4; which number it carries is not in the reference).
Shipping takes the shipped quantities off QTYONHAND of each line's warehouse (WH1 when a line
names none) — the simulator's choice, so stock capture sees the shipment.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import HTTPException

from .fn_orders import add_document
from .seed import set_stock
from .state import CompanyState
from .values import render

ORDER_STATES = ("Draft", "Pending", "Closed", "Partially Converted", "Converted")


def _order(state: CompanyState, body: dict[str, Any], definition: str = "Sales Order") -> dict[str, Any]:
    if body.get("docid"):
        row = state.one("SODOCUMENT", DOCID=body["docid"])
    else:
        rows = state.find("SODOCUMENT", REFERENCENO=body.get("referenceno"), DOCPARID=definition)
        row = rows[0] if rows else None
    if row is None:
        raise HTTPException(404, f"no {definition} for {body.get('docid') or body.get('referenceno')!r}")
    return row


def _view(state: CompanyState, row: dict) -> dict:
    return {k: render(v, state.clock) for k, v in row.items()}


def ship(state: CompanyState, body: dict[str, Any]) -> dict:
    order = _order(state, body)
    source = state.documents[order["DOCID"]]
    carrier = body.get("carrier") or order.get("SHIPVIAKEY") or ""
    if carrier and carrier not in state.ref.ship_methods:
        raise HTTPException(400, f"no SHIPMETHOD {carrier!r}")
    header = {k: order.get(k) for k in ("CUSTVENDID", "REFERENCENO", "CURRENCY", "TOTAL", "SUBTOTAL", "MESSAGE")}
    header.update({"STATE": "Closed", "WHENCREATED": state.clock.today(), "CREATEDFROM": order["DOCID"],
                   "TRACKINGNUMBER": body.get("tracking", ""), "SHIPVIAKEY": carrier})
    shipper = add_document(state, "Shipper", header, extra={"lines": source.get("lines", []), "subtotals": []})
    for line in source.get("lines", []):
        item = state.one("ITEM", ITEMID=line["itemid"])
        if item and item.get("ITEMTYPE") == "Inventory":
            wh = line.get("warehouseid") or "WH1"
            current = state.one("ITEMWAREHOUSEINFO", ITEMID=line["itemid"], WAREHOUSEID=wh)
            on_hand = (current or {}).get("QTYONHAND", Decimal(0))
            set_stock(state, line["itemid"], wh, QTYONHAND=on_hand - Decimal(line["quantity"]))
    new_state = "Partially Converted" if body.get("partial") else "Converted"
    state.touch(order, STATE=new_state)
    source["STATE"] = new_state
    return {"shipper": _view(state, shipper), "order": _view(state, order)}


def invoice(state: CompanyState, body: dict[str, Any]) -> dict:
    order = _order(state, body)
    header = {k: order.get(k) for k in ("CUSTVENDID", "REFERENCENO", "CURRENCY", "TOTAL", "SUBTOTAL", "MESSAGE")}
    header.update({"STATE": "Pending", "WHENCREATED": state.clock.today(), "CREATEDFROM": order["DOCID"],
                   "TRACKINGNUMBER": "", "SHIPVIAKEY": order.get("SHIPVIAKEY", "")})
    doc = add_document(state, "Sales Invoice", header,
                       extra={"lines": state.documents[order["DOCID"]].get("lines", [])})
    ar = state.insert("ARINVOICE", {"CUSTOMERID": order["CUSTVENDID"], "DOCNUMBER": order["REFERENCENO"],
                                    "TOTALDUE": order["TOTAL"], "TOTALENTERED": order["TOTAL"], "STATE": "Posted"})
    return {"invoice": _view(state, doc), "arinvoice": _view(state, ar)}


def state_of_order(state: CompanyState, body: dict[str, Any]) -> dict:
    new = body.get("state")
    if new not in ORDER_STATES:
        raise HTTPException(400, f"state must be one of {ORDER_STATES}")
    order = _order(state, body)
    state.touch(order, STATE=new)
    state.documents[order["DOCID"]]["STATE"] = new
    return _view(state, order)
