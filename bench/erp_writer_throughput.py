"""erp-writer throughput against a slow Sage 300: per-key concurrency (MAX_IN_FLIGHT=16) vs one at a
time (MAX_IN_FLIGHT=1).

Per run, a fresh Stack with only what erp-writer needs: embedded broker, the topic catalogue, the
simulators (the Sage 300 one is used; `start_simulators` starts both) and erp-writer. No ingest, no
transform. N canonical `sagebridge.v1.Order` events with distinct keys and order numbers are
produced to `commerce.orders.v1` with the project's serde (single-object Avro) *before* erp-writer
starts, the Sage latency fault is set, then erp-writer starts with `MAX_IN_FLIGHT` from
`StackConfig(service_env=...)`. Throughput comes from the Sage `received_at_ms` of the order POSTs:
steady state, excluding the first second after the first POST.

Without the duplicate-PO guard each order costs two Sage calls: a lookup GET (`OrderReference eq
...`, the idempotency check) and the POST. With the guard (the web customer's CheckForDuplicatePOs =
Error, so Sage itself refuses a repeated PO number) it costs the POST alone, plus one read of the
customer's option per TTL. Two fault settings, run at both concurrency levels without the guard and
at 16 in flight with it:
  (i)  latency on every request: `{"latency_ms": 100}` → 200 ms of Sage time per order without the
       guard (target ≥ 0.8 × 16 / 0.2 s = 64 orders/s at 16 in flight), 100 ms with it (128/s);
  (ii) latency on the POST only: `{"latency_ms": 100, "methods": ["POST"]}` → 100 ms per order,
       target ≥ 0.8 × 16 / 0.1 s = 128 orders/s at 16 in flight.
"Sage calls/order" counts every Web API request the simulator saw (OE orders and AR customers).
Fresh broker and Sage database per run, so lookups never hit.

    .venv/bin/python bench/erp_writer_throughput.py [--n16 800 --n1 100] [--guard off,on]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal

from confluent_kafka import Producer

import httpx

from common import (cpu_seconds, BENCH_DIR, Sims, foreign_load, leftover_processes, metric_value, summarize, table, temp_work_dir, wait_until,
                    write_json)
from sagebridge_common.avro_serde import SingleObjectSerde
from sagebridge_common.events import new_metadata
from sagebridge_common.schemas import SchemaCatalog
from sagebridge_common.topics import ORDERS
from sagebridge_devstack.processes import ManagedProcess
from sagebridge_devstack.stack import Stack, StackConfig

NAME = "erp_writer_throughput"
ORDER_SCHEMA = "sagebridge.v2.Order"
SAGE_LATENCY_MS = 100
SETTINGS = {
    "i": {"label": "(i) latency on every request", "faults": {"latency_ms": SAGE_LATENCY_MS},
          "sage_calls_per_order": {"off": 2, "on": 1}},
    "ii": {"label": "(ii) latency on the POST only", "faults": {"latency_ms": SAGE_LATENCY_MS, "methods": ["POST"]},
           "sage_calls_per_order": {"off": 1, "on": 1}},
}
PREFIX = "XC1-"         # the shipped pair's reference_prefix


def D(text: str) -> Decimal:
    return Decimal(text).quantize(Decimal("0.0001"))


def order_value(order_id: str, number: str, pair_id: str) -> dict:
    """A valid canonical order as transform would emit it for the demo Sage company."""
    now = datetime.now(timezone.utc)
    meta = new_metadata("order.created", source_system="xcart", source_instance="default",
                        source_entity_id=order_id, pair_id=pair_id, occurred_at=now)
    addr = {"name": "Ben Chmark", "company": None, "line1": "1 Main Street", "line2": None, "city": "New York",
            "region": "New York", "postal_code": "10001", "country": "US", "phone": "+1 212 555 0100",
            "email": "bench@example.com"}
    return {
        "metadata": meta, "order_id": order_id, "order_number": number, "status": "paid",
        "fulfilment_status": "unfulfilled", "ready_for_erp": True, "ordered_at": now, "updated_at": now,
        "currency": "USD",
        "customer": {"storefront_customer_id": None, "email": "bench@example.com", "first_name": "Ben",
                     "last_name": "Chmark", "phone": None, "erp_customer_id": "WEBCUST"},
        "billing_address": addr, "shipping_address": addr,
        "lines": [{"line_id": "1", "sku": "WIDGET-1", "name": "Widget", "quantity": D("2"),
                   "unit_price": D("12.50"), "discount": D("0"), "line_total": D("25.00"), "location_code": "1"}],
        "subtotal": D("25.00"), "discount_total": D("0"), "shipping_total": D("5.00"), "tax_total": D("0"),
        "total": D("30.00"), "tax_included": False, "shipping_method": "UPS Ground", "ship_via_code": "UPSGRD",
        "payment_method": "Credit Card", "payment_method_code": None, "notes": None,
    }


def produce_orders(bootstrap: str, n: int, prefix: str, pair_id: str) -> list[str]:
    serde = SingleObjectSerde(SchemaCatalog.load(), validate=True)
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                         "linger.ms": 5})
    failures: list[str] = []
    numbers = []
    for i in range(n):
        order_id, number = f"{prefix}{i:06d}", f"{prefix}-{i:06d}"
        value = serde.serialize(ORDER_SCHEMA, order_value(order_id, number, pair_id))
        while True:
            try:
                producer.produce(ORDERS, key=order_id.encode(), value=value,
                                 on_delivery=lambda err, _m: err and failures.append(str(err)))
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
        numbers.append(number)
    if producer.flush(60) != 0 or failures:
        raise RuntimeError(f"pre-produce failed: {failures[:3]}")
    return numbers


def steady_rate(received_ms: list[int], skip_ms: int = 1000) -> dict:
    ts = sorted(received_ms)
    if len(ts) < 2:
        return {"orders_per_s": None, "window_orders": len(ts), "window_s": 0.0, "overall_orders_per_s": None}
    window = [t for t in ts if t >= ts[0] + skip_ms]
    span = (window[-1] - window[0]) / 1000 if len(window) >= 2 else 0.0
    rate = (len(window) - 1) / span if span > 0 else None
    overall = (len(ts) - 1) / ((ts[-1] - ts[0]) / 1000) if ts[-1] > ts[0] else None
    return {"orders_per_s": rate, "window_orders": len(window), "window_s": span, "overall_orders_per_s": overall,
            "first_to_last_s": (ts[-1] - ts[0]) / 1000}


def start_broker_and_sage(stack: Stack) -> None:
    """What an erp-writer bench needs before its writer: the broker, the topics and the Sage 300
    simulator (no storefront, no other service)."""
    stack.work.mkdir(parents=True, exist_ok=True)
    stack.start_broker()
    stack.apply_topics()
    stack.logs.mkdir(parents=True, exist_ok=True)
    start_sage(stack)


def start_sage(stack: Stack) -> None:
    """Only the Sage 300 simulator (erp-writer needs nothing else), with the same arguments as
    `Stack.start_simulators`."""
    args = ["--port", str(stack.ports["sage300"]), "--db", str(stack.work / "sage300.sqlite"), "--company", "SAMINC",
            "--user", "WEBAPI", "--password", stack.sage_password, "--seed-demo"]
    argv = [sys.executable, "-m", "sagebridge_sim.sage300"]
    proc = ManagedProcess("sage300-sim", argv + args, {}, stack.logs, ready_url=f"{stack.sage_url}/_sim/stats")
    stack.simulators["sage300"] = proc.start()
    proc.wait_ready()


def probe_get_ms(stack: Stack, sims: Sims, tries: int = 3) -> float:
    """Median time of an authenticated lookup-style GET under the current fault plan."""
    url = f"{stack.sage_url}/Sage300WebApi/v1.0/-/SAMINC/OE/OEOrders"
    times = []
    for _ in range(tries):
        t = time.monotonic()
        r = sims.http.get(url, params={"$filter": "OrderReference eq 'PROBE'", "$top": 2},
                          auth=("WEBAPI", stack.sage_password), headers={"Content-Type": "application/json"})
        r.raise_for_status()
        times.append((time.monotonic() - t) * 1000)
    return sorted(times)[len(times) // 2]


def writer_timing(stack: Stack) -> dict:
    """Mean seconds per call/record as erp-writer saw them (its Prometheus histograms)."""
    text = httpx.get(f"{stack.ops_url('erp-writer')}/metrics", timeout=10).text

    def mean(name: str, **labels) -> float | None:
        n = metric_value(text, name + "_count", **labels)
        return metric_value(text, name + "_sum", **labels) / n * 1000 if n else None

    return {"find_order_ms": mean("sagebridge_connector_request_duration_seconds", operation="find_order"),
            "create_order_ms": mean("sagebridge_connector_request_duration_seconds", operation="create_order"),
            "handler_ms": mean("sagebridge_processing_duration_seconds", topic=ORDERS)}


def one_run(setting: str, max_in_flight: int, n: int, guard: str = "off") -> dict:
    spec = SETTINGS[setting]
    sage_s_per_order = spec["sage_calls_per_order"][guard] * SAGE_LATENCY_MS / 1000
    with temp_work_dir(f"erpw-{setting}-{max_in_flight}-{guard}") as work:
        cfg = StackConfig(work_dir=work, partitions=4, poll_enabled=False,
                          service_env={"erp-writer": {"MAX_IN_FLIGHT": str(max_in_flight),
                                                      "PAIRS_PATH": str(BENCH_DIR.parent / "pairs")}})
        stack = Stack(cfg)
        sims = None
        try:
            start_broker_and_sage(stack)
            sims = Sims(stack)
            prefix = f"B{setting.upper()}{max_in_flight}{uuid.uuid4().hex[:4].upper()}"
            numbers = produce_orders(stack.bootstrap, n, prefix, stack.pair_id)
            sims.sage_reset()
            sims.http.post(f"{stack.sage_url}/_sim/customers/WEBCUST", json={
                "CheckForDuplicatePOs": "Error" if guard == "on" else "None"}).raise_for_status()
            sims.sage_faults(reset=True, **spec["faults"])
            get_ms = probe_get_ms(stack, sims)
            calls_before = sum(r["count"] for r in sims.sage_stats()["requests"])
            sage_pid = stack.simulators["sage300"].proc.pid
            sage_cpu0, t_start = cpu_seconds(sage_pid), time.monotonic()
            stack.start_service("erp-writer")
            writer_pid = stack.services["erp-writer"].proc.pid
            expected_s = n * sage_s_per_order / max_in_flight
            wait_until(lambda: int(sims.sage_stats()["orders"]) >= n, timeout=max(60, 4 * expected_s + 30),
                       interval=0.5, message=f"{n} orders in Sage 300")
            elapsed = time.monotonic() - t_start
            cpu = {"erp-writer": round(100 * cpu_seconds(writer_pid) / elapsed, 1),
                   "sage300-sim": round(100 * (cpu_seconds(sage_pid) - sage_cpu0) / elapsed, 1)}
            time.sleep(1.5)                       # any duplicate would land now
            timing = writer_timing(stack)
            orders = sims.sage_orders()
            stats = sims.sage_stats()
        finally:
            if sims:
                sims.close()
            stack.stop()
        left = leftover_processes(str(work))

    wanted = {PREFIX + number for number in numbers}
    refs = Counter(o["OrderReference"] for o in orders)
    received = [o["received_at_ms"] for o in orders if o["OrderReference"] in wanted]
    requests = {f"{r['method']} {r['resource']} {r['status']}": r["count"] for r in stats["requests"]}
    rate = steady_rate(received)
    target = 0.8 * 16 / sage_s_per_order if max_in_flight == 16 else None
    ideal = max_in_flight / sage_s_per_order
    calls = sum(r["count"] for r in stats["requests"]) - calls_before      # the writer's requests only
    gaps = [b - a for a, b in zip(sorted(received), sorted(received)[1:])]
    return {"setting": setting, "setting_label": spec["label"], "faults": spec["faults"], "guard": guard,
            "sage_calls": calls, "sage_calls_per_order": calls / n, "max_in_flight": max_in_flight, "orders": n, "probe_lookup_get_ms": get_ms, "writer_mean_ms": timing, "throughput": rate,
            "ideal_orders_per_s": ideal, "target_orders_per_s": target,
            "target_ok": None if target is None else (rate["orders_per_s"] or 0) >= target,
            "efficiency_vs_ideal": (rate["orders_per_s"] or 0) / ideal,
            "post_gap_ms": summarize(gaps), "sage_requests": requests,
            "arrived": sum(1 for r in wanted if refs[r] >= 1), "duplicates": sum(1 for r in wanted if refs[r] > 1),
            "stray_orders": sum(c for r, c in refs.items() if r not in wanted),
            "cpu_percent_during_run": cpu, "startup_to_done_s": elapsed, "leftover_processes": left}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n16", type=int, default=800, help="orders for the MAX_IN_FLIGHT=16 runs")
    ap.add_argument("--n1", type=int, default=100, help="orders for the MAX_IN_FLIGHT=1 runs")
    ap.add_argument("--settings", default="i,ii")
    ap.add_argument("--guard", default="off,on", help="duplicate-PO guard runs: off (1 and 16 in flight), on (16)")
    args = ap.parse_args()
    load = foreign_load()
    guards = [g.strip() for g in args.guard.split(",") if g.strip()]

    runs = []
    for setting in [s.strip() for s in args.settings.split(",") if s.strip()]:
        plan = ([(16, args.n16, "off"), (1, args.n1, "off")] if "off" in guards else []) + \
               ([(16, args.n16, "on")] if "on" in guards else [])
        for mif, n, guard in plan:
            r = one_run(setting, mif, n, guard)
            runs.append(r)
            print(f"{r['setting_label']}, MAX_IN_FLIGHT={mif}, guard {guard}: "
                  f"{r['throughput']['orders_per_s'] or 0:.1f} orders/s, {r['sage_calls_per_order']:.2f} Sage calls/order",
                  file=sys.stderr)

    rows, speedups = [], {}
    for r in runs:
        t = r["throughput"]
        rows.append([r["setting_label"], r["guard"], r["max_in_flight"], r["orders"], t["orders_per_s"],
                     r["ideal_orders_per_s"], r["target_orders_per_s"], r["target_ok"],
                     round(100 * r["efficiency_vs_ideal"]), round(r["sage_calls_per_order"], 3), r["probe_lookup_get_ms"],
                     r["writer_mean_ms"]["find_order_ms"], r["writer_mean_ms"]["create_order_ms"],
                     r["writer_mean_ms"]["handler_ms"], r["cpu_percent_during_run"]["erp-writer"],
                     r["cpu_percent_during_run"]["sage300-sim"], r["arrived"] == r["orders"] and not r["duplicates"]])
    for setting in SETTINGS:
        by = {r["max_in_flight"]: r["throughput"]["orders_per_s"] for r in runs
              if r["setting"] == setting and r["guard"] == "off"}
        if by.get(16) and by.get(1):
            speedups[setting] = by[16] / by[1]
    print(table(f"erp-writer throughput, Sage 300 latency {SAGE_LATENCY_MS} ms (steady state: Sage POST "
                f"received_at, first second excluded)",
                ["Sage fault", "PO guard", "in flight", "orders", "orders/s", "ideal/s", "target/s", "target ok",
                 "% of ideal", "Sage calls/order", "GET probe ms", "GET ms", "POST ms", "handler ms", "writer CPU%", "sage CPU%", "all once"], rows, 1))
    print()
    srows = [[SETTINGS[s]["label"], round(v, 1), 16] for s, v in speedups.items()]
    print(table("Speedup, MAX_IN_FLIGHT=16 over MAX_IN_FLIGHT=1", ["Sage fault", "speedup x", "ideal x"], srows))
    checks = [[f"{r['setting_label']}, guard {r['guard']}, {r['max_in_flight']} in flight: every order exactly once",
               f"{r['arrived']}/{r['orders']}, {r['duplicates']} dupes, {r['stray_orders']} stray",
               "all, once", r["arrived"] == r["orders"] and not r["duplicates"] and not r["stray_orders"]]
              for r in runs]
    checks += [[f"{r['setting_label']}, guard on: Sage calls per order", round(r["sage_calls_per_order"], 3),
                "≤ 1.05", r["sage_calls_per_order"] <= 1.05] for r in runs if r["guard"] == "on"]
    checks.append(["processes left behind", sum(len(r["leftover_processes"]) for r in runs), "0",
                   not any(r["leftover_processes"] for r in runs)])
    if load["warning"]:
        checks.append(["other load on the machine at start", load["warning"], "none", False])
    print()
    print(table("Checks", ["check", "value", "target", "ok"], checks))
    path = write_json(NAME, {"description": "erp-writer orders/s with a slow Sage 300, 16 vs 1 in flight",
                             "sage_latency_ms": SAGE_LATENCY_MS, "foreign_load": load, "runs": runs,
                             "speedup": speedups})
    print(f"\nJSON: {path}")
    return 0 if all(c[3] for c in checks[:-1] if "other load" not in c[0]) else 1


if __name__ == "__main__":
    sys.exit(main())
