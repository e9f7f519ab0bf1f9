"""The whole ERP -> store loop: a Sage 300 ICILOC commit -> the X-Cart stock write with that
quantity, through erp_cdc, transform and storefront_writer, all real processes.

One rig: embedded broker + topics, a fresh Sage 300 company database (SQLite through the SQLite3
ODBC driver) with `--items` items (SKU00001.., formatted SKU-00001.., stock 100 at location 1), the
X-Cart simulator as its own process with the same SKUs seeded and 50 ms added to every API request,
the shipped pair with an `erp.database` block on that database (every CDC setting at its default:
poll every 1 s) and its storefront block on the simulator (rate limit `--rate-limit`/s, burst 50,
8 calls in flight), and erp_cdc, transform and storefront_writer (coalescing at its default 500 ms
window). The first scan (every seeded item's product and stock written to the store) is waited
out and the store's write log cleared before measuring.

Then `--updates` ICILOC updates are committed over `--seconds` s on an absolute schedule, as in
cdc_latency.py (a child process, the simulator's ERP driver), round-robin over the items;
update k sets quantity 1000+k. Latency of an update = the simulator's write log time of the first
successful stock write (PUT /api/products/{id}) carrying its quantity - its commit time (one
clock). An update that a later one replaced before it was written (CDC read the newer value, or the
writer coalesced it away) has no write: counted as superseded. Every item must end with its last
quantity in the store. A consumer of `erp.inventory.v1` splits each latency at the event (commit
-> event, event -> store write), and p50 by third of the run shows a backlog building.

The default load is 100 updates/s, each item changing every 5 s (longer than the coalescing
window, so every value is written): what a store at 50 ms and 8 calls in flight (~160 writes/s)
can take. cdc_latency.py's 1,000 distinct values/s would measure the store's queue, not the loop.

    .venv/bin/python bench/erp_to_store_loop.py [--updates 3000 --seconds 30 --items 500] [--quick]
"""
from __future__ import annotations

import argparse
import sys
import time

from cdc_latency import POLL_INTERVAL_S, InventoryWatcher, start
from common import (cpu_seconds, foreign_load, leftover_processes, summarize, table, temp_work_dir, wait_until,
                    write_json)
from erp_store_rig import Rig, pace_updates, sku_name, stock_updates
from sagebridge_common.avro_serde import SingleObjectSerde
from sagebridge_common.schemas import SchemaCatalog

NAME = "erp_to_store_loop"
LATENCY_MS = 50
TARGET_P99_S = POLL_INTERVAL_S + 2.0


class StockWrites:
    """Follows the X-Cart write log: (sku, amount) -> time of its first ok stock write."""

    def __init__(self, rig: Rig) -> None:
        self.rig = rig
        self.since = 0
        self.first: dict[tuple[str, int], float] = {}
        self.latest: dict[str, int] = {}
        self.writes = 0

    def poll(self) -> None:
        while True:
            page = self.rig.writes(self.since, kind="product")
            for w in page["writes"]:
                self.since = max(self.since, w["seq"])
                body = w.get("body")
                if not w["ok"] or w["method"] != "PUT" or not isinstance(body, dict) or "amount" not in body:
                    continue
                self.writes += 1
                key = (w["key"], int(body["amount"]))
                self.first.setdefault(key, w["epoch"])
                self.latest[w["key"]] = key[1]
            if not page["more"]:
                return

    def holds(self, final: dict[str, int]) -> bool:
        self.poll()
        return all(self.latest.get(s) == q for s, q in final.items())


def run(args) -> dict:
    with temp_work_dir("loop") as work:
        rig = Rig(work)
        watcher = None
        try:
            rig.start_xcart(args.items)
            rig.xcart_faults(latency_ms=LATENCY_MS)
            store = {"rate_limit_per_s": args.rate_limit, "rate_limit_burst": 50, "max_concurrency": 8}
            startup_s = start(rig, args.items, ["erp-cdc", "transform", "storefront-writer"], store=store)
            writes = StockWrites(rig)
            watcher = InventoryWatcher(rig.bootstrap, SingleObjectSerde(SchemaCatalog.load()))
            seeded = {sku_name(i): 100 for i in range(1, args.items + 1)}
            wait_until(lambda: writes.holds(seeded), timeout=180, interval=0.5, message="the first scan in the store")
            time.sleep(2 * POLL_INTERVAL_S)
            rig.clear_writes()
            writes.poll()
            print(f"up in {startup_s:.1f}s, first scan in the store; committing {args.updates} updates over "
                  f"{args.seconds}s", file=sys.stderr)
            pids = rig.pids()
            cpu0 = {n: cpu_seconds(p) for n, p in pids.items()}
            updates = stock_updates(args.items, args.updates)
            commits, schedule = pace_updates(rig.sage_db_path, updates, args.seconds)
            final = {sku_name(i): q for i, q in updates}
            try:
                wait_until(lambda: writes.holds(final), timeout=args.timeout, interval=0.25,
                           message="every item's last quantity in the store")
                arrived = True
            except TimeoutError:
                arrived = False
            cpu = {n: cpu_seconds(p) - cpu0[n] for n, p in pids.items()}
            time.sleep(1.0)
            writes.poll()
            wrong = [s for s, q in final.items() if rig.store_amount(s) != q]
            summary = rig.writes_summary()
        finally:
            if watcher:
                watcher.close()
            rig.stop()
        left = leftover_processes(str(work))
    lat, to_event, event_to_store, superseded = [], [], [], 0
    for (i, qty), committed in zip(updates, commits):
        at = writes.first.get((sku_name(i), qty))
        if at is None:
            superseded += 1
            continue
        lat.append(at - committed)
        event = watcher.first.get((sku_name(i), qty))
        if event is not None:
            to_event.append(event[0] - committed)
            event_to_store.append(at - event[0])
    thirds = [summarize(lat[k * len(lat) // 3:(k + 1) * len(lat) // 3])["p50"] for k in range(3)] if lat else []
    stock_calls = sum(v.get("total", 0) for v in summary.get("per_sku", {}).values())
    return {"items": args.items, "updates": args.updates, "seconds": args.seconds, "poll_interval_s": POLL_INTERVAL_S,
            "store_latency_ms": LATENCY_MS, "store": store, "startup_s": startup_s, "schedule": schedule,
            "arrived": arrived, "latency_s": summarize(lat), "p50_by_third_s": thirds,
            "commit_to_inventory_event_s": summarize(to_event), "inventory_event_to_store_s": summarize(event_to_store),
            "written": len(lat), "superseded": superseded,
            "store_calls": stock_calls, "write_kinds": summary.get("kinds"), "store_matches": not wrong,
            "store_mismatch_sample": wrong[:10], "cpu_s": cpu, "leftover_processes": left}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--updates", type=int, default=3_000)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--items", type=int, default=500)
    ap.add_argument("--rate-limit", type=float, default=200.0, help="the pair's storefront rate_limit_per_s")
    ap.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for the last quantities")
    ap.add_argument("--quick", action="store_true", help="smoke run: 300 updates over 5 s, 100 items")
    args = ap.parse_args()
    if args.quick:
        args.updates, args.seconds, args.items = 300, 5.0, 100
    load = foreign_load()
    r = run(args)

    s = r["latency_s"]
    ms = lambda v: round(v * 1000) if v is not None else None  # noqa: E731
    print(table(f"ERP -> store loop: {r['updates']:,} ICILOC updates over {r['seconds']:g}s ({r['items']} items), "
                f"poll {POLL_INTERVAL_S:g}s, X-Cart latency {LATENCY_MS} ms; commit -> X-Cart stock write (ms)",
                ["updates", "written", "superseded", "p50", "p90", "p99", "max", "store calls", "store ok"],
                [[r["updates"], r["written"], r["superseded"], ms(s["p50"]), ms(s["p90"]), ms(s["p99"]), ms(s["max"]),
                  r["store_calls"], r["store_matches"]]], 0))
    for label, k in (("commit -> erp.inventory.v1 event", "commit_to_inventory_event_s"),
                     ("erp.inventory.v1 event -> store write", "inventory_event_to_store_s")):
        v = r[k]
        print(f"  of which {label}: p50 {ms(v['p50'])} / p99 {ms(v['p99'])} ms")
    print("  p50 by third of the run (commit order): " + " / ".join(f"{ms(v)}" for v in r["p50_by_third_s"]) + " ms")
    print("CPU s over the run: " + ", ".join(f"{n} {v:.1f}" for n, v in sorted(r["cpu_s"].items())))
    print()
    checks = [["p99 commit -> store write (s)", round(s["p99"], 3) if s["p99"] is not None else None,
               f"<= {TARGET_P99_S:g}", s["p99"] is not None and s["p99"] <= TARGET_P99_S],
              ["store holds every item's last quantity", r["store_matches"] and r["arrived"], "yes",
               r["store_matches"] and r["arrived"]],
              ["processes left behind", len(r["leftover_processes"]), "0", not r["leftover_processes"]]]
    if load["warning"]:
        checks.append(["other load on the machine at start", load["warning"], "none", False])
    print(table("Checks", ["check", "value", "target", "ok"], checks))
    path = write_json(NAME, {"description": "ICILOC commit -> X-Cart stock write through erp_cdc, transform and "
                                            "storefront_writer", "target_p99_s": TARGET_P99_S, "foreign_load": load,
                             "run": r})
    print(f"\nJSON: {path}")
    return 0 if r["arrived"] and r["store_matches"] and not r["leftover_processes"] else 1


if __name__ == "__main__":
    sys.exit(main())
