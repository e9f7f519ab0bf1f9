"""End-to-end latency, X-Cart order → Sage 300 sales order, webhook path vs poll path.

For each path a fresh Stack (own work dir under a temp dir: embedded broker, both simulators, all
three services) is started:
  (a) webhook: the X-Cart push module on, polling off;
  (b) poll:    push off, polling on at `--poll-interval` (default 1.0 s, the StackConfig default).
Sage 300 gets 50 ms added latency on every request (`POST /_sim/faults {"latency_ms": 50}`); each
order costs erp-writer a lookup GET and the POST, so ~100 ms of every figure is Sage's.

A few warm-up orders go through first (consumer groups joined, connections open; not measured).
Then one order is created every 20 ms (50/s) for `--duration` s with the X-Cart admin API, on an
absolute schedule (order i is due at t0 + i*20 ms, so a late POST never shifts the rest).
Latency of an order = Sage `received_at_ms` of its POST − X-Cart `created_at_ms` (same clock).
Every order must arrive exactly once (OrderReference = the pair's prefix XC1- + X-Cart order number).

    .venv/bin/python bench/e2e_latency.py [--rate 50 --duration 30 --paths webhook,poll]
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

from common import (Sims, foreign_load, leftover_processes, summarize, table, temp_work_dir, wait_until,
                    write_json)
from sagebridge_devstack.stack import Stack, StackConfig

NAME = "e2e_latency"
SAGE_LATENCY_MS = 50
TARGET_P99_MS = {"webhook": 150.0}


def pace(sims: Sims, rate: float, duration: float) -> tuple[list[dict], dict]:
    """Creates orders on an absolute schedule; returns them and how well the schedule was kept."""
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
        made.append(sims.order())
    elapsed = time.monotonic() - t0
    return made, {"orders": n, "elapsed_s": elapsed, "achieved_rate": n / elapsed,
                  "start_lateness_ms": summarize(lateness)}


def sage_count(sims: Sims) -> int:
    return int(sims.sage_stats()["orders"])


def run_path(path: str, args) -> dict:
    with temp_work_dir(f"e2e-{path}") as work:
        cfg = StackConfig(work_dir=work, partitions=4, webhook_push=(path == "webhook"),
                          poll_enabled=(path == "poll"), poll_interval_s=args.poll_interval)
        stack = Stack(cfg)
        sims = None
        try:
            t0 = time.monotonic()
            stack.start()
            sims = Sims(stack)
            sims.sage_faults(latency_ms=SAGE_LATENCY_MS)
            startup_s = time.monotonic() - t0

            warm = [sims.order() for _ in range(args.warmup_orders)]
            wait_until(lambda: sage_count(sims) >= len(warm), timeout=60, interval=0.2, message="warm-up orders")
            time.sleep(1.0)
            base = sage_count(sims)
            print(f"[{path}] stack up in {startup_s:.1f}s, warm-up done; pacing {args.rate}/s for {args.duration}s",
                  file=sys.stderr)

            made, schedule = pace(sims, args.rate, args.duration)
            load_end = time.monotonic()
            try:
                wait_until(lambda: sage_count(sims) >= base + len(made), timeout=args.drain_timeout, interval=0.5,
                           message="all orders in Sage 300")
                drained = True
            except TimeoutError:
                drained = False
            drain_s = time.monotonic() - load_end
            time.sleep(3.0)                       # let any duplicate land
            orders = sims.sage_orders()
            push = sims.xcart_stats().get("push")
        finally:
            if sims:
                sims.close()
            stack.stop()
        left = leftover_processes(str(work))

    created = {m["order_number"]: m["created_at_ms"] for m in made}
    refs = Counter(o["OrderReference"].removeprefix("XC1-") for o in orders
                   if o["OrderReference"].removeprefix("XC1-") in created)
    first_received: dict[str, int] = {}
    for o in orders:
        ref = o["OrderReference"].removeprefix("XC1-")
        if ref in created:
            first_received[ref] = min(first_received.get(ref, o["received_at_ms"]), o["received_at_ms"])
    latencies = [first_received[n] - created[n] for n in created if n in first_received]
    missing = [n for n in created if n not in refs]
    duplicates = {n: c for n, c in refs.items() if c > 1}
    return {"path": path, "poll_interval_s": args.poll_interval if path == "poll" else None,
            "sage_latency_ms": SAGE_LATENCY_MS, "startup_s": startup_s, "schedule": schedule,
            "drained": drained, "drain_s_after_load": drain_s, "latency_ms": summarize(latencies),
            "created": len(created), "arrived": len(refs), "missing": len(missing), "missing_sample": missing[:10],
            "duplicates": len(duplicates), "duplicate_sample": dict(list(duplicates.items())[:10]),
            "exactly_once": not missing and not duplicates, "push_stats": push, "leftover_processes": left}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=float, default=50.0, help="orders per second")
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--poll-interval", type=float, default=1.0)
    ap.add_argument("--warmup-orders", type=int, default=10)
    ap.add_argument("--drain-timeout", type=float, default=45.0)
    ap.add_argument("--paths", default="webhook,poll")
    args = ap.parse_args()
    load = foreign_load()

    results = [run_path(p.strip(), args) for p in args.paths.split(",") if p.strip()]

    rows = []
    for r in results:
        s = r["latency_ms"]
        label = "webhook (push on, poll off)" if r["path"] == "webhook" else \
            f"poll (push off, every {r['poll_interval_s']:g}s)"
        rows.append([label, s["count"], s["p50"], s["p90"], s["p99"], s["max"], r["missing"], r["duplicates"],
                     r["exactly_once"], round(r["schedule"]["achieved_rate"], 1),
                     r["schedule"]["start_lateness_ms"]["max"]])
    print(table(f"End-to-end latency, X-Cart created_at → Sage 300 POST received (ms); {args.rate:g} orders/s for "
                f"{args.duration:g}s, Sage latency {SAGE_LATENCY_MS} ms per request",
                ["path", "orders", "p50", "p90", "p99", "max", "missing", "dupes", "exactly once",
                 "rate/s", "max late ms"], rows, 0))
    print()
    checks = []
    for r in results:
        target = TARGET_P99_MS.get(r["path"])
        p99 = r["latency_ms"]["p99"]
        if target is not None:
            checks.append([f"{r['path']}: p99 latency (ms)", round(p99) if p99 is not None else None,
                           f"<= {target:g}", p99 is not None and p99 <= target])
        checks.append([f"{r['path']}: every order arrived exactly once", f"{r['arrived']}/{r['created']}",
                       "all, once", r["exactly_once"]])
        checks.append([f"{r['path']}: processes left behind", len(r["leftover_processes"]), "0",
                       not r["leftover_processes"]])
    if load["warning"]:
        checks.append(["other load on the machine at start", load["warning"], "none", False])
    print(table("Checks", ["check", "value", "target", "ok"], checks))
    path = write_json(NAME, {"description": "X-Cart order created → Sage 300 POST received, per path",
                             "rate_per_s": args.rate, "duration_s": args.duration, "foreign_load": load,
                             "paths": results})
    print(f"\nJSON: {path}")
    return 0 if all(r["exactly_once"] and not r["leftover_processes"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
