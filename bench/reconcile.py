"""`sagebridge reconcile` over 10,000 orders: seconds, and the store / ERP calls it made.

Both simulators run in this process (uvicorn threads); the command runs as its own process, as an
operator runs it. The books are seeded straight into the simulators' state, not through their APIs
(that would time the seeding): N orders in the X-Cart store (`XCartStore.create_order`), and for each
one OE order in the Sage 300 tables (OEORDH + OEORDH1 rows, one transaction) with the pair's
reference and the store's total. The run must find all N matched and exit 0. Calls are counted by
the simulators' own request statistics, and compared with the command's own count.

With `--payments` one receipt batch per order is seeded too (ARBTA + ARTCR, described
`<ref>-P<transaction>`), and a second run also reads each order's payment transactions (one store
call per order) and the receipt batches; it must find every receipt matched.

    .venv/bin/python bench/reconcile.py [--orders 10000] [--payments]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import yaml

from common import REPO, foreign_load, table, temp_work_dir, write_json
from sagebridge_sim.sage300 import Sage300Database
from sagebridge_sim.sage300 import create_app as sage_app
from sagebridge_sim.sage300.app import stats as sage_stats
from sagebridge_sim.serve import BackgroundServer
from sagebridge_sim.xcart import XCartStore
from sagebridge_sim.xcart import create_app as xcart_app

PASSWORD = "bench-pw"
PREFIX = "XC1-"
SAGEBRIDGE = str(Path(sys.executable).parent / "sagebridge")


def seed_store(store: XCartStore, n: int) -> list[dict]:
    spec = {"items": [{"sku": "WIDGET-1", "name": "Widget", "price": Decimal("12.50"), "amount": 2}],
            "shipping": Decimal("5.00"), "guest": True}
    metas = [store.create_order(spec) for _ in range(n)]
    return [{"number": m["order_number"], "total": store.orders[m["id"]].total(),
             "txn": f"t{store.orders[m['id']].transactions[0].id}"} for m in metas]


def seed_sage(db: Sage300Database, orders: list[dict]) -> None:
    today = int(datetime.now(timezone.utc).strftime("%Y%m%d"))
    with db.transaction() as cur:
        for uniq, o in enumerate(orders, start=200001):
            ref = PREFIX + o["number"]
            db.insert(cur, "OEORDH", {"ORDUNIQ": uniq, "ORDNUMBER": f"ORD{uniq:09d}", "CUSTOMER": "WEBCUST",
                                      "ORDDATE": today, "REFERENCE": ref, "PONUMBER": ref, "TYPE": 1,
                                      "ORSOURCURR": "USD", "INVNETWTX": o["total"]})
            db.insert(cur, "OEORDH1", {"ORDUNIQ": uniq})


def seed_receipts(db: Sage300Database, orders: list[dict]) -> None:
    """One CA batch per store payment (ARBTA + one ARTCR entry), described as the hub describes it."""
    today = int(datetime.now(timezone.utc).strftime("%Y%m%d"))
    with db.transaction() as cur:
        for batch, o in enumerate(orders, start=1):
            ref = PREFIX + o["number"]
            key = {"CODEPYMTYP": "CA", "CNTBTCH": batch}
            db.insert(cur, "ARBTA", {**key, "DATEBTCH": today, "BATCHSTAT": 1, "CODECURN": "USD", "IDBANK": "SEATAC",
                                     "BATCHDESC": f"{ref}-P{o['txn']}", "CNTENTER": 1, "AMTENTER": o["total"]})
            db.insert(cur, "ARTCR", {**key, "CNTITEM": 1, "IDCUST": "WEBCUST", "DATERMIT": today, "TXTRMITREF": ref,
                                     "AMTRMIT": o["total"], "AMTRMITTC": o["total"], "RMITTYPE": 2})


def pair_file(work: Path, xcart_url: str, sage_url: str) -> Path:
    pair = yaml.safe_load((REPO / "pairs" / "xcart-sage300.yaml").read_text())
    pair.update(pair="bench-recon", store_time_zone="America/New_York")
    pair["storefront"] = {"kind": "xcart", "base_url": xcart_url, "token": "bench-read"}
    pair["erp"] = {"kind": "sage300", "base_url": sage_url, "company": "SAMINC", "user": "WEBAPI",
                   "password": PASSWORD, "timeout_s": 120}
    path = work / "pairs" / "pair.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(pair))
    return path


def one_run(label: str, pairs: Path, window: list[str], xcart, sage, extra: list[str]) -> dict:
    before_x, before_s = _xcart_calls(xcart), _sage_calls(sage)
    started = time.monotonic()
    done = subprocess.run([SAGEBRIDGE, "reconcile", "--pair", "bench-recon", "--pairs-path", str(pairs), *window,
                           "--json", *extra], capture_output=True, text=True, timeout=1800)
    seconds = time.monotonic() - started
    report = json.loads(done.stdout) if done.stdout.strip() else {}
    if done.returncode not in (0, 1):
        print(done.stderr, file=sys.stderr)
    return {"label": label, "exit_code": done.returncode, "seconds": seconds, "counts": report.get("counts", {}),
            "store_orders": report.get("store_orders"), "erp_orders": report.get("erp_orders"),
            "store_calls": _xcart_calls(xcart) - before_x, "erp_calls": _sage_calls(sage) - before_s,
            "calls_reported": report.get("calls", {})}


def _xcart_calls(app) -> int:
    return sum(sum(by_status.values()) for by_status in app.state.stats.snapshot().values())


def _sage_calls(app) -> int:
    return sum(r["count"] for r in sage_stats(app.state.sim)["requests"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=10_000)
    ap.add_argument("--payments", action="store_true", help="also a run with --payments (needs AR receipts in the sim)")
    args = ap.parse_args()
    load = foreign_load()
    with temp_work_dir("reconcile") as work:
        store = XCartStore()
        xapp = xcart_app(store, token_read="bench-read", token_all="bench-write")
        db = Sage300Database(str(work / "sage.sqlite"))
        db.seed_demo()
        sapp = sage_app(db, password=PASSWORD)
        t0 = time.monotonic()
        orders = seed_store(store, args.orders)
        seed_sage(db, orders)
        if args.payments:
            seed_receipts(db, orders)
        seeding = time.monotonic() - t0
        now = datetime.fromtimestamp(store.now(), timezone.utc)
        window = ["--from", (now - timedelta(hours=1)).isoformat(), "--to", (now + timedelta(hours=1)).isoformat()]
        with BackgroundServer(xapp) as xs, BackgroundServer(sapp) as ss:
            pairs = pair_file(work, xs.url, ss.url)
            runs = [one_run("orders", pairs, window, xapp, sapp, [])]
            if args.payments:
                runs.append(one_run("orders + payments", pairs, window, xapp, sapp, ["--payments"]))
        db.close()
    for r in runs:
        r["ok"] = (r["exit_code"] == 0 and r["counts"].get("matched") == args.orders
                   and r["counts"].get("receipts_matched", args.orders) == args.orders)
    ok = all(r["ok"] for r in runs)
    print(table(f"sagebridge reconcile, {args.orders:,} orders (seeded in {seeding:.1f}s)",
                ["run", "seconds", "orders/s", "store calls", "ERP calls", "matched", "exit", "ok"],
                [[r["label"], r["seconds"], args.orders / r["seconds"], r["store_calls"], r["erp_calls"],
                  r["counts"].get("matched"), r["exit_code"], r["ok"]] for r in runs]))
    write_json("reconcile", {"orders": args.orders, "seeding_s": seeding, "runs": runs, "ok": ok,
                             "foreign_load": load, "cpus": os.cpu_count()})
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
