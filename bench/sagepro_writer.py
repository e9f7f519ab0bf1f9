"""Sage Pro order inserts per second through ODBC with a 20 ms round trip: the Sage Pro sink
(`connectors/sagebridge_connectors/sagepro/sink.py`, the shipped pair's settings) writing canonical
orders into PostgreSQL 15 through psqlODBC, behind `delay_proxy` (10 ms each way per packet burst:
a database on a file server 20 ms away), several at once against one at a time.

Each order is one transaction (issue 10 contract): the guard read (`ponum`), the numbering row's
compare-and-set (the write lock), the guard again, header, ship-to, lines, commit. The numbering
row is held from its UPDATE to the COMMIT, so orders serialise there whatever the connection count:
concurrency only overlaps the parts before the lock (the fast-path guard) and the connections'
waits. Modes, per connection: 20 ms through the proxy with the shipped connection string; the same with
psqlODBC's `UseServerSidePrepare=0` (psqlODBC otherwise prepares each statement and wraps it in
savepoints: 35 round trips per order against 10; known customer only); 0 ms straight to the cluster:
  concurrent  `--threads` (16: erp-writer's MAX_IN_FLIGHT) threads calling `ensure_order`, the sink's
              pool at the shipped `max_connections` (4);
  serial      one thread, one order at a time.
Orders are of a known customer (erp_customer_id set: the order transaction alone, as erp-writer
after a link hit); `new customer` adds `ensure_customer(update=False)` first (arcust found by e-mail
or created under the same lock), one new e-mail per order, serial and concurrent.

Orders/s = orders / (first call -> last return), after a warm-up that opens the pool. Round trips
per order = the proxy's client bursts over the phase / orders (a burst = the client speaking again
after it heard from the server). Checks: one somast row per ponum, two sotran lines each, the
numbering row = the highest sono.

    .venv/bin/python bench/sagepro_writer.py [--orders 100] [--threads 16] [--quick]
"""
from __future__ import annotations

import argparse
import itertools
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyodbc
import yaml

from common import REPO, foreign_load, leftover_processes, table, temp_work_dir, write_json
from delay_proxy import DelayProxy
from sagebridge_common.pairs import load_pair_file
from sagebridge_connectors.sagepro.sink import SageProSink
from sagebridge_sim.sagepro.db import SageProDb
from sagebridge_sim.sagepro.demo import ensure_schema, seed_demo
from sagebridge_sim.sagepro.pg_cluster import PostgresCluster

NAME = "sagepro_writer"
SHIPPED_PAIR = REPO / "pairs" / "xcart-sagepro.yaml"
_numbers = itertools.count(1)
NO_PREPARE = "UseServerSidePrepare=0"     # psqlODBC option: no Parse/Describe/DEALLOCATE per statement


def make_pair(work: Path, odbc: str):
    """The shipped pair with its erp block pointed at `odbc` (PostgreSQL dialect, company 01)."""
    data = yaml.safe_load(SHIPPED_PAIR.read_text())
    data["storefront"] = {"kind": "xcart", "base_url": "http://127.0.0.1:9"}
    erp = {k: v for k, v in data["erp"].items() if not (isinstance(v, str) and "${" in v)}
    erp.pop("location", None)
    data["erp"] = {**erp, "connection_string": odbc, "dialect": "postgres", "company": "01", "lock_timeout_s": 5,
                   "max_connections": 4, "change_capture": None}
    path = work / f"pair-{next(_numbers)}.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_pair_file(path)


def address(email: str | None = None) -> dict:
    return {"name": "Ben Chmark", "company": None, "line1": "1 Main Street", "line2": None, "city": "New York",
            "region": "New York", "postal_code": "10001", "country": "US", "phone": "212-555-0100",
            "email": email, "region_code": "NY", "erp_country": "USA"}


def order(number: str, custno: str | None, email: str) -> dict:
    """WIDGET-1 x 2 at 12.50 + a HANDLING line of 2.00 + shipping 5.00 on the header = 32.00."""
    now = datetime.now(timezone.utc)
    return {"order_id": f"id-{number}", "order_number": number, "ordered_at": now, "currency": "USD",
            "customer": {"email": email, "email_key": email, "erp_customer_id": custno, "first_name": "Ben",
                         "last_name": "Chmark", "phone": None, "new_customer_number": None},
            "billing_address": address(), "shipping_address": address(), "ship_via_code": "UPS-GROUND",
            "notes": None,
            "lines": [{"line_id": "1", "sku": "WIDGET-1", "item_number": "WIDGET-1", "name": "Widget",
                       "location_code": "MAIN", "quantity": Decimal("2"), "unit_price": Decimal("12.50"),
                       "discount": Decimal("0"), "line_total": Decimal("25.00")}],
            "charges": [{"kind": "shipping", "code": None, "placement": "header", "amount": Decimal("5.00"),
                         "description": "UPS Ground"},
                        {"kind": "handling", "code": "HANDLING", "placement": "line", "amount": Decimal("2.00"),
                         "description": "Handling"}],
            "subtotal": Decimal("27.00"), "discount_total": Decimal("0"), "shipping_total": Decimal("5.00"),
            "tax_total": Decimal("0"), "total": Decimal("32.00"), "tax_mode": "store", "rate_type": None}


def customer(email: str) -> dict:
    return {"customer_id": email, "email": email, "email_key": email, "first_name": "Ben", "last_name": "Chmark",
            "company": None, "phone": "212-555-0100", "is_guest": False, "billing_address": address(email),
            "shipping_address": None, "erp_customer_id": None, "new_customer_number": None}


def write_one(sink: SageProSink, number: str, new_customer: bool) -> str:
    email = f"bench.{number.lower()}@example.com"
    custno = "WEB001"
    if new_customer:
        got = sink.ensure_customer(customer(email), update=False)
        custno = got.document_id
    return sink.ensure_order(order(number, custno, email)).outcome


def phase(sink: SageProSink, proxy: DelayProxy | None, tag: str, n: int, threads: int, new_customer: bool) -> dict:
    numbers = [f"{tag}{i:05d}" for i in range(n)]
    bursts0 = proxy.stats()["client_bursts"] if proxy else 0
    t0 = time.monotonic()
    if threads == 1:
        outcomes = [write_one(sink, num, new_customer) for num in numbers]
    else:
        with ThreadPoolExecutor(threads) as pool:
            outcomes = list(pool.map(lambda num: write_one(sink, num, new_customer), numbers))
    seconds = time.monotonic() - t0
    bursts = (proxy.stats()["client_bursts"] - bursts0) if proxy else None
    return {"orders": n, "threads": threads, "new_customer": new_customer, "seconds": seconds,
            "orders_per_s": n / seconds, "round_trips_per_order": bursts / n if bursts is not None else None,
            "outcomes": {o: outcomes.count(o) for o in set(outcomes)}, "numbers": numbers}


def check(odbc: str, numbers: list[str]) -> dict[str, Any]:
    """One somast row per reference, two lines each, the numbering row at the highest sono."""
    conn = pyodbc.connect(odbc, autocommit=True)
    try:
        cur = conn.cursor()
        heads = dict(cur.execute("SELECT RTRIM(ponum), COUNT(*) FROM somast01 GROUP BY RTRIM(ponum)").fetchall())
        lines = cur.execute("SELECT COUNT(*) FROM sotran01").fetchone()[0]
        top = cur.execute("SELECT MAX(CAST(TRIM(sono) AS INTEGER)) FROM somast01").fetchone()[0]
        last = int(cur.execute("SELECT lastsono FROM sosyst01").fetchone()[0].strip())
        orders = cur.execute("SELECT COUNT(*) FROM somast01").fetchone()[0]
    finally:
        conn.close()
    refs = [f"XP1-{n}" for n in numbers]
    once = all(heads.get(r) == 1 for r in refs)
    return {"orders": orders, "lines": lines, "every_reference_once": once, "lines_per_order": lines / orders
            if orders else None, "numbering_at_highest": top == last, "ok": once and lines == 2 * orders
            and top == last}


def run(args) -> dict[str, Any]:
    runs: list[dict] = []
    with PostgresCluster() as pg, temp_work_dir("sagepro-writer") as work:
        marker = str(pg.dir)
        odbc = pg.odbc()
        db = SageProDb(odbc)
        ensure_schema(db)
        seed_demo(db)
        with DelayProxy("127.0.0.1", pg.port, args.delay_ms / 2000) as proxy:
            slow = odbc.replace(f"PORT={pg.port}", f"PORT={proxy.port}")
            for label, target, px, with_new in ((f"{args.delay_ms:g} ms", slow, proxy, True),
                                                (f"{args.delay_ms:g} ms, {NO_PREPARE}", slow + ";" + NO_PREPARE,
                                                 proxy, False),
                                                ("0 ms (no proxy)", odbc, None, False)):
                sink = SageProSink(make_pair(work, target))
                try:
                    phase(sink, px, f"W{len(runs)}", 8, args.threads, False)          # warm-up: the pool opens
                    for threads, new, n in ((args.threads, False, args.orders), (1, False, args.serial_orders),
                                            (args.threads, True, args.orders // 2),
                                            (1, True, args.serial_orders // 2)):
                        if new and not with_new:
                            continue
                        r = phase(sink, px, f"R{len(runs)}", n, threads, new)
                        r["latency"] = label
                        runs.append(r)
                        print(f"{label}, {threads} thread(s), {'new' if new else 'known'} customer: "
                              f"{r['orders_per_s']:.2f} orders/s, {r['round_trips_per_order'] or 0:.1f} round trips/order",
                              file=sys.stderr)
                finally:
                    sink.close()
        verdict = check(odbc, [num for r in runs for num in r["numbers"]])
    for r in runs:
        del r["numbers"]
    return {"delay_ms": args.delay_ms, "runs": runs, "check": verdict, "leftover_processes": leftover_processes(marker)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=100, help="orders of a concurrent phase")
    ap.add_argument("--serial-orders", type=int, default=40, help="orders of a one-at-a-time phase")
    ap.add_argument("--threads", type=int, default=16, help="erp-writer's MAX_IN_FLIGHT")
    ap.add_argument("--delay-ms", type=float, default=20.0, help="round trip added by the proxy")
    ap.add_argument("--quick", action="store_true", help="20 / 8 orders")
    args = ap.parse_args()
    if args.quick:
        args.orders, args.serial_orders = 20, 8
    load = foreign_load()
    doc = run(args)
    rows = [[r["latency"], r["threads"], "new" if r["new_customer"] else "known", r["orders"], r["seconds"],
             r["orders_per_s"], r["round_trips_per_order"], str(r["outcomes"])] for r in doc["runs"]]
    print(table("Sage Pro sink: orders through psqlODBC (PostgreSQL 15), shipped pair (max_connections 4)",
                ["latency", "threads", "customer", "orders", "seconds", "orders/s", "round trips/order", "outcomes"],
                rows, 2))
    by = {(r["latency"], r["threads"], r["new_customer"]): r["orders_per_s"] for r in doc["runs"]}
    doc["speedup"] = {f"{lat}, {'new' if c else 'known'} customer": by[(lat, args.threads, c)] / by[(lat, 1, c)]
                      for lat, _t, c in by if (lat, 1, c) in by and (lat, args.threads, c) in by and _t == 1}
    print(f"\nspeedup {args.threads} threads vs 1: " + ", ".join(f"{k} {v:.2f}x" for k, v in doc["speedup"].items()))
    print(f"check: {doc['check']}")
    ok = doc["check"]["ok"] and not doc["leftover_processes"] and all(
        set(r["outcomes"]) == {"created"} for r in doc["runs"])
    path = write_json(NAME, {**doc, "foreign_load": load, "ok": ok})
    print(f"results: {path}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
