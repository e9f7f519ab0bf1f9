"""Coalesced Shift4Shop batch writes: a burst of stock changes over few SKUs into a slow Shift4Shop
store, batched `PUT /Products` (up to 100 products a call) beside a per-SKU baseline in the same run.

For each mode a fresh rig (`shift4shop_rig.py`): embedded broker + topics, the Shift4Shop simulator
as its own process with SKU-00001..`--skus` seeded, and one real storefront_writer process on a
`kind: shift4shop` pair at the shipped rate limit (30 calls/s, burst 60: what a merchant runs; the
store's own limit is not documented, shift4shop.md §1.5). Modes:
  - batched:       coalescing at the service defaults (window 500 ms, max hold 5 s), batch_size 100
                   (the shipped default), batch_wait_ms 200;
  - per_sku:       the same coalescing, batch_size 1 (one PUT per SKU: the baseline);
  - no_coalescing: window 0 (every record written), batch_size 100;
  - batched_cold:  as batched, without the warm-up below: the burst meets an empty SKU map.
One warm-up event (SKU-00001) goes first, before the latency is set; whatever the writer reads to
find that SKU (its SKU -> CatalogID map: one count and one catalogue scan) is counted apart. Then 50 ms is added to every API
request (`POST /_sim/faults {"latency_ms": 50}`), the write log is cleared, and `--changes`
`erp.inventory.v1` events (key "<sku>|default") are produced as one burst, round-robin over the
SKUs, change n carrying quantity n and source version n (each SKU's last change is its highest).
Measured:
  - PUT calls (the simulator's write log, `/_sim/writes`: `PUT /Products` and any per-product or
    AdvancedOptions PUT) and the writer's GET lookups during the burst (its
    `sagebridge_connector_requests_total` by operation);
  - convergence: the write that gave the last SKU its final quantity minus the broker's ack of the
    last change (one clock); every SKU is then read back through the API and must match.

    .venv/bin/python bench/shift4shop_batch_writes.py [--changes 10000 --skus 500]
        [--modes batched,batched_cold,per_sku,no_coalescing] [--quick]
"""
from __future__ import annotations

import argparse
import sys
import time
from decimal import Decimal

import httpx

from coalescing import StockProducer
from common import cpu_seconds, foreign_load, leftover_processes, table, temp_work_dir, wait_until, write_json
from sagebridge_common.avro_serde import SingleObjectSerde
from sagebridge_common.schemas import SchemaCatalog
from shift4shop_rig import ShopRig, sku_name

NAME = "shift4shop_batch_writes"
LATENCY_MS = 50
TARGET_CALLS = 6
TARGET_CONVERGED_S = 5.0
COALESCE = {"COALESCE_WINDOW_MS": "500", "COALESCE_MAX_HOLD_MS": "5000"}
MODES = {"batched": (COALESCE, 100),
         "batched_cold": (COALESCE, 100),
         "per_sku": (COALESCE, 1),
         "no_coalescing": ({"COALESCE_WINDOW_MS": "0", "COALESCE_MAX_HOLD_MS": "0"}, 100)}
COLD = {"batched_cold"}          # no warm-up write: the burst finds the writer's SKU map empty
PUT_KINDS = ("products_batch", "product", "advanced_options")


def catalogue(rig: ShopRig) -> list[dict]:
    """Every product row through the API (the simulator answers 404 past the end)."""
    rows, offset = [], 1
    with httpx.Client(base_url=rig.api_url, headers=rig.api_headers, timeout=30) as api:
        while True:
            r = api.get("/Products", params={"limit": 200, "offset": offset})
            if r.status_code == 404:
                return rows
            r.raise_for_status()
            page = r.json()
            rows.extend(page)
            offset += len(page)


class StoreFollower:
    """Follows the write log: the stock each SKU holds after the accepted items, when each SKU first
    reached the quantity it must end with, and the PUT calls and items sent."""

    def __init__(self, rig: ShopRig, final: dict[str, int], sku_of: dict[int, str]) -> None:
        self.rig, self.final, self.sku_of = rig, final, sku_of
        self.since = 0
        self.reached: dict[str, float] = {}
        self.calls = 0
        self.items = 0
        self.failed_calls = 0

    def poll(self) -> bool:
        page = self.rig.writes(self.since)
        for w in page["writes"]:
            self.since = max(self.since, w["seq"])
            if w["method"] != "PUT" or w["kind"] not in PUT_KINDS:
                continue
            self.calls += 1
            body = w["body"] if isinstance(w["body"], list) else [w["body"]]
            self.items += len(body)
            if not w["ok"]:
                self.failed_calls += 1
                continue
            answers = {str(a.get("Value")): a for a in (w["response"] or []) if isinstance(a, dict)}
            for item in body:
                info = (item or {}).get("SKUInfo") or {}
                cid, stock = info.get("CatalogID"), info.get("Stock")
                answer = answers.get(str(cid))
                if stock is None or answer is None or not 200 <= int(answer.get("Status", 0)) < 300:
                    continue
                sku = self.sku_of.get(int(cid))
                if sku in self.final and Decimal(str(stock)) == self.final[sku] and sku not in self.reached:
                    self.reached[sku] = w["epoch"]
        return len(self.reached) == len(self.final) and not page["more"]


def lookups(rig: ShopRig) -> dict[str, float]:
    """The writer's GET calls to the store so far, by operation (its connector metric)."""
    out: dict[str, float] = {}
    for line in rig.metrics("storefront-writer").splitlines():
        if not line.startswith("sagebridge_connector_requests_total{") or 'connector="shift4shop"' not in line:
            continue
        op = line.split('operation="', 1)[1].split('"', 1)[0]
        if op.startswith("put_") or op.startswith("set_"):
            continue
        out[op] = out.get(op, 0.0) + float(line.rsplit(" ", 1)[1])
    return out


def minus(after: dict[str, float], before: dict[str, float]) -> dict[str, int]:
    return {k: int(v - before.get(k, 0.0)) for k, v in after.items() if v - before.get(k, 0.0) > 0}


def run_mode(mode: str, args, serde: SingleObjectSerde) -> dict:
    env, batch_size = MODES[mode]
    with temp_work_dir(f"s4s-batch-{mode}") as work:
        rig = ShopRig(work)
        producer = None
        try:
            t0 = time.monotonic()
            rig.start_broker()
            rig.start_shop(args.skus)
            rig.write_pair(store={"batch_size": batch_size})
            rate, burst = rig.storefront_setting("rate_limit_per_s"), rig.storefront_setting("rate_limit_burst")
            rig.start_services(["storefront-writer"], env={"storefront-writer": env})
            sku_of = {int(r["SKUInfo"]["CatalogID"]): r["SKUInfo"]["SKU"] for r in catalogue(rig)}
            producer = StockProducer(rig.bootstrap, serde, rig.pair_id)
            before_warm = lookups(rig)
            if mode not in COLD:
                producer.produce([(sku_name(1), 0)])                   # warm-up
                wait_until(lambda: rig.writes_summary()["kinds"].get("products_batch", {}).get("ok"), timeout=60,
                           interval=0.2, message="the warm-up write")
                time.sleep(0.5)                  # the warm-up's bookkeeping (results, versions) settles
            warm = lookups(rig)
            rig.clear_writes()
            rig.shop_faults(latency_ms=LATENCY_MS)
            startup_s = time.monotonic() - t0
            print(f"[{mode}] up in {startup_s:.1f}s; producing {args.changes} changes over {args.skus} SKUs",
                  file=sys.stderr)

            changes = [(sku_name(n % args.skus + 1), n + 1) for n in range(args.changes)]
            final = {sku: n for sku, n in changes}
            follower = StoreFollower(rig, final, sku_of)
            writer_pid = rig.services["storefront-writer"].proc.pid
            cpu0 = cpu_seconds(writer_pid)
            first_produce, last_ack = producer.produce(changes)
            try:
                wait_until(follower.poll, timeout=args.timeout, interval=0.25, message="a converged store")
                converged = True
            except TimeoutError:
                converged = False
            cpu = cpu_seconds(writer_pid) - cpu0
            time.sleep(1.0)                      # any write still in flight lands in the log
            follower.poll()
            burst_lookups = minus(lookups(rig), warm)
            call_times = rig.call_times("storefront-writer")
            rig.shop_faults(reset=True)
            stock = {r["SKUInfo"]["SKU"]: Decimal(str(r["SKUInfo"]["Stock"])) for r in catalogue(rig)}
            wrong = [s for s in final if stock.get(s) != final[s]]
            coalesced = rig.metric("storefront-writer", "sagebridge_coalesced_records_total")
        finally:
            producer = None          # closed before the broker stops (no reconnect noise)
            rig.stop()
        left = leftover_processes(str(work))
    last_reached = max(follower.reached.values()) if follower.reached else None
    return {"mode": mode, "env": env, "batch_size": batch_size, "rate_limit_per_s": rate,
            "rate_limit_burst": burst, "pair_file": rig.pair_source, "changes": args.changes, "skus": args.skus,
            "startup_s": startup_s, "produce_s": last_ack - first_produce, "converged": converged,
            "converged_after_last_change_s": (last_reached - last_ack) if converged and last_reached else None,
            "put_calls": follower.calls, "put_items": follower.items, "failed_put_calls": follower.failed_calls,
            "get_lookups": sum(burst_lookups.values()), "get_lookups_by_operation": burst_lookups,
            "warmup_lookups_by_operation": minus(warm, before_warm),
            "writer_call_times": call_times, "store_matches": not wrong, "store_mismatch_sample": wrong[:10],
            "coalesced_records": coalesced, "writer_cpu_s": cpu, "leftover_processes": left}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--changes", type=int, default=10_000)
    ap.add_argument("--skus", type=int, default=500)
    ap.add_argument("--modes", default="batched,batched_cold,per_sku,no_coalescing")
    ap.add_argument("--timeout", type=float, default=240.0, help="seconds to wait for a converged store")
    ap.add_argument("--quick", action="store_true", help="smoke run: 1,000 changes over 100 SKUs, batched only")
    args = ap.parse_args()
    if args.quick:
        args.changes, args.skus, args.modes = 1_000, 100, "batched"
    load = foreign_load()
    serde = SingleObjectSerde(SchemaCatalog.load(), validate=True)
    results = [run_mode(m.strip(), args, serde) for m in args.modes.split(",") if m.strip()]

    rows = [[r["mode"], r["env"]["COALESCE_WINDOW_MS"], r["batch_size"], r["put_calls"], r["put_items"],
             r["get_lookups"], round(r["produce_s"], 2), r["converged_after_last_change_s"], r["store_matches"],
             int(r["coalesced_records"]), round(r["writer_cpu_s"], 1)] for r in results]
    rate = results[0]["rate_limit_per_s"] if results else None
    print(table(f"Shift4Shop batch writes: {args.changes:,} stock changes over {args.skus} SKUs, {LATENCY_MS} ms "
                f"latency, rate limit {rate}/s (shipped default)",
                ["mode", "window ms", "batch", "PUT calls", "items sent", "GET lookups", "produce s",
                 "converged s after last", "store ok", "coalesced", "writer CPU s"], rows, 2))
    print()
    checks = []
    for r in results:
        if r["mode"] in ("batched", "batched_cold"):
            c, m = r["converged_after_last_change_s"], r["mode"]
            checks += [[f"{m}: PUT calls", r["put_calls"], f"<= {TARGET_CALLS}", r["put_calls"] <= TARGET_CALLS],
                       [f"{m}: converged after the last change (s)", round(c, 2) if c is not None else None,
                        f"<= {TARGET_CONVERGED_S:g}", c is not None and c <= TARGET_CONVERGED_S]]
        checks += [[f"{r['mode']}: store holds every last quantity", r["store_matches"], "yes", r["store_matches"]],
                   [f"{r['mode']}: processes left behind", len(r["leftover_processes"]), "0",
                    not r["leftover_processes"]]]
    if load["warning"]:
        checks.append(["other load on the machine at start", load["warning"], "none", False])
    print(table("Checks", ["check", "value", "target", "ok"], checks))
    path = write_json(NAME, {"description": "storefront_writer into Shift4Shop: batched PUT /Products vs per SKU",
                             "latency_ms": LATENCY_MS, "targets": {"put_calls": TARGET_CALLS,
                                                                   "converged_s": TARGET_CONVERGED_S},
                             "foreign_load": load, "runs": results})
    print(f"\nJSON: {path}")
    return 0 if all(r["converged"] and r["store_matches"] and not r["leftover_processes"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
