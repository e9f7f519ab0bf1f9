"""The demo company the simulator seeds (`--seed-demo`): the X-Cart demo catalogue's SKUs as Sage Pro
items, their stock at location MAIN, their WEB prices, two customers, the charge items the pair's
mapping puts on order lines, and the numbering row.

Why these items: the dev stack's store catalogue is the Sage 300 demo item list (devstack
store_catalogue.py; the Intacct simulator seeds the same list), so every SKU a store order carries
is an item here and every ERP-side change lands on a product the store has. Seeding is an upsert:
repeatable on a database that already holds the company.

Known (reference sage300_sagepro.md §3): the tables icitem, iciloc (item, loctid, lonhand), icpric,
arcust, the company suffix. Assumed: the remaining column names (the connector's default layout),
location code MAIN, price code WEB, the customer numbers, charge items HANDLING and MISC without
stock rows (pairs/xcart-sagepro.yaml names them).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

from ..sage300.demo_company import DEMO_ITEMS, DEMO_PRICES
from .db import SageProDb
from .schema import create_schema

DEMO_LOCATION = "MAIN"
DEMO_PRICE_CODE = "WEB"
DEMO_ON_HAND = Decimal(1000)
FIRST_NUMBER = 1000            # the numbering row's last number used: the first order is 1001
CHARGE_ITEMS = {"HANDLING": "Handling charge", "MISC": "Miscellaneous charge"}

DEMO_CUSTOMERS: list[dict[str, Any]] = [
    {"custno": "WEB001", "name": "Web Store Customer", "contact": "Web Orders", "address1": "100 Main Street",
     "city": "Seattle", "state": "WA", "zip": "98101", "country": "USA", "phone": "2065550100",
     "email": "orders@example.com", "pterms": "NET 30"},
    {"custno": "BLACK01", "name": "Ronald Black", "contact": "Ronald Black", "address1": "2 Elm Street",
     "city": "Portland", "state": "OR", "zip": "97201", "country": "USA", "phone": "5035550111",
     "email": "ron@example.com", "pterms": "NET 30"},
]


def demo_items() -> list[dict[str, Any]]:
    """icitem rows of the X-Cart demo catalogue (Sage 300's demo item numbers, prices, weights)."""
    return [{"item": i["FMTITEMNO"], "descrip": i["DESC"], "category": str(i["CATEGORY"])[:6],
             "price": Decimal(DEMO_PRICES[i["FMTITEMNO"]]), "status": "A",
             "weight": Decimal(i["UNITWGT"]).quantize(Decimal("0.001"))} for i in DEMO_ITEMS]


def upsert(db: SageProDb, cur, logical: str, row: Mapping[str, Any]) -> None:
    """Update the row with `row`'s key or insert it."""
    key = {f: row[f] for f in db.table(logical).key}
    if db.one(cur, logical, key) is None:
        db.insert(cur, logical, row)
    else:
        db.update(cur, logical, key, {f: v for f, v in row.items() if f not in key})


def seed_demo(db: SageProDb, *, location: str = DEMO_LOCATION, price_code: str = DEMO_PRICE_CODE,
              on_hand: Decimal = DEMO_ON_HAND) -> dict[str, int]:
    """The demo company in one transaction; returns how many rows of each kind it holds."""
    items = demo_items()
    with db.transaction() as cur:
        for item in items:
            upsert(db, cur, "item", item)
            upsert(db, cur, "item_location", {"item": item["item"], "loctid": location, "on_hand": on_hand,
                                              "committed": Decimal(0)})
            upsert(db, cur, "price", {"item": item["item"], "pcode": price_code, "price": item["price"]})
        for item, descrip in CHARGE_ITEMS.items():
            upsert(db, cur, "item", {"item": item, "descrip": descrip, "status": "A", "price": Decimal(0)})
        for customer in DEMO_CUSTOMERS:
            upsert(db, cur, "customer", customer)
        _numbering_row(db, cur)
    return {"items": len(items) + len(CHARGE_ITEMS), "stock_rows": len(items), "prices": len(items),
            "customers": len(DEMO_CUSTOMERS)}


def _numbering_row(db: SageProDb, cur) -> None:
    """The numbering row, when a database was created without one (create_schema makes it)."""
    n = db.layout.numbering
    if db.last_number(cur) != "":
        return
    value: Any = n.format(FIRST_NUMBER) if n.type == "char" else FIRST_NUMBER
    cols = [n.column] + list(n.where)
    cur.execute(f"INSERT INTO {n.physical(db.company)} ({', '.join(cols)}) VALUES "
                f"({', '.join('?' for _ in cols)})", [value] + list(n.where.values()))


def ensure_schema(db: SageProDb, first_number: int = FIRST_NUMBER) -> bool:
    """Creates the tables when the database has none (True), leaves an existing company alone."""
    if db.has_schema():
        return False
    conn = db.connect()
    try:
        if db.engine == "sqlite":      # readers (change capture) on other connections must not block writers
            conn.autocommit = True
            conn.cursor().execute("PRAGMA journal_mode=WAL").fetchall()
            conn.autocommit = False
        create_schema(conn, company=db.company, engine=db.engine, layout=db.layout, first_number=first_number)
    finally:
        conn.close()
    return True
