"""The demo company (contract §3): warehouses WH1, WH2; term N30; ship methods "UPS Ground",
"FedEx"; checking accounts BOA, PAYPAL; journal GJ; Non-Inventory charge items FRT, HAND, MISC;
and the X-Cart demo catalogue's SKUs (the dev stack's store catalogue = the Sage 300 demo items,
devstack store_catalogue.py) as Inventory items with on-hand 1000 in WH1.
"""
from __future__ import annotations

from decimal import Decimal

from ..sage300.demo_company import DEMO_ITEMS, DEMO_PRICES
from .state import CompanyState

CHARGE_ITEMS = {"FRT": "Freight", "HAND": "Handling", "MISC": "Miscellaneous charge"}
DEMO_ON_HAND = Decimal(1000)


def seed_reference(state: CompanyState) -> None:
    ref = state.ref
    ref.warehouses |= {"WH1", "WH2"}
    ref.terms |= {"N30"}
    ref.ship_methods |= {"UPS Ground", "FedEx"}
    ref.checking_accounts |= {"BOA", "PAYPAL"}
    ref.journals |= {"GJ"}


def upsert_item(state: CompanyState, values: dict) -> dict:
    itemid = values["ITEMID"]
    row = state.one("ITEM", ITEMID=itemid)
    defaults = {"NAME": itemid, "STATUS": "active", "ITEMTYPE": "Inventory", "BASEPRICE": Decimal(0),
                "EXTENDED_DESCRIPTION": "", "PRODUCTLINEID": ""}
    if row is None:
        return state.insert("ITEM", {**defaults, **values})
    return state.touch(row, **values)


def set_stock(state: CompanyState, itemid: str, warehouse: str, **qty: Decimal) -> dict:
    row = state.one("ITEMWAREHOUSEINFO", ITEMID=itemid, WAREHOUSEID=warehouse)
    if row is None:
        base = {"ITEMID": itemid, "WAREHOUSEID": warehouse, "QTYONHAND": Decimal(0), "QTYONHOLD": Decimal(0),
                "QTYONORDER": Decimal(0)}
        return state.insert("ITEMWAREHOUSEINFO", {**base, **qty})
    return state.touch(row, **qty)


def seed_demo(state: CompanyState) -> None:
    with state.lock:
        seed_reference(state)
        for itemid, name in CHARGE_ITEMS.items():
            upsert_item(state, {"ITEMID": itemid, "NAME": name, "ITEMTYPE": "Non-Inventory"})
        for item in DEMO_ITEMS:
            sku = item["FMTITEMNO"]
            upsert_item(state, {"ITEMID": sku, "NAME": item["DESC"], "EXTENDED_DESCRIPTION": item["DESC"],
                                "BASEPRICE": Decimal(DEMO_PRICES.get(sku, "0")),
                                "PRODUCTLINEID": str(item.get("CATEGORY", ""))})
            set_stock(state, sku, "WH1", QTYONHAND=DEMO_ON_HAND)
