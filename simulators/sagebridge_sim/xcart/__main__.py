"""`python -m sagebridge_sim.xcart --port P --token-read R --token-all W` runs the simulator.

Used by the dev stack and docker-compose; uvicorn handles SIGTERM/SIGINT and shuts down cleanly
(which also stops the push worker through the app lifespan).
"""
from __future__ import annotations

import argparse
import logging

import uvicorn

from .app import create_app
from .store import XCartStore


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m sagebridge_sim.xcart", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--token-read", required=True, help="read-only API token (GET only)")
    p.add_argument("--token-all", required=True, help="read/write API token")
    p.add_argument("--seed-products", type=int, default=0, metavar="N", help="create SKU-00001..N")
    p.add_argument("--push-url", help="enable the push module, POSTing order events here")
    p.add_argument("--push-secret", default="", help="HMAC secret for the push signature")
    p.add_argument("--no-last-renew-filter", action="store_true",
                   help="ignore lastRenewDate[...] like X-Cart 5.5.0")
    p.add_argument("--log-level", default="info")
    args = p.parse_args(argv)
    if args.push_url and not args.push_secret:
        p.error("--push-url needs --push-secret")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    store = XCartStore()
    if args.seed_products:
        store.seed_products(args.seed_products)
    app = create_app(store, args.token_read, args.token_all, last_renew_filter=not args.no_last_renew_filter)
    if args.push_url:
        app.state.push.configure(args.push_url, args.push_secret)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
