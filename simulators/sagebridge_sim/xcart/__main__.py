"""`python -m sagebridge_sim.xcart --port P --token-read R --token-all W` runs the simulator.

Secrets stay off command lines where the caller prefers: each token may come from the environment
instead, `XCART_TOKEN_READ`, `XCART_TOKEN_ALL` and `XCART_MODULE_TOKEN` (the push module's tracking
token: the same variable the hub's pair file reads, so one setting serves both sides). A command-line
value wins over the environment.

Used by the dev stack and docker-compose; uvicorn handles SIGTERM/SIGINT and shuts down cleanly
(which also stops the push worker through the app lifespan).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

import uvicorn

from .admin_catalogue import seed_catalogue
from .app import create_app
from .store import XCartStore


class OrderSequenceFile:
    """The order id and number sequence, kept in a small JSON file across restarts (`--state-file`).

    The orders themselves live in memory; what must survive a restart is where numbering stands,
    because the ERP downstream keeps the orders it was sent and finds them by order number: a store
    that renumbered from 1 would hand out numbers the ERP already holds. The file is rewritten after
    every created order, so even a killed simulator continues after its last order. The rewrite is
    one fixed-size `pwrite` over the same bytes (space-padded JSON), a few microseconds, which a kill
    cannot leave half done; a file that cannot be read stops start-up rather than renumbering."""

    RECORD = 128

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.last_id, self.last_number = self._load()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        self._write()
        os.ftruncate(self._fd, self.RECORD)      # after the write: the file is never without a record

    def _load(self) -> tuple[int, int]:
        if not self.path.exists():
            return 0, 0
        try:
            data = json.loads(self.path.read_text())
            return int(data["last_order_id"]), int(data["last_order_number"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise SystemExit(f"--state-file {self.path}: unreadable ({e}); delete it to start numbering from 1")

    def _write(self) -> None:
        text = json.dumps({"last_order_id": self.last_id, "last_order_number": self.last_number})
        os.pwrite(self._fd, text.ljust(self.RECORD - 1).encode() + b"\n", 0)

    def store(self) -> XCartStore:
        """A store that continues after the last recorded order, recording every new one."""
        if self.last_id:
            store = XCartStore(first_order_id=self.last_id + 1, first_order_number=self.last_number + 1)
        else:
            store = XCartStore()
        store.add_listener(self.record)
        return store

    def record(self, event: str, order: dict[str, Any]) -> None:
        """Store listener. Listeners run outside the store lock, so a later order may be reported
        first: only a higher id moves the file forward."""
        if event != "order.created":
            return
        with self._lock:
            if order["id"] <= self.last_id:
                return
            self.last_id, self.last_number = order["id"], int(order["order_number"])
            self._write()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m sagebridge_sim.xcart", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--token-read", default=os.environ.get("XCART_TOKEN_READ", ""),
                   help="read-only API token (GET only); default $XCART_TOKEN_READ")
    p.add_argument("--token-all", default=os.environ.get("XCART_TOKEN_ALL", ""),
                   help="read/write API token; default $XCART_TOKEN_ALL")
    p.add_argument("--seed-products", type=int, default=0, metavar="N", help="create SKU-00001..N")
    p.add_argument("--seed-variants", type=int, default=0, metavar="K",
                   help="give each seeded product K variants SKU-nnnnn-V1..K")
    p.add_argument("--push-url", help="enable the push module, POSTing order events here")
    p.add_argument("--push-secret", default="", help="HMAC secret for the push signature")
    p.add_argument("--no-last-renew-filter", action="store_true",
                   help="ignore lastRenewDate[...] like X-Cart 5.5.0")
    p.add_argument("--module-token", default=os.environ.get("XCART_MODULE_TOKEN", ""),
                   help="token of the push module's tracking endpoint (POST /sagebridge/tracking); "
                        "default $XCART_MODULE_TOKEN; empty refuses every call")
    p.add_argument("--child-writes-renew", action="store_true",
                   help="a payment transaction or tracking number alone bumps the order's lastRenewDate "
                        "(unconfirmed in X-Cart; off by default)")
    p.add_argument("--state-file", type=Path, metavar="PATH",
                   help="continue the order id/number sequence recorded in this JSON file, and record "
                        "each new order there (orders themselves are not kept)")
    p.add_argument("--log-level", default="info")
    args = p.parse_args(argv)
    if not args.token_read or not args.token_all:
        p.error("--token-read and --token-all (or XCART_TOKEN_READ / XCART_TOKEN_ALL) are required")
    if args.push_url and not args.push_secret:
        p.error("--push-url needs --push-secret")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    store = OrderSequenceFile(args.state_file).store() if args.state_file else XCartStore()
    store.child_writes_renew = args.child_writes_renew
    if args.seed_products:
        seed_catalogue(store, args.seed_products, args.seed_variants)
    app = create_app(store, args.token_read, args.token_all, last_renew_filter=not args.no_last_renew_filter,
                     module_token=args.module_token)
    if args.push_url:
        app.state.push.configure(args.push_url, args.push_secret)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
