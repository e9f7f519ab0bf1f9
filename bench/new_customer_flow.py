"""New-customer order flow vs known-customer orders, erp-writer against a slow Sage 300.

One fresh Stack: embedded broker, the topic catalogue, the Sage 300 simulator (50 ms added to every
Web API request: `POST /_sim/faults {"latency_ms": 50}`) and a real erp-writer process on the
shipped pair (duplicate-PO guard on, its default). Canonical `sagebridge.v3.Order` events of
registered shoppers (`customer.erp_customer_id` null, so the writer resolves the customer) are
produced to `commerce.orders.v1` on an absolute schedule (order i due at t0 + i/rate), in two
phases of the same run:
  A. new customer: every order a new e-mail. The link table misses, so the Sage 300 sink looks the
     customer up by e-mail (GET AR/ARCustomers?$filter=Email eq ...), creates it (POST
     AR/ARCustomers, with CheckForDuplicatePOs = Error) and posts the order without an order lookup
     (the guard learnt the option from the create): 3 calls, ~150 ms of Sage time.
  B. known customer: the same e-mails again, new orders. Link hit, guard cached: the order POST
     alone, 1 call, ~50 ms.
A few unmeasured warm-up orders go first (consumer group joined, connections open, the currency
check done). Latency of an order = the time the bench's consumer saw its WriteResult on
erp.results.v1 − the time it was handed to the producer (one clock, one machine). Sage calls per
order = the simulator's request counts (`/_sim/stats`) over the phase, divided by its orders.
Beside them, erp-writer's own means over the phase (its Prometheus histograms): the order handler
and each Sage call as the connector timed it; what the end-to-end figure adds to the handler is
Kafka (produce, fetch, the writer's commit) and queueing on a loaded machine. CPU% per process over each phase (from /proc) shows when the
simulator itself is the bottleneck (this benchmark found its `Email eq` lookup converting every A/R
customer row in Python, so phase A slowed as it created them: now pre-filtered in SQL), and p50 by
third of each phase shows a backlog building up.
Every order must get exactly one WriteResult `created`, and Sage must hold one customer per e-mail.

Then (skip with --no-full-stack) C and D, the same two phases through the whole stack on a second
fresh Stack: X-Cart simulator with the push module on → ingest → transform → erp-writer → Sage 300,
orders placed with the X-Cart admin API at the same rate. Each order of a registered shopper there
also brings a Customer (from the new profile's push and from the order) and a Payment (its sale
transaction → an A/R receipt: lookup + POST), so Sage calls per order count those too. Latency: X-Cart
`created_at_ms` → Sage `received_at_ms` of the order POST (as e2e_latency.py), one clock.

    .venv/bin/python bench/new_customer_flow.py [--rate 20 --duration 30] [--no-full-stack]
"""
from __future__ import annotations

import argparse
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal

from confluent_kafka import Consumer, Producer, TopicPartition

import httpx

from common import (BENCH_DIR, Sims, cpu_seconds, foreign_load, leftover_processes, metric_value, summarize, table, temp_work_dir,
                    wait_until, write_json)
from erp_writer_throughput import start_broker_and_sage
from sagebridge_common.avro_serde import SingleObjectSerde
from sagebridge_common.customers import email_key
from sagebridge_common.events import new_metadata
from sagebridge_common.pairs import load_pairs
from sagebridge_common.schemas import SchemaCatalog
from sagebridge_common.topics import ERP_RESULTS, ORDERS
from sagebridge_devstack.stack import Stack, StackConfig

NAME = "new_customer_flow"
ORDER_SCHEMA = "sagebridge.v3.Order"
SAGE_LATENCY_MS = 50
PAIRS = BENCH_DIR.parent / "pairs"
Q = Decimal("0.0001")
PHASES = {"new": "A. new customer (lookup + create + order)", "known": "B. known customer (link hit: order only)"}
FULL_STACK_PHASES = {"new": "C. full stack, new customer", "known": "D. full stack, known customer"}


def D(text: str) -> Decimal:
    return Decimal(text).quantize(Q)


def order_value(order_id: str, number: str, pair, email: str) -> dict:
    """A canonical v3 order of a registered shopper, as transform emits it for the shipped pair."""
    now = datetime.now(timezone.utc)
    key = email_key(email)
    meta = new_metadata("order.created", source_system="xcart", source_instance="default",
                        source_entity_id=order_id, pair_id=pair.pair, occurred_at=now)
    addr = {"name": "Ben Chmark", "company": None, "line1": "1 Main Street", "line2": None, "city": "New York",
            "region": "New York", "postal_code": "10001", "country": "US", "phone": "+1 212 555 0100",
            "email": email, "region_code": "NY", "erp_country": "US"}
    return {
        "metadata": meta, "order_id": order_id, "order_number": number, "status": "paid",
        "fulfilment_status": "unfulfilled", "ready_for_erp": True, "ordered_at": now, "updated_at": now,
        "currency": "USD",
        "customer": {"storefront_customer_id": order_id, "email": email, "email_key": key, "first_name": "Ben",
                     "last_name": "Chmark", "phone": "+1 212 555 0100", "is_guest": False, "erp_customer_id": None,
                     "new_customer_number": pair.mapping.customer_number(key)},
        "billing_address": addr, "shipping_address": addr,
        "lines": [{"line_id": "1", "sku": "WIDGET-1", "name": "Widget", "quantity": D("2"), "unit_price": D("12.50"),
                   "discount": D("0"), "line_total": D("25.00"), "location_code": "1", "item_number": "WIDGET-1"}],
        "subtotal": D("25.00"), "discount_total": D("0"), "shipping_total": D("5.00"), "tax_total": D("0"),
        "total": D("30.00"), "tax_included": False, "shipping_method": "UPS Ground", "ship_via_code": "UPSGRD",
        "payment_method": "Credit Card", "payment_method_code": "CC", "notes": None, "source_version": "1",
        "charges": [{"kind": "shipping", "code": "FRT", "placement": "line", "amount": D("5.00"),
                     "description": "UPS Ground"}],
        "tax_mode": "store", "rate_type": None, "coupon_codes": [],
    }


class ResultWatcher:
    """Reads erp.results.v1 from the start in a thread; keeps when each order's results arrived."""

    def __init__(self, bootstrap: str, serde: SingleObjectSerde) -> None:
        self.serde = serde
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-results-{uuid.uuid4().hex[:8]}",
                                  "enable.auto.commit": False, "fetch.wait.max.ms": 5, "fetch.min.bytes": 1})
        parts = self.consumer.list_topics(ERP_RESULTS, timeout=10).topics[ERP_RESULTS].partitions
        self.consumer.assign([TopicPartition(ERP_RESULTS, p, 0) for p in parts])
        self.lock = threading.Lock()
        self.results: dict[str, list[tuple[float, str]]] = {}     # order_id -> [(seen at, outcome)]
        self.others: list[dict] = []                                # results that are not orders
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="results", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for m in self.consumer.consume(num_messages=500, timeout=0.05):
                if m.error() is not None:
                    continue
                seen = time.time()
                _schema, v = self.serde.deserialize(m.value())
                with self.lock:
                    if v["entity_type"] == "order":
                        self.results.setdefault(v["source_entity_id"], []).append((seen, v["outcome"]))
                    else:
                        self.others.append(v)

    def count(self, ids: list[str]) -> int:
        with self.lock:
            return sum(1 for i in ids if i in self.results)

    def close(self) -> None:
        self._stop.set()
        self.thread.join(5)
        self.consumer.close()


class Pacer:
    """Produces orders at a steady rate on an absolute schedule; records each one's produce time."""

    def __init__(self, bootstrap: str, serde: SingleObjectSerde, pair) -> None:
        self.serde, self.pair = serde, pair
        self.producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                                  "linger.ms": 0})
        self.failures: list[str] = []

    def send(self, order_id: str, number: str, email: str) -> float:
        value = self.serde.serialize(ORDER_SCHEMA, order_value(order_id, number, self.pair, email))
        at = time.time()
        self.producer.produce(ORDERS, key=order_id.encode(), value=value,
                              on_delivery=lambda err, _m: err and self.failures.append(str(err)))
        self.producer.poll(0)
        return at

    def run(self, orders: list[tuple[str, str, str]], rate: float) -> tuple[dict[str, float], dict]:
        times, schedule = paced(orders, rate, lambda o: self.send(*o))
        if self.producer.flush(30) != 0 or self.failures:
            raise RuntimeError(f"produce failed: {self.failures[:3]}")
        return {o[0]: t for o, t in zip(orders, times)}, schedule


def paced(items: list, rate: float, send) -> tuple[list, dict]:
    """`send(item)` for each item on an absolute schedule (item i due at t0 + i/rate, so a late one
    never shifts the rest); returns what each call returned and how well the schedule was kept."""
    out, lateness = [], []
    t0 = time.monotonic() + 0.05
    for i, item in enumerate(items):
        due = t0 + i / rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        lateness.append((time.monotonic() - due) * 1000)
        out.append(send(item))
    elapsed = time.monotonic() - t0
    return out, {"orders": len(items), "elapsed_s": elapsed, "achieved_rate": len(items) / elapsed,
                 "start_lateness_ms": summarize(lateness)}


OPERATIONS = ("find_customer", "create_customer", "create_order", "find_order", "read_customer")


def writer_sums(stack: Stack) -> dict[str, tuple[float, float]]:
    """(sum seconds, count) of erp-writer's own histograms: its order handler and each Sage call."""
    text = httpx.get(f"{stack.ops_url('erp-writer')}/metrics", timeout=10).text

    def pair(name: str, **labels: str) -> tuple[float, float]:
        return metric_value(text, name + "_sum", **labels), metric_value(text, name + "_count", **labels)

    out = {"handler": pair("sagebridge_processing_duration_seconds", topic=ORDERS)}
    for op in OPERATIONS:
        out[op] = pair("sagebridge_connector_request_duration_seconds", operation=op)
    return out


def mean_ms_between(before: dict, after: dict) -> dict[str, float | None]:
    out = {}
    for k, (s1, n1) in after.items():
        s0, n0 = before.get(k, (0.0, 0.0))
        out[k] = (s1 - s0) / (n1 - n0) * 1000 if n1 > n0 else None
    return out


def request_counts(sims: Sims) -> Counter:
    return Counter({f"{r['method']} {r['resource']} {r['status']}": r["count"] for r in sims.sage_stats()["requests"]})


def run_phase(phase: str, orders: list[tuple[str, str, str]], rate: float, pacer: Pacer, watcher: ResultWatcher,
              sims: Sims, stack: Stack, drain_timeout: float) -> dict:
    before, timing0 = request_counts(sims), writer_sums(stack)
    pids = {"erp-writer": stack.services["erp-writer"].proc.pid, "sage300-sim": stack.simulators["sage300"].proc.pid}
    cpu0, wall0 = {k: cpu_seconds(v) for k, v in pids.items()}, time.monotonic()
    sent, schedule = pacer.run(orders, rate)
    ids = [o[0] for o in orders]
    try:
        wait_until(lambda: watcher.count(ids) >= len(ids), timeout=drain_timeout, interval=0.2,
                   message=f"{phase}: a WriteResult for every order")
        drained = True
    except TimeoutError:
        drained = False
    wall = time.monotonic() - wall0
    cpu = {k: round(100 * (cpu_seconds(v) - cpu0[k]) / wall) for k, v in pids.items()}
    calls = request_counts(sims) - before
    timing = mean_ms_between(timing0, writer_sums(stack))
    with watcher.lock:
        got = {i: list(watcher.results.get(i, [])) for i in ids}
    latencies = [(got[i][0][0] - sent[i]) * 1000 for i in ids if got[i]]
    outcomes = Counter(r[1] for i in ids for r in got[i][:1])
    total_calls = sum(calls.values())
    return {"phase": phase, "label": PHASES[phase], "orders": len(ids), "schedule": schedule, "drained": drained,
            "latency_ms": summarize(latencies), "outcomes": dict(outcomes),
            "p50_ms_by_third": [summarize(latencies[k * len(latencies) // 3:(k + 1) * len(latencies) // 3])["p50"]
                                for k in range(3)],
            "missing": sum(1 for i in ids if not got[i]), "multiple_results": sum(1 for i in ids if len(got[i]) > 1),
            "sage_calls": total_calls, "sage_calls_per_order": total_calls / len(ids),
            "sage_requests": dict(sorted(calls.items())), "writer_mean_ms": timing,
            "cpu_percent": cpu, "wall_s": wall}


def settled_counts(sims: Sims, quiet_s: float = 2.0, timeout: float = 60.0) -> Counter:
    """Sage request counts once they stopped changing for `quiet_s` (payments and customers follow
    their orders through the stack)."""
    last, since, deadline = request_counts(sims), time.monotonic(), time.monotonic() + timeout
    while time.monotonic() < deadline and time.monotonic() - since < quiet_s:
        time.sleep(0.5)
        now = request_counts(sims)
        if now != last:
            last, since = now, time.monotonic()
    return last


def stack_pids(stack: Stack) -> dict[str, int]:
    return {name: p.proc.pid for name, p in {**stack.services, **stack.simulators}.items()}


def full_stack_phase(phase: str, emails: list[str], rate: float, sims: Sims, stack: Stack,
                     drain_timeout: float) -> dict:
    before = request_counts(sims)
    pids = stack_pids(stack)
    cpu0, wall0 = {k: cpu_seconds(v) for k, v in pids.items()}, time.monotonic()
    made, schedule = paced(emails, rate, lambda e: sims.order(email=e))
    numbers = {"XC1-" + m["order_number"]: m["created_at_ms"] for m in made}

    def arrived() -> dict:
        return {o["OrderReference"]: o["received_at_ms"] for o in sims.sage_orders() if o["OrderReference"] in numbers}
    try:
        wait_until(lambda: len(arrived()) >= len(numbers), timeout=drain_timeout, interval=1.0,
                   message=f"full stack {phase}: every order in Sage 300")
    except TimeoutError:
        pass
    calls = settled_counts(sims, timeout=drain_timeout) - before
    wall = time.monotonic() - wall0
    cpu = {k: round(100 * (cpu_seconds(v) - cpu0[k]) / wall) for k, v in pids.items()}
    got = arrived()
    total = sum(calls.values())
    return {"phase": phase, "label": FULL_STACK_PHASES[phase],
            "orders": len(numbers), "schedule": schedule,
            "latency_ms": summarize([got[r] - numbers[r] for r in numbers if r in got]),
            "missing": sum(1 for r in numbers if r not in got), "sage_calls": total,
            "sage_calls_per_order": total / len(numbers), "sage_requests": dict(sorted(calls.items())),
            "cpu_percent": cpu, "wall_s": wall}


def run_full_stack(args, n: int) -> dict:
    """X-Cart simulator (push on) → ingest → transform → erp-writer → Sage 300: registered shoppers'
    orders with a sale transaction, so each also brings a Customer (from its profile and from the
    order) and a Payment (an A/R receipt). Latency: X-Cart created_at_ms → Sage POST received_at_ms."""
    tag = uuid.uuid4().hex[:6]
    emails = [f"full.{tag}.{i:05d}@example.com" for i in range(n)]
    with temp_work_dir("newcust-full") as work:
        stack = Stack(StackConfig(work_dir=work, partitions=4, webhook_push=True, poll_enabled=False))
        sims = None
        try:
            stack.start()
            sims = Sims(stack)
            sims.sage_faults(latency_ms=SAGE_LATENCY_MS)
            warm = [sims.order(email=f"fullwarm.{tag}.{i}@example.com") for i in range(args.warmup)]
            wait_until(lambda: int(sims.sage_stats()["orders"]) >= len(warm), timeout=90, interval=0.5,
                       message="full stack warm-up orders")
            settled_counts(sims, timeout=args.drain_timeout)
            phases = [full_stack_phase(ph, emails, args.rate, sims, stack, args.drain_timeout) for ph in ("new", "known")]
            customers = sims.http.get(f"{stack.sage_url}/_sim/customers", timeout=60).json()
        finally:
            if sims:
                sims.close()
            stack.stop()
        left = leftover_processes(str(work))
    by_email = Counter((c.get("Email") or "").strip() for c in customers)
    return {"phases": phases, "customers_per_email": dict(Counter(by_email[e] for e in emails)),
            "leftover_processes": left}


def run(args) -> dict:
    pair = load_pairs(str(PAIRS), None)["xcart-sage300"]
    serde = SingleObjectSerde(SchemaCatalog.load(), validate=True)
    tag = uuid.uuid4().hex[:6]
    n = int(round(args.rate * args.duration))
    emails = [f"shopper.{tag}.{i:05d}@example.com" for i in range(n)]
    with temp_work_dir("newcust") as work:
        cfg = StackConfig(work_dir=work, partitions=4, poll_enabled=False,
                          service_env={"erp-writer": {"PAIRS_PATH": str(PAIRS)}})
        stack = Stack(cfg)
        sims = watcher = pacer = None
        try:
            start_broker_and_sage(stack)
            sims = Sims(stack)
            sims.sage_faults(reset=True, latency_ms=SAGE_LATENCY_MS)
            watcher = ResultWatcher(stack.bootstrap, serde)
            stack.start_service("erp-writer")
            pacer = Pacer(stack.bootstrap, serde, pair)

            warm = [(f"W{tag}{i:03d}", f"W{tag}{i:03d}", f"warm.{tag}.{i}@example.com") for i in range(args.warmup)]
            pacer.run(warm, args.rate)
            wait_until(lambda: watcher.count([w[0] for w in warm]) >= len(warm), timeout=90, interval=0.2,
                       message="warm-up results")
            print(f"erp-writer up, {len(warm)} warm-up orders done; {n} orders per phase at {args.rate:g}/s",
                  file=sys.stderr)
            phases = []
            for phase, prefix in (("new", "A"), ("known", "B")):
                orders = [(f"{prefix}{tag}{i:05d}", f"{prefix}{tag}{i:05d}", emails[i]) for i in range(n)]
                phases.append(run_phase(phase, orders, args.rate, pacer, watcher, sims, stack, args.drain_timeout))
                thirds = " / ".join(f"{v or 0:.0f}" for v in phases[-1]["p50_ms_by_third"])
                print(f"{PHASES[phase]}: p50 {phases[-1]['latency_ms']['p50'] or 0:.0f} ms (by third of the phase: "
                      f"{thirds}), {phases[-1]['sage_calls_per_order']:.2f} Sage calls/order", file=sys.stderr)
            time.sleep(1.5)                       # a duplicate result or order would land now
            customers = sims.http.get(f"{stack.sage_url}/_sim/customers", timeout=60).json()
            sage_orders = sims.sage_orders()
            others = list(watcher.others)
        finally:
            pacer = None                          # its producer goes before the broker does
            if watcher:
                watcher.close()
            if sims:
                sims.close()
            stack.stop()
        left = leftover_processes(str(work))
    wanted = set(emails)
    by_email = Counter((c.get("Email") or "").strip() for c in customers)
    refs = Counter(o["OrderReference"] for o in sage_orders)
    return {"phases": phases, "emails": n, "customers_created": sum(by_email[e] for e in wanted),
            "customers_total": len(customers),
            "customers_per_email_max": max((by_email[e] for e in wanted), default=0),
            "emails_without_customer": sum(1 for e in wanted if not by_email[e]),
            "duplicate_order_references": sum(1 for c in refs.values() if c > 1),
            "non_order_results": len(others), "leftover_processes": left}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=float, default=20.0, help="orders per second")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds per phase")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--drain-timeout", type=float, default=120.0)
    ap.add_argument("--full-stack", action=argparse.BooleanOptionalAction, default=True,
                    help="also the third row: X-Cart simulator → ingest → transform → erp-writer")
    args = ap.parse_args()
    load = foreign_load()
    res = run(args)
    full = run_full_stack(args, int(round(args.rate * args.duration))) if args.full_stack else None

    rows = []
    for p in res["phases"]:
        s = p["latency_ms"]
        rows.append([p["label"], p["orders"], s["p50"], s["p90"], s["p99"], s["max"], round(p["sage_calls_per_order"], 2),
                     p["writer_mean_ms"]["handler"],
                     ", ".join(f"{op} {p['writer_mean_ms'][op]:.0f}" for op in OPERATIONS if p["writer_mean_ms"][op]),
                     ", ".join(f"{k} ×{v}" for k, v in p["sage_requests"].items()),
                     p["cpu_percent"]["erp-writer"], p["cpu_percent"]["sage300-sim"],
                     round(p["schedule"]["achieved_rate"], 1)])
    for p in (full or {}).get("phases", []):
        s = p["latency_ms"]
        rows.append([p["label"], p["orders"], s["p50"], s["p90"], s["p99"], s["max"], round(p["sage_calls_per_order"], 2),
                     None, "CPU% " + ", ".join(f"{k} {v}" for k, v in p["cpu_percent"].items()),
                     ", ".join(f"{k} ×{v}" for k, v in p["sage_requests"].items()), p["cpu_percent"].get("erp-writer"),
                     p["cpu_percent"].get("sage300"),
                     round(p["schedule"]["achieved_rate"], 1)])
    print(table(f"New vs known customer, order produced → WriteResult seen (ms); {args.rate:g} orders/s for "
                f"{args.duration:g}s per phase, Sage latency {SAGE_LATENCY_MS} ms per request",
                ["phase", "orders", "p50", "p90", "p99", "max", "Sage calls/order", "handler ms",
                 "writer's mean Sage call ms", "Sage requests", "writer CPU%", "sage CPU%", "rate/s"], rows, 0))
    print()
    phases = {p["phase"]: p for p in res["phases"]}
    checks = [[f"{p['label']}: one result per order, created",
               f"{p['outcomes']}, {p['missing']} missing, {p['multiple_results']} repeated", "all created, once",
               p["outcomes"] == {"created": p["orders"]} and not p["missing"] and not p["multiple_results"]]
              for p in res["phases"]]
    checks += [["one Sage customer per new e-mail", f"{res['customers_created']} created for {res['emails']}, max "
                f"{res['customers_per_email_max']} per e-mail, {res['emails_without_customer']} without",
                "== e-mails, 1 each", res["customers_created"] == res["emails"] and res["customers_per_email_max"] == 1
                and not res["emails_without_customer"]],
               ["Sage orders with a repeated reference", res["duplicate_order_references"], "0",
                not res["duplicate_order_references"]],
               ["known customer: Sage calls per order", round(phases["known"]["sage_calls_per_order"], 3), "<= 1.05",
                phases["known"]["sage_calls_per_order"] <= 1.05],
               ["processes left behind", len(res["leftover_processes"]), "0", not res["leftover_processes"]]]
    if full:
        checks += [[f"{p['label']}: every order in Sage", f"{p['orders'] - p['missing']}/{p['orders']}", "all",
                    not p["missing"]] for p in full["phases"]]
        checks += [["full stack: Sage customers per e-mail", str(full["customers_per_email"]), "{1: all}",
                    set(full["customers_per_email"]) == {1}],
                   ["full stack: processes left behind", len(full["leftover_processes"]), "0",
                    not full["leftover_processes"]]]
    if load["warning"]:
        checks.append(["other load on the machine at start", load["warning"], "none", False])
    print(table("Checks", ["check", "value", "target", "ok"], checks))
    path = write_json(NAME, {"description": "erp-writer: new-customer orders (lookup + create + order) vs known "
                                            "customers, produce → WriteResult", "rate_per_s": args.rate,
                             "duration_s": args.duration, "sage_latency_ms": SAGE_LATENCY_MS, "foreign_load": load,
                             **res, "full_stack": full})
    print(f"\nJSON: {path}")
    return 0 if all(c[3] for c in checks if "other load" not in c[0]) else 1


if __name__ == "__main__":
    sys.exit(main())
