"""Run the Sage Pro simulator's control server until SIGTERM/SIGINT.

    python -m sagebridge_sim.sagepro --port 8400 --db /tmp/sagepro.db --company 01 --seed-demo --create-schema
    SAGEPRO_SIM_DB='DRIVER={PostgreSQL Unicode};SERVER=...' python -m sagebridge_sim.sagepro --port 8400 --seed-demo

`--db` takes an SQLite file path (through the sqlite3odbc driver) or an ODBC connection string
WITHOUT a password; a connection string with one goes in the environment (`SAGEPRO_SIM_DB`), never on
the command line (it would show in `ps`). `--create-schema` builds the tables from the default layout
when the database has none; `--seed-demo` seeds the demo company (repeatable).
"""
from __future__ import annotations

import argparse
import os
import re
import signal

import uvicorn

from .app import create_app
from .db import SageProDb
from .demo import DEMO_LOCATION, ensure_schema, seed_demo

PASSWORD = re.compile(r"(?i)(^|;)\s*(pwd|password)\s*=\s*[^;\s]")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m sagebridge_sim.sagepro", description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=8400)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--db", default=None, help="SQLite file path or ODBC connection string (no password; "
                                              "default: env SAGEPRO_SIM_DB)")
    p.add_argument("--company", default="01", help="company id: the table suffix (somast01)")
    p.add_argument("--location", default=DEMO_LOCATION, help="default stock location (loctid)")
    p.add_argument("--seed-demo", action="store_true", help="seed the demo company (idempotent)")
    p.add_argument("--create-schema", action="store_true", help="create the tables when the database has none")
    args = p.parse_args(argv)
    if args.db and PASSWORD.search(args.db):
        p.error("--db must not carry a password: put the connection string in SAGEPRO_SIM_DB")
    args.db = args.db or os.environ.get("SAGEPRO_SIM_DB", "")
    if not args.db:
        p.error("give --db or set SAGEPRO_SIM_DB")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    db = SageProDb(args.db, company=args.company)
    if args.create_schema:
        ensure_schema(db)
    if args.seed_demo:
        seed_demo(db, location=args.location)
    app = create_app(db, location=args.location)
    # uvicorn re-raises the signal it caught after a graceful shutdown; a Python-level handler turns that
    # into a normal return (exit status 0), after the app released its locks.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
