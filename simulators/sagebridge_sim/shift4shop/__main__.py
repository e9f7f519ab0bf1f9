"""`python -m sagebridge_sim.shift4shop --port P` runs the simulator.

Secrets come only from the environment, never the command line (they would show in `ps`):
`SHIFT4SHOP_SECURE_URL` (the SecureURL header the store accepts), `SHIFT4SHOP_PRIVATE_KEY`
(PrivateKey) and `SHIFT4SHOP_TOKEN` (Token) — the same variables the hub's pair file reads, so one
setting serves both sides. All three are required. Non-secret settings may come from the environment
too: `SHIFT4SHOP_STORE_TZ` (store time zone, default America/New_York), `SHIFT4SHOP_INVOICE_PREFIX`
(default "AB-"). Nothing secret is printed or logged.
"""
from __future__ import annotations

import argparse
import logging
import os
from decimal import Decimal

import uvicorn

from .app import create_app
from .clock import StoreClock
from .store import Shift4ShopStore
from .wire import Credentials


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m sagebridge_sim.shift4shop", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--store-tz", default=os.environ.get("SHIFT4SHOP_STORE_TZ", "America/New_York"),
                   help="store time zone of every wire date (default $SHIFT4SHOP_STORE_TZ or America/New_York)")
    p.add_argument("--invoice-prefix", default=os.environ.get("SHIFT4SHOP_INVOICE_PREFIX", "AB-"))
    p.add_argument("--first-invoice-number", type=int, default=1000)
    p.add_argument("--first-order-id", type=int, default=5001)
    p.add_argument("--max-limit", type=int, default=200, help="largest `limit` served (larger ones are clamped)")
    p.add_argument("--max-batch", type=int, default=100, help="most records one batch PUT may carry")
    p.add_argument("--seed-products", type=int, default=0, metavar="N", help="create SKU-00001..N (stock 100)")
    p.add_argument("--seed-variants", type=int, default=0, metavar="K",
                   help="give each seeded product K variants SKU-nnnnn-V1..K (AdvancedOptionSufix)")
    p.add_argument("--log-level", default="info")
    args = p.parse_args(argv)
    args.credentials = Credentials(os.environ.get("SHIFT4SHOP_SECURE_URL", ""),
                                   os.environ.get("SHIFT4SHOP_PRIVATE_KEY", ""), os.environ.get("SHIFT4SHOP_TOKEN", ""))
    if not all((args.credentials.secure_url, args.credentials.private_key, args.credentials.token)):
        p.error("SHIFT4SHOP_SECURE_URL, SHIFT4SHOP_PRIVATE_KEY and SHIFT4SHOP_TOKEN must be set in the environment")
    return args


def seed(store: Shift4ShopStore, products: int, variants: int) -> None:
    for n in range(1, products + 1):
        sku = f"SKU-{n:05d}"
        store.catalogue.create({
            "sku": sku, "name": f"Product {n}", "price": Decimal("10.00") + n % 50, "stock": 100,
            "options": [{"code": f"{n}-{v}", "sku": f"{sku}-V{v}", "name": f"Variant {v}", "stock": 100}
                        for v in range(1, variants + 1)]})


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    store = Shift4ShopStore(StoreClock(args.store_tz), invoice_prefix=args.invoice_prefix,
                            first_order_id=args.first_order_id, first_invoice_number=args.first_invoice_number)
    seed(store, args.seed_products, args.seed_variants)
    app = create_app(store, args.credentials, max_limit=args.max_limit, max_batch=args.max_batch)
    logging.getLogger(__name__).info("Shift4Shop simulator on %s:%d, store time zone %s", args.host, args.port,
                                     args.store_tz)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
