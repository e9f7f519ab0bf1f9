"""The X-Cart simulator's catalogue in the dev stack: one product per Sage 300 demo item.

Stock, price and item changes made in Sage 300 need a product in the store to land on. The pair's
`items.rule: as_is` makes the store SKU the Sage formatted item number (FMTITEMNO, e.g. WIDGET-1,
A1-105/0), so the store gets a product with that SKU for every item the Sage simulator's demo
company holds, starting in step with Sage (its description, its WEB/USD price, the on-hand it is
seeded with). The demo orders (demo.CATALOGUE) use some of these SKUs, so they keep flowing to Sage.
"""
from __future__ import annotations

from decimal import Decimal

import httpx

from sagebridge_sim.sage300.demo_company import DEMO_ITEMS, DEMO_PRICES

DEMO_ON_HAND = 1000          # demo_company.seed_demo: every demo item at location "1"


def store_products() -> list[dict]:
    """`POST /_sim/products` bodies, one per demo item, SKU = FMTITEMNO."""
    return [{"sku": item["FMTITEMNO"], "name": item["DESC"], "description": item["DESC"],
             "price": str(Decimal(DEMO_PRICES.get(item["FMTITEMNO"], "0"))), "amount": DEMO_ON_HAND}
            for item in DEMO_ITEMS]


def seed_store(xcart_url: str, http: httpx.Client | None = None) -> list[str]:
    """Adds the products to the X-Cart simulator (through its admin surface, not the API, so the
    write log holds only the hub's writes); the SKUs added."""
    client = http or httpx.Client(timeout=10)
    skus = []
    for body in store_products():
        client.post(f"{xcart_url}/_sim/products", json=body).raise_for_status()
        skus.append(body["sku"])
    return skus
