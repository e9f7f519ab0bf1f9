"""Shift4Shop webhook -> Sage 300 sales order POST latency at a steady order rate.

A fresh rig per run (`shift4shop_rig.py`): embedded broker + topics, the Shift4Shop simulator and
the Sage 300 simulator (demo company, web customer WEBCUST refusing duplicate POs: one Sage call
per order) as their own processes, ingest (webhook route on, polling off, fetcher in the same
process), transform and erp-writer as real processes on a `kind: shift4shop` pair. The store
notifies ingest as a merchant would set it up: one webhook registered through the API
(`POST /Webhooks`, EventType "Order New" read from `GET /Webhooks/Events`, Format JSON, Url =
ingest's `/webhooks/shift4shop/<pair>/<token>`). Sage 300 gets 50 ms added to every request
(`POST /_sim/faults {"latency_ms": 50}`), as in e2e_latency.py.

What each order costs on the way: the simulator's webhook (the Order array) -> ingest's token
route (202 after the broker ack) -> the fetcher re-reads `GET /Orders/{id}` (a webhook is only a
notification: unsigned, body unconfirmed, shift4shop.md §3), through the pair's rate limit ->
`commerce.raw.v1` -> transform -> `commerce.orders.v1` (+ the Sale transaction's payment on
`commerce.payments.v1`) -> erp-writer -> Sage 300 `POST OE/OEOrders`.

Orders are guest checkouts of one product (WIDGET-1 x 2, paid by card), placed with the
simulator's admin API (`POST /_sim/orders`) on an absolute schedule (order i due at t0 + i/rate),
after a few warm-up orders whose orders and payments must be in Sage first. The payments matter:
for `settle_delay_s` (10 s) after it starts, erp-writer looks a receipt up and, finding none,
waits out the delay before creating it (a POST by its previous run may still be committing), and
that wait holds a worker; measured inside that window, 16 such payments stall every order behind
them (p50 ~3 s in a 5 s run). A deployment that has run for 10 s is past it, so the benchmark
measures after the warm-up's payments were written. Latency of an order = Sage `received_at_ms` of its POST minus the
moment its `POST /_sim/orders` was sent (the simulator creates the order while answering it, on
the same host clock; that admin call's round trip is reported too). Every order must arrive in
Sage exactly once (OrderReference = the pair's 3D1- + the invoice number).

The store's API rate limit is the pair's `storefront.rate_limit_per_s` (shipped 30/s, burst 60; the
real limit is not documented, shift4shop.md §1.5): every webhook costs the fetcher one call, so
`--rate-limit` must exceed the order rate or the fetches queue (run with the default to see it).

    .venv/bin/python bench/shift4shop_webhook_latency.py [--rate 20 --duration 30] [--rate-limit 30,5]
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

import httpx

from common import (cpu_seconds, foreign_load, leftover_processes, read_topic, summarize, table, temp_work_dir,
                    wait_until, write_json)
from sagebridge_common.topics import INGEST_NOTIFICATIONS, ORDERS, PAYMENTS, STOREFRONT_RAW
from shift4shop_rig import ShopRig, histogram_means

NAME = "shift4shop_webhook_latency"
SAGE_LATENCY_MS = 50
SERVICES = ["ingest", "transform", "erp-writer"]
ORDER = {"items": [{"sku": "WIDGET-1", "quantity": 2}], "paid": True, "payment_method": "Credit Card",
         "shipping_method": "UPS Ground",
         "billing": {"first_name": "Ben", "last_name": "Chmark", "address": "9 Elm St", "city": "Albany",
                     "state": "NY", "zip": "12207", "country": "US", "phone": "518-555-0101"}}


class Pacer:
    """Places orders through the simulator's admin API and keeps each one's send time."""

    def __init__(self, rig: ShopRig, paid: bool = True) -> None:
        self.http = httpx.Client(base_url=rig.shop_url, timeout=30)
        self.n = 0
        self.paid = paid

    def order(self) -> dict:
        self.n += 1
        sent = time.time()
        r = self.http.post("/_sim/orders", json=ORDER | {"email": f"guest{self.n}@example.com", "paid": self.paid})
        answered = time.time()
        r.raise_for_status()
        o = r.json()
        return {"number": f"{o['InvoiceNumberPrefix']}{o['InvoiceNumber']}", "order_id": o["OrderID"],
                "sent_ms": sent * 1000, "admin_rtt_ms": (answered - sent) * 1000}

    def pace(self, rate: float, duration: float) -> tuple[list[dict], dict]:
        period = 1.0 / rate
        n = int(round(rate * duration))
        made, lateness = [], []
        t0 = time.monotonic() + 0.05
        for i in range(n):
            due = t0 + i * period
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            lateness.append((time.monotonic() - due) * 1000)
            made.append(self.order())
        elapsed = time.monotonic() - t0
        return made, {"orders": n, "elapsed_s": elapsed, "achieved_rate": n / elapsed,
                      "start_lateness_ms": summarize(lateness),
                      "admin_rtt_ms": summarize([m["admin_rtt_ms"] for m in made])}

    def close(self) -> None:
        self.http.close()


def register_webhook(rig: ShopRig) -> dict:
    """Order New -> ingest's token route, through the store's API as a merchant's app does it."""
    with httpx.Client(base_url=rig.api_url, headers=rig.api_headers, timeout=30) as api:
        events = api.get("/Webhooks/Events", params={"limit": 100})
        events.raise_for_status()
        code = next(e["EventType"] for e in events.json() if e["EventName"] == "Order New")
        r = api.post("/Webhooks", json={"Name": "Sagebridge orders", "Url": rig.webhook_url, "EventType": code,
                                        "Format": "JSON", "Enabled": True})
        r.raise_for_status()
        return {"event_type": code, "answer": r.json()}


STAGES = {"notified": INGEST_NOTIFICATIONS, "fetched": STOREFRONT_RAW, "transformed": ORDERS,
          "payment": PAYMENTS}


def stage_times(bootstrap: str) -> dict[str, dict[str, float]]:
    """First record time (the producer's CreateTime, ms) per OrderID on each stage's topic: ingest's
    notification (webhook accepted), the fetcher's raw event, transform's order and payment."""
    out: dict[str, dict[str, float]] = {}
    for stage, topic in STAGES.items():
        seen: dict[str, float] = {}
        for m in read_topic(bootstrap, topic, idle=1.5, timeout=60):
            key = (m.key() or b"").decode().split(":")[-1]
            seen.setdefault(key, float(m.timestamp()[1]))
        out[stage] = seen
    return out


def breakdown(made: list[dict], first: dict[str, int], stages: dict[str, dict[str, float]]) -> dict[str, dict]:
    """Per-hop latency summaries: sent -> notified -> fetched -> transformed -> Sage POST."""
    hops: dict[str, list[float]] = {"sent->notified": [], "notified->fetched": [], "fetched->transformed": [],
                                    "transformed->sage": [], "sent->payment": []}
    for m in made:
        oid, number = str(m["order_id"]), m["number"]
        t = [m["sent_ms"], stages["notified"].get(oid), stages["fetched"].get(oid),
             stages["transformed"].get(oid), first.get(number)]
        for name, a, b in zip(list(hops)[:4], t, t[1:]):
            if a is not None and b is not None:
                hops[name].append(b - a)
        if oid in stages["payment"]:
            hops["sent->payment"].append(stages["payment"][oid] - m["sent_ms"])
    return {k: summarize(v) for k, v in hops.items()}


def writer_times(rig: ShopRig) -> dict[str, dict]:
    """erp-writer's handler time per topic and its Sage call time per operation (means since start)."""
    text = rig.metrics("erp-writer")
    return {"handler": histogram_means(text, "sagebridge_processing_duration_seconds", "topic"),
            "sage_calls": histogram_means(text, "sagebridge_connector_request_duration_seconds", "operation")}


def receipts(rig: ShopRig) -> int:
    """A/R receipt batches Sage 300 has created (the payments' writes)."""
    return sum(r["count"] for r in rig.sage_stats().get("requests", [])
               if r["method"] == "POST" and r["resource"] == "AR/ARReceiptAndAdjustmentBatches" and r["status"] < 300)


def sage_count(rig: ShopRig) -> int:
    return int(rig.sage_stats()["orders"])


def run(rate_limit: float, args) -> dict:
    with temp_work_dir(f"s4s-webhook-{rate_limit:g}") as work:
        rig = ShopRig(work)
        pacer = None
        try:
            t0 = time.monotonic()
            rig.start_broker()
            rig.start_shop()
            rig.http.post(f"{rig.shop_url}/_sim/products", json={"sku": "WIDGET-1", "name": "Widget, standard",
                                                                   "price": "9.99", "stock": 1_000_000}
                          ).raise_for_status()
            rig.start_sage()
            rig.write_pair(store={"rate_limit_per_s": rate_limit,
                                  "rate_limit_burst": max(10, int(rate_limit * 2))})
            burst = rig.storefront_setting("rate_limit_burst")
            level = {"LOG_LEVEL": args.log_level}
            rig.start_services(SERVICES, env={"ingest": {"POLL_ENABLED": "false", **level}, "transform": level,
                                              "erp-writer": level})
            hook = register_webhook(rig)
            rig.sage_faults(latency_ms=SAGE_LATENCY_MS)
            startup_s = time.monotonic() - t0
            pacer = Pacer(rig, paid=not args.unpaid)

            warm = [pacer.order() for _ in range(args.warmup_orders)]
            wait_until(lambda: sage_count(rig) >= len(warm), timeout=90, interval=0.2, message="warm-up orders")
            if not args.unpaid:         # past erp-writer's restart hold (see the module docstring)
                wait_until(lambda: receipts(rig) >= len(warm), timeout=90, interval=0.2,
                           message="warm-up payments")
            time.sleep(1.0)
            base = sage_count(rig)
            calls0 = rig.sage_stats().get("requests")
            pids = rig.pids()
            cpu0 = {n: cpu_seconds(p) for n, p in pids.items()}
            print(f"[rate limit {rate_limit:g}/s] up in {startup_s:.1f}s, warm-up done; pacing {args.rate}/s for "
                  f"{args.duration}s", file=sys.stderr)

            made, schedule = pacer.pace(args.rate, args.duration)
            load_end = time.monotonic()
            try:
                wait_until(lambda: sage_count(rig) >= base + len(made), timeout=args.drain_timeout, interval=0.5,
                           message="all orders in Sage 300")
                drained = True
            except TimeoutError:
                drained = False
            drain_s = time.monotonic() - load_end
            cpu = {n: round(cpu_seconds(p) - cpu0[n], 1) for n, p in pids.items()}
            time.sleep(3.0)                       # let any duplicate land
            orders = rig.sage_orders()
            stats = rig.sage_stats()
            deliveries = rig.http.get(f"{rig.shop_url}/_sim/webhooks").json()
            stages = stage_times(rig.bootstrap)
            writer = writer_times(rig)
        finally:
            if pacer:
                pacer.close()
            rig.stop()
        left = leftover_processes(str(work))

    prefix = "3D1-"
    sent = {m["number"]: m["sent_ms"] for m in made}
    refs = Counter(o["OrderReference"].removeprefix(prefix) for o in orders
                   if o["OrderReference"].removeprefix(prefix) in sent)
    first: dict[str, int] = {}
    for o in orders:
        ref = o["OrderReference"].removeprefix(prefix)
        if ref in sent:
            first[ref] = min(first.get(ref, o["received_at_ms"]), o["received_at_ms"])
    latencies = [first[n] - sent[n] for n in sent if n in first]
    missing = [n for n in sent if n not in refs]
    duplicates = {n: c for n, c in refs.items() if c > 1}
    return {"rate_limit_per_s": rate_limit, "rate_limit_burst": burst, "pair_file": rig.pair_source,
            "sage_latency_ms": SAGE_LATENCY_MS, "startup_s": startup_s, "webhook": hook, "schedule": schedule,
            "drained": drained, "drain_s_after_load": drain_s, "latency_ms": summarize(latencies),
            "hops_ms": breakdown(made, first, stages), "paid": not args.unpaid, "erp_writer": writer,
            "created": len(sent), "arrived": len(refs), "missing": len(missing), "missing_sample": missing[:10],
            "duplicates": len(duplicates), "duplicate_sample": dict(list(duplicates.items())[:10]),
            "exactly_once": not missing and not duplicates, "cpu_s": cpu, "sage_stats": stats,
            "sage_requests_before": calls0, "webhook_stats": deliveries, "leftover_processes": left}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=float, default=20.0, help="orders per second")
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--rate-limit", default="30,5",
                    help="the pair's storefront rate_limit_per_s, one run each (comma-separated; 30 = shipped)")
    ap.add_argument("--warmup-orders", type=int, default=5)
    ap.add_argument("--drain-timeout", type=float, default=150.0)
    ap.add_argument("--log-level", default="WARNING", help="the services' LOG_LEVEL (logs kept with "
                                                             "SAGEBRIDGE_BENCH_KEEP=1)")
    ap.add_argument("--unpaid", action="store_true", help="orders without a transaction (no payment event)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 5 s, rate limit 40/s only")
    args = ap.parse_args()
    if args.quick:
        args.duration, args.rate_limit = 5.0, "40"
    load = foreign_load()
    results = [run(float(x), args) for x in args.rate_limit.split(",") if x.strip()]

    rows = []
    for r in results:
        s = r["latency_ms"]
        rows.append([f"{r['rate_limit_per_s']:g}/s (burst {r['rate_limit_burst']})", s["count"], s["p50"], s["p90"],
                     s["p99"], s["max"], r["missing"], r["duplicates"], r["exactly_once"],
                     round(r["schedule"]["achieved_rate"], 1), r["schedule"]["start_lateness_ms"]["max"],
                     round(r["drain_s_after_load"], 1)])
    print(table(f"Shift4Shop webhook → Sage 300 order POST (ms); {args.rate:g} orders/s for {args.duration:g}s, "
                f"Sage latency {SAGE_LATENCY_MS} ms per request",
                ["store rate limit", "orders", "p50", "p90", "p99", "max", "missing", "dupes", "exactly once",
                 "rate/s", "max late ms", "drain s"], rows, 0))
    print()
    hop_rows = [[f"{r['rate_limit_per_s']:g}/s", hop, s["p50"], s["p99"], s["max"]]
                for r in results for hop, s in r["hops_ms"].items()]
    print(table("Where the time goes, per order (ms; Kafka CreateTime of each stage's record)",
                ["store rate limit", "hop", "p50", "p99", "max"], hop_rows, 0))
    print()
    cpu_rows = [[f"{r['rate_limit_per_s']:g}/s", *[r["cpu_s"].get(n) for n in
                                                    ("shop", "ingest", "transform", "erp-writer", "sage300", "broker")]]
                for r in results]
    print(table("CPU seconds over the paced phase and the drain",
                ["store rate limit", "shop sim", "ingest", "transform", "erp-writer", "Sage sim", "broker"], cpu_rows))
    print()
    checks = []
    for r in results:
        checks.append([f"{r['rate_limit_per_s']:g}/s: every order arrived exactly once",
                       f"{r['arrived']}/{r['created']}", "all, once", r["exactly_once"]])
        checks.append([f"{r['rate_limit_per_s']:g}/s: processes left behind", len(r["leftover_processes"]), "0",
                       not r["leftover_processes"]])
    if load["warning"]:
        checks.append(["other load on the machine at start", load["warning"], "none", False])
    print(table("Checks", ["check", "value", "target", "ok"], checks))
    path = write_json(NAME, {"description": "Shift4Shop order created (webhook) → Sage 300 POST received",
                             "rate_per_s": args.rate, "duration_s": args.duration, "foreign_load": load,
                             "runs": results})
    print(f"\nJSON: {path}")
    return 0 if all(r["exactly_once"] and not r["leftover_processes"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
