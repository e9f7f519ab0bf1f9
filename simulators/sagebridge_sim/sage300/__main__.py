"""Run the Sage 300 Web API simulator until SIGTERM/SIGINT (uvicorn handles both gracefully).

    python -m sagebridge_sim.sage300 --port 8300 --db /tmp/saminc.db --company SAMINC \
        --user WEBAPI --password SAGE300 --seed-demo

`--db` takes a file path (SQLite through the sqlite3odbc driver) or a full ODBC connection string.
"""
from __future__ import annotations

import argparse
import signal

import uvicorn

from .app import create_app
from .db import Sage300Database, zone_named


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m sagebridge_sim.sage300", description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=8300)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--db", required=True, help="SQLite file path or ODBC connection string")
    p.add_argument("--company", default="SAMINC")
    p.add_argument("--user", default="WEBAPI")
    p.add_argument("--password", default="SAGE300")
    p.add_argument("--page-size", type=int, default=100)
    p.add_argument("--seed-demo", action="store_true", help="load the demo company (idempotent)")
    p.add_argument("--time-zone", default="UTC",
                   help="zone of the simulated server's clock: AUDTDATE/AUDTTIME are stamped in it, as Sage stamps local time")
    p.add_argument("--lenient-tax", action="store_true",
                   help="keep an order's TaxAmount1 without TaxOverride (a real server ignores it and computes the tax)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    db = Sage300Database(args.db, org=args.company.upper(), audit_user=args.user.upper())
    db.time_zone = zone_named(args.time_zone)
    db.create_schema()
    if args.seed_demo:
        db.seed_demo()
    app = create_app(db, company=args.company, user=args.user, password=args.password, page_size=args.page_size,
                     strict_tax=not args.lenient_tax)
    # uvicorn re-raises the signal it caught after a graceful shutdown; a Python-level handler
    # turns that into a normal return, so the DB is closed and the exit status is 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    finally:
        db.close()


if __name__ == "__main__":
    main()
