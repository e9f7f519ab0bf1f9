"""Coalescing in storefront_writer: a burst of stock changes over few SKUs into a slow X-Cart store,
with coalescing on (the default window) beside a no-coalescing baseline in the same run.

For each mode a fresh rig: embedded broker + topics, the X-Cart simulator as its own process with
SKU-00001..`--skus` seeded and 50 ms added to every API request (`POST /_sim/faults
{"latency_ms": 50}`, set after the warm-up below), and one real storefront_writer process on the
shipped pair (its `storefront` block pointed at the simulator; rate limit and concurrency below).
Modes:
  - coalescing: `COALESCE_WINDOW_MS` 500 / `COALESCE_MAX_HOLD_MS` 5000 (the service defaults);
  - baseline:   `COALESCE_WINDOW_MS=0` (write every record).
One warm-up event (its write loads the writer's SKU -> product id map: a listing page per 100
products and one variants GET per product) goes first, before the latency is set (at 50 ms the
map of 500 products takes ~25 s to build); the write log is cleared after it. Then `--changes`
`erp.inventory.v1` events (`sagebridge.v2.InventoryLevel`, key "<sku>|default") are produced as
fast as the producer goes, round-robin over the SKUs, change
n carrying quantity n and source version n (so each SKU's last change is its highest quantity).
Measured from the simulator's write log (`/_sim/writes`, `/_sim/writes/summary`):
  - calls per changed SKU: stock writes (PUT /api/products/{id}) over the number of SKUs changed;
  - convergence: the write that gave the last SKU its final quantity minus the broker's ack of
    the last change (one clock); every SKU is then read back from the store and must match.

    .venv/bin/python bench/coalescing.py [--changes 10000 --skus 500] [--modes coalescing,baseline] [--quick]
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from decimal import Decimal

from confluent_kafka import Producer

from common import cpu_seconds, foreign_load, leftover_processes, table, temp_work_dir, wait_until, write_json
from erp_store_rig import Rig, sku_name
from sagebridge_common.avro_serde import SingleObjectSerde
from sagebridge_common.events import new_metadata
from sagebridge_common.schemas import SchemaCatalog
from sagebridge_common.topics import INVENTORY

NAME = "coalescing"
SCHEMA = "sagebridge.v2.InventoryLevel"
LATENCY_MS = 50
TARGET_CALLS_PER_SKU = 1.2
TARGET_CONVERGED_S = 5.0
MODES = {"coalescing": {"COALESCE_WINDOW_MS": "500", "COALESCE_MAX_HOLD_MS": "5000"},
         "baseline": {"COALESCE_WINDOW_MS": "0", "COALESCE_MAX_HOLD_MS": "0"}}


def stock_event(pair_id: str, sku: str, n: int) -> dict:
    key = f"{sku}|default"
    now = datetime.now(timezone.utc)
    q = Decimal(n)
    return {"metadata": new_metadata("erp.inventory.changed", source_system="sage300", source_instance="SAMINC",
                                     source_entity_id=key, pair_id=pair_id, occurred_at=now),
            "sku": sku, "location": "default", "on_hand": q, "committed": Decimal(0), "available": q, "as_of": now,
            "quantity": q, "erp_item": sku.replace("-", ""), "erp_locations": ["1"],
            "source_version": f"{n:016d}|{sku}"}


class StockProducer:
    """Produces stock events and keeps when the broker acknowledged the last one."""

    def __init__(self, bootstrap: str, serde: SingleObjectSerde, pair_id: str) -> None:
        self.serde, self.pair_id = serde, pair_id
        self.p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                           "linger.ms": 5, "batch.num.messages": 1000, "log.connection.close": False})
        self.last_ack = 0.0
        self.failed = 0

    def _ack(self, err, _msg) -> None:
        if err is not None:
            self.failed += 1
        else:
            self.last_ack = max(self.last_ack, time.time())

    def produce(self, changes: list[tuple[str, int]]) -> tuple[float, float]:
        """(first produce call, last ack) epoch seconds. The events are encoded first, so the burst
        is as fast as the producer and broker go, not as fast as this process encodes Avro."""
        records = [(f"{sku}|default".encode(), self.serde.serialize(SCHEMA, stock_event(self.pair_id, sku, n)))
                   for sku, n in changes]
        started = time.time()
        for key, value in records:
            self.p.produce(INVENTORY, key=key, value=value, on_delivery=self._ack)
            self.p.poll(0)
        if self.p.flush(60) != 0 or self.failed:
            raise RuntimeError(f"{self.failed} stock events not acknowledged")
        return started, self.last_ack


class StoreFollower:
    """Follows the write log: the amount each SKU holds after the ok stock writes, and when each
    SKU first reached the quantity it must end with."""

    def __init__(self, rig: Rig, final: dict[str, int]) -> None:
        self.rig, self.final = rig, final
        self.since = 0
        self.amount: dict[str, int] = {}
        self.reached: dict[str, float] = {}
        self.writes = 0

    def poll(self) -> bool:
        page = self.rig.writes(self.since, kind="product")
        for w in page["writes"]:
            self.since = max(self.since, w["seq"])
            body = w.get("body")
            if not w["ok"] or w["method"] != "PUT" or not isinstance(body, dict) or "amount" not in body:
                continue
            self.writes += 1
            sku, amount = w["key"], int(body["amount"])
            self.amount[sku] = amount
            if sku in self.final and amount == self.final[sku] and sku not in self.reached:
                self.reached[sku] = w["epoch"]
        return len(self.reached) == len(self.final) and not page["more"]


def run_mode(mode: str, args, serde: SingleObjectSerde) -> dict:
    with temp_work_dir(f"coalesce-{mode}") as work:
        rig = Rig(work)
        producer = None
        try:
            t0 = time.monotonic()
            rig.start_broker()
            rig.start_xcart(args.skus)
            rig.write_pair(store={"rate_limit_per_s": args.rate_limit, "rate_limit_burst": args.rate_burst,
                                  "max_concurrency": args.concurrency})
            rig.start_services(["storefront-writer"], env={"storefront-writer": MODES[mode]})
            producer = StockProducer(rig.bootstrap, serde, rig.pair_id)
            producer.produce([(sku_name(1), 0)])                       # warm-up: loads the SKU map
            wait_until(lambda: rig.writes_summary()["kinds"].get("product", {}).get("ok"), timeout=60,
                       interval=0.2, message="the warm-up write")
            rig.clear_writes()
            rig.xcart_faults(latency_ms=LATENCY_MS)
            startup_s = time.monotonic() - t0
            print(f"[{mode}] up in {startup_s:.1f}s; producing {args.changes} changes over {args.skus} SKUs",
                  file=sys.stderr)

            changes = [(sku_name(n % args.skus + 1), n + 1) for n in range(args.changes)]
            final = {sku: n for sku, n in changes}
            follower = StoreFollower(rig, final)
            writer_pid = rig.services["storefront-writer"].proc.pid
            cpu0 = cpu_seconds(writer_pid)
            first_produce, last_ack = producer.produce(changes)
            try:
                wait_until(follower.poll, timeout=args.timeout, interval=0.25, message="a converged store")
                converged = True
            except TimeoutError:
                converged = False
            cpu = cpu_seconds(writer_pid) - cpu0
            time.sleep(1.0)                      # any write still in flight lands in the summary
            follower.poll()
            summary = rig.writes_summary()
            per_sku = summary.get("per_sku", {})
            calls = sum(per_sku.get(s, {}).get("total", 0) for s in final)
            failed = sum(per_sku.get(s, {}).get("failed", 0) for s in final)
            wrong = [s for s in final if rig.store_amount(s) != final[s]]
            coalesced = rig.metric("storefront-writer", "sagebridge_coalesced_records_total")
        finally:
            producer = None          # closed before the broker stops (no reconnect noise)
            rig.stop()
        left = leftover_processes(str(work))
    last_reached = max(follower.reached.values()) if follower.reached else None
    return {"mode": mode, "env": MODES[mode], "changes": args.changes, "skus": args.skus, "startup_s": startup_s,
            "produce_s": last_ack - first_produce, "converged": converged,
            "converged_after_last_change_s": (last_reached - last_ack) if converged and last_reached else None,
            "stock_writes": calls, "failed_writes": failed,
            "calls_per_changed_sku": calls / len(final), "store_matches": not wrong,
            "store_mismatch_sample": wrong[:10],
            "coalesced_records": coalesced, "writer_cpu_s": cpu, "leftover_processes": left}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--changes", type=int, default=10_000)
    ap.add_argument("--skus", type=int, default=500)
    ap.add_argument("--modes", default="coalescing,baseline")
    ap.add_argument("--rate-limit", type=float, default=200.0, help="the pair's storefront rate_limit_per_s")
    ap.add_argument("--rate-burst", type=int, default=50, help="the pair's storefront rate_limit_burst")
    ap.add_argument("--concurrency", type=int, default=8, help="the pair's storefront max_concurrency")
    ap.add_argument("--timeout", type=float, default=150.0, help="seconds to wait for a converged store")
    ap.add_argument("--quick", action="store_true", help="smoke run: 1,000 changes over 100 SKUs")
    args = ap.parse_args()
    if args.quick:
        args.changes, args.skus = 1_000, 100
    load = foreign_load()
    serde = SingleObjectSerde(SchemaCatalog.load(), validate=True)
    results = [run_mode(m.strip(), args, serde) for m in args.modes.split(",") if m.strip()]

    rows = [[r["mode"], r["env"]["COALESCE_WINDOW_MS"], r["changes"], r["skus"], r["stock_writes"],
             round(r["calls_per_changed_sku"], 3), round(r["produce_s"], 2), r["converged_after_last_change_s"],
             r["store_matches"], int(r["coalesced_records"]), round(r["writer_cpu_s"], 1)] for r in results]
    print(table(f"Coalescing: {args.changes:,} stock changes over {args.skus} SKUs into X-Cart with {LATENCY_MS} ms "
                f"latency (rate limit {args.rate_limit:g}/s burst {args.rate_burst}, {args.concurrency} in flight)",
                ["mode", "window ms", "changes", "SKUs", "stock writes", "calls/SKU", "produce s",
                 "converged s after last", "store ok", "coalesced", "writer CPU s"], rows, 2))
    print()
    checks = []
    for r in results:
        if r["mode"] == "coalescing":
            c = r["converged_after_last_change_s"]
            checks += [["coalescing: calls per changed SKU", round(r["calls_per_changed_sku"], 3),
                        f"<= {TARGET_CALLS_PER_SKU}", r["calls_per_changed_sku"] <= TARGET_CALLS_PER_SKU],
                       ["coalescing: converged after the last change (s)", round(c, 2) if c is not None else None,
                        f"<= {TARGET_CONVERGED_S:g}", c is not None and c <= TARGET_CONVERGED_S]]
        checks += [[f"{r['mode']}: store holds every last quantity", r["store_matches"], "yes", r["store_matches"]],
                   [f"{r['mode']}: processes left behind", len(r["leftover_processes"]), "0",
                    not r["leftover_processes"]]]
    if load["warning"]:
        checks.append(["other load on the machine at start", load["warning"], "none", False])
    print(table("Checks", ["check", "value", "target", "ok"], checks))
    path = write_json(NAME, {"description": "storefront_writer stock writes and convergence, coalescing vs none",
                             "latency_ms": LATENCY_MS, "rate_limit_per_s": args.rate_limit,
                             "rate_limit_burst": args.rate_burst, "max_concurrency": args.concurrency,
                             "targets": {"calls_per_changed_sku": TARGET_CALLS_PER_SKU,
                                         "converged_s": TARGET_CONVERGED_S},
                             "foreign_load": load, "runs": results})
    print(f"\nJSON: {path}")
    return 0 if all(r["converged"] and r["store_matches"] and not r["leftover_processes"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
