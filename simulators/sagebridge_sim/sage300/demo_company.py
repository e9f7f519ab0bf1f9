"""The demo company the simulator seeds (`--seed-demo`): locations, ship-via and miscellaneous charge
codes, customers, items with stock, and (ledger_tables.seed_ledgers) bank codes, G/L accounts and
currencies. Every seed is an upsert, so seeding is repeatable.

Names follow Sage's sample company where the SDK samples show them (customer 1200, items A1-105/0,
bank SEATAC, account 4030); MISCCHARGE is CHAR(6), so freight is "FRT", not "FREIGHT".
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterable, Mapping

from .db import Sage300Database, unformat_item, utc_stamp
from .ledger_tables import seed_ledgers


def seed_locations(db: Sage300Database, locations: Mapping[str, str]) -> None:
    """ICLOC rows from {location code: description}."""
    for code, desc in locations.items():
        db.upsert("ICLOC", {"LOCATION": code, "DESC": desc})


def seed_misc_charges(db: Sage300Database, charges: Mapping[str, str]) -> None:
    """OEMISC rows from {code: description}."""
    for code, desc in charges.items():
        db.upsert("OEMISC", {"MISCCHARGE": code, "DESC": desc})


def seed_ship_via(db: Sage300Database, codes: Mapping[str, str]) -> None:
    """OEVIA rows from {code: name}."""
    for code, name in codes.items():
        db.upsert("OEVIA", {"CODE": code, "NAME": name})


def seed_items(db: Sage300Database, items: Iterable[Mapping[str, Any]]) -> None:
    """ICITEM rows given as dicts of ICITEM columns (FMTITEMNO required; ITEMNO defaults to the
    unformatted number). An optional "LOCATIONS" entry {location: QTYONHAND} adds ICILOC rows."""
    today = utc_stamp()[0]
    for item in items:
        row = {"INACTIVE": 0, "STOCKITEM": 1, "STOCKUNIT": "EA", "ALLOWONWEB": 1,
               "DATELASTMN": today, **{k: v for k, v in item.items() if k != "LOCATIONS"}}
        row.setdefault("ITEMNO", unformat_item(row["FMTITEMNO"]))
        db.upsert("ICITEM", row)
        for location, on_hand in (item.get("LOCATIONS") or {}).items():
            db.upsert("ICILOC", {"ITEMNO": row["ITEMNO"], "LOCATION": location,
                                   "QTYONHAND": Decimal(str(on_hand)), "ACTIVE": 1})


def seed_customers(db: Sage300Database, customers: Iterable[Mapping[str, Any]]) -> None:
    """ARCUS rows given as dicts of ARCUS columns (IDCUST required)."""
    today = utc_stamp()[0]
    for cust in customers:
        row = {"SWACTV": 1, "SWHOLD": 0, "CODECURN": "USD", "DATELASTMN": today, **cust}
        db.upsert("ARCUS", row)


def seed_demo(db: Sage300Database) -> None:
    """The demo company: locations "1"/"2", misc charges FRT HAND DISC MISC (and the older HANDLE),
    ship-via UPSGRD/FEDEX, customers WEBCUST (web default), 1200, 1105 (on hold), 12 items at "1" with
    categories and WEB/USD base prices (ICPRICP), and (ledger_tables.seed_ledgers) bank codes, GL accounts and currencies."""
    db.create_schema()
    seed_locations(db, {"1": "Seattle Warehouse", "2": "Vancouver Warehouse"})
    # MISCCHARGE is CHAR(6): "FREIGHT" (7) cannot be a Sage code, so the freight charge is "FRT".
    # HANDLE is kept for databases and pair files made before HAND existed.
    seed_misc_charges(db, {"FRT": "Freight", "HAND": "Handling", "HANDLE": "Handling",
                           "DISC": "Discount", "MISC": "Miscellaneous charge"})
    seed_ship_via(db, {"UPSGRD": "UPS Ground", "FEDEX": "FedEx Express"})
    seed_customers(db, DEMO_CUSTOMERS)
    seed_items(db, [{**item, "LOCATIONS": {"1": 1000}} for item in DEMO_ITEMS])
    seed_prices(db, DEMO_PRICES)
    seed_ledgers(db)


def seed_prices(db: Sage300Database, prices: Mapping[str, str], price_list: str = "WEB",
                currency: str = "USD") -> None:
    """ICPRICP base prices (DPRICETYPE 1, unit EA) from {formatted item number: unit price}."""
    for number, price in prices.items():
        db.upsert("ICPRICP", {"CURRENCY": currency, "ITEMNO": unformat_item(number), "PRICELIST": price_list,
                              "DPRICETYPE": 1, "QTYUNIT": "EA", "WEIGHTUNIT": "", "UNITPRICE": Decimal(price),
                              "CONVERSION": Decimal(1)})


DEMO_CUSTOMERS: list[dict[str, Any]] = [
    {"IDCUST": "WEBCUST", "TEXTSNAM": "Web", "IDGRP": "WEB", "NAMECUST": "Web Store Customer",
     "TEXTSTRE1": "100 Main Street", "NAMECITY": "Seattle", "CODESTTE": "WA", "CODEPSTL": "98101",
     "CODECTRY": "USA", "NAMECTAC": "Web Orders", "TEXTPHON1": "2065550100",
     "EMAIL1": "orders@example.com", "EMAIL2": "webstore@example.com"},   # CheckForDuplicatePOs None:
    # services/erp_writer tests rely on it; the dev stack sets it through POST /_sim/customers/WEBCUST
    {"IDCUST": "1200", "TEXTSNAM": "Mr. Ronald", "IDGRP": "RTL", "NAMECUST": "Mr. Ronald Black",
     "TEXTSTRE1": "2 Elm Street", "NAMECITY": "Portland", "CODESTTE": "OR", "CODEPSTL": "97201",
     "CODECTRY": "USA", "NAMECTAC": "Ronald Black", "EMAIL1": "ron@example.com",
     "EMAIL2": "ron@example.com", "SWCHKDUPPO": 2},
    {"IDCUST": "1105", "TEXTSNAM": "Bargain", "IDGRP": "WHL", "NAMECUST": "Bargain Mart - San Diego",
     "TEXTSTRE1": "77 Harbor Drive", "NAMECITY": "San Diego", "CODESTTE": "CA", "CODEPSTL": "92101",
     "CODECTRY": "USA", "EMAIL2": "ap@bargainmart.example.com", "SWHOLD": 1},
]

DEMO_ITEMS: list[dict[str, Any]] = [
    {"FMTITEMNO": f, "DESC": d, "UNITWGT": Decimal(w), "CATEGORY": c, "DEFPRICLST": "WHSE"}
    for f, d, w, c in [
        ("WIDGET-1", "Widget, standard", "0.5000", "WIDG"),
        ("WIDGET-2", "Widget, deluxe", "0.7500", "WIDG"),
        ("GADGET-1", "Gadget, small", "1.2000", "GADG"),
        ("GADGET-2", "Gadget, large", "2.4000", "GADG"),
        ("A1-105/0", "Fluorescent Desk Lamp", "3.0000", "LAMPS"),
        ("A1-310/0", "Halogen Lamp", "2.5000", "LAMPS"),
        ("A1-400/0", "Incandescent Bulb 60W", "0.1000", "BULBS"),
        ("A1-700/0", "Light Sensor", "0.2500", "SENS"),
        ("SPROCKET.10", "Sprocket, 10 teeth", "0.3000", "PARTS"),
        ("SPROCKET.20", "Sprocket, 20 teeth", "0.4500", "PARTS"),
        ("CABLE-USB-C", "USB-C cable 1m", "0.0500", "CABLE"),
        ("GIFTCARD-25", "Gift card $25", "0.0100", "GIFT"),
    ]
]

DEMO_PRICES: dict[str, str] = {   # price list WEB, USD, base price (DPRICETYPE 1)
    "WIDGET-1": "9.99", "WIDGET-2": "14.99", "GADGET-1": "24.50", "GADGET-2": "39.00",
    "A1-105/0": "19.99", "A1-310/0": "29.95", "A1-400/0": "1.25", "A1-700/0": "12.00",
    "SPROCKET.10": "3.40", "SPROCKET.20": "4.10", "CABLE-USB-C": "7.99", "GIFTCARD-25": "25.00",
}
