"""`python -m sagebridge_sim.threedcart --port P` runs the simulator.

The credentials the store accepts come only from the environment, never from the command line
(which any local user can read): THREEDCART_STORE_URL (the storeUrl parameter, the store's secure URL
host) and THREEDCART_USER_KEY (the userKey) - the same variables the hub's pair file reads. The store's
time zone (store-local dates on the wire) is THREEDCART_TIME_ZONE (default America/New_York), its
invoice prefix THREEDCART_INVOICE_PREFIX (default "AB-", as the recorded order shows).
"""
from __future__ import annotations

import argparse
import logging
import os
from decimal import Decimal

import uvicorn

from .app import create_app
from .store import ThreeDCartStore


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m sagebridge_sim.threedcart", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--seed-products", type=int, default=0, metavar="N", help="create SKU-00001..N, 100 in stock")
    p.add_argument("--first-invoice", type=int, default=1000, help="number of the first order placed")
    p.add_argument("--first-order-id", type=int, default=1, help="OrderID of the first order placed")
    p.add_argument("--log-level", default="info")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    store_url = os.environ.get("THREEDCART_STORE_URL", "")
    user_key = os.environ.get("THREEDCART_USER_KEY", "")
    if not store_url or not user_key:
        raise SystemExit("THREEDCART_STORE_URL and THREEDCART_USER_KEY must be set")
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    store = ThreeDCartStore(invoice_prefix=os.environ.get("THREEDCART_INVOICE_PREFIX", "AB-"),
                            first_number=args.first_invoice, first_order_id=args.first_order_id)
    for n in range(1, args.seed_products + 1):
        store.add_product(f"SKU-{n:05d}", f"Product {n}", Decimal("10.00"), 100)
    app = create_app(store, store_url=store_url, user_key=user_key,
                     time_zone=os.environ.get("THREEDCART_TIME_ZONE", "America/New_York"))
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
