"""`python -m sagebridge_sim.intacct --port P` runs the Sage Intacct XML gateway simulator.

Secrets come only from the environment, never the command line (they would show in `ps`):
`INTACCT_SENDER_ID`, `INTACCT_SENDER_PASSWORD` (Web Services sender), `INTACCT_COMPANY_ID`,
`INTACCT_USER_ID`, `INTACCT_USER_PASSWORD` (the API user) — all required. `INTACCT_TIME_ZONE`
(company zone of every wire datetime, default America/Los_Angeles). The demo company is seeded
unless `--no-seed`. Logins go to `/ia/xml/xmlgw.phtml`; sessions live at `/na1/ia/xml/xmlgw.phtml`.
"""
from __future__ import annotations

import argparse
import logging
import os

import uvicorn

from .app import create_app
from .gateway import Credentials

ENV = ("INTACCT_SENDER_ID", "INTACCT_SENDER_PASSWORD", "INTACCT_COMPANY_ID", "INTACCT_USER_ID",
       "INTACCT_USER_PASSWORD")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m sagebridge_sim.intacct", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--time-zone", default=os.environ.get("INTACCT_TIME_ZONE", "America/Los_Angeles"))
    p.add_argument("--session-timeout-s", type=float, default=7200.0)
    p.add_argument("--no-seed", action="store_true", help="start with an empty company")
    p.add_argument("--log-level", default="info")
    args = p.parse_args(argv)
    values = [os.environ.get(name, "") for name in ENV]
    if not all(values):
        p.error(f"{', '.join(ENV)} must be set in the environment")
    args.credentials = Credentials(*values)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = create_app(args.credentials, tz=args.time_zone, seed=not args.no_seed,
                     session_timeout_s=args.session_timeout_s)
    logging.getLogger(__name__).info("Intacct simulator on %s:%d, company time zone %s", args.host, args.port,
                                     args.time_zone)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
