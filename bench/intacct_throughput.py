"""erp-writer throughput against a slow Sage Intacct with the tier's concurrency limit of 2.

One rig (`intacct_rig.py`): embedded broker + topics, the Intacct simulator (demo company) with
`POST /_sim/faults {"latency_ms": 300, "concurrency_limit": 2}` (300 ms on every gateway request,
a third request in flight is refused with HTTP 429 GW-0010), the shipped `pairs/xcart-intacct.yaml`
(`erp.max_concurrency` 2, its default) and a real erp-writer process. The Intacct sink holds one
process-wide cap per company (limiter.py), so erp-writer's 16 workers share 2 gateway slots:
the bound is 2 / 0.3 s = 6.67 API transactions/s, i.e. 6.67 orders/s for orders that cost one
transaction.

Canonical `sagebridge.v3.Order` events of registered shoppers (`customer.erp_customer_id` null:
the writer resolves the customer) are produced to `commerce.orders.v1` in one burst per phase:
  new   every order a new e-mail: the link table misses, so the sink reads CUSTOMER by e-mail
        (readByQuery), creates it (create CUSTOMER) and sends the order (create_sotransaction):
        target <= 3 transactions per order, bound 6.67 / 3 = 2.22 orders/s;
  known the same e-mails again, new orders: link hit, create_sotransaction alone: target 1
        transaction per order, bound 6.67 orders/s.
A few warm-up orders go first (consumer group joined, session opened: getAPISession once per
process, not counted in the phases). Orders/s = the phase's orders / (the last result seen on
`erp.results.v1` - the start of the burst): with 16 workers sharing 2 slots, a new-customer burst
does its customer reads first and its orders last, so first-to-last result would overstate it (it
is recorded too). Transactions per order = the delta of the simulator's
`/_sim/transactions` over the phase (every function executed counts, failures included) / orders.
Every order must get exactly one SODOCUMENT (`Sales Order`, counted by REFERENCENO in
`/_sim/state`) and one `created` result. GW-0010 answers seen = the simulator's
`rejected_concurrency` (should stay 0: the writer's cap equals the limit).

    .venv/bin/python bench/intacct_throughput.py [--known 150 --new 60] [--quick]
"""
from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections import Counter
from decimal import Decimal

from confluent_kafka import Producer

from common import (cpu_seconds, foreign_load, leftover_processes, metric_value, summarize, table, temp_work_dir,
                    wait_until, write_json)
from intacct_rig import IntacctRig
from new_customer_flow import ResultWatcher, order_value as sage_order_value
from sagebridge_common.avro_serde import SingleObjectSerde
from sagebridge_common.pairs import load_pairs
from sagebridge_common.schemas import SchemaCatalog
from sagebridge_common.topics import ORDERS

NAME = "intacct_throughput"
ORDER_SCHEMA = "sagebridge.v3.Order"
LATENCY_MS = 300
CONCURRENCY = 2
BOUND_TX_PER_S = CONCURRENCY / (LATENCY_MS / 1000)
TARGET_TX = {"known": 1.0, "new": 3.0}
PHASES = {"new": "new customer (CUSTOMER read + create + order)", "known": "known customer (link hit: order only)"}
SKU = "WIDGET-1"              # a demo Inventory item in WH1


def order_value(order_id: str, number: str, pair, email: str) -> dict:
    """The Sage 300 bench's canonical order, as transform emits it for the Intacct pair: warehouse
    WH1 (mapping.locations), ship via "UPS Ground", freight as an FRT line."""
    v = sage_order_value(order_id, number, pair, email)
    v["lines"] = [{**line, "sku": SKU, "item_number": SKU, "location_code": "WH1"} for line in v["lines"]]
    v["ship_via_code"] = "UPS Ground"
    return v


def produce(bootstrap: str, serde: SingleObjectSerde, pair, orders: list[tuple[str, str, str]]) -> float:
    """Produces the orders in one burst (acks=all); returns the time the last was acknowledged."""
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True, "linger.ms": 5})
    failures: list[str] = []
    for order_id, number, email in orders:
        p.produce(ORDERS, key=order_id.encode(), value=serde.serialize(ORDER_SCHEMA, order_value(
            order_id, number, pair, email)), on_delivery=lambda err, _m: err and failures.append(str(err)))
        p.poll(0)
    if p.flush(60) != 0 or failures:
        raise RuntimeError(f"produce failed: {failures[:3]}")
    return time.time()


def sodocuments(rig: IntacctRig) -> Counter:
    """REFERENCENO -> how many Sales Order SODOCUMENTs the company holds."""
    state = rig.state()
    docs = state["objects"].get("SODOCUMENT") or state.get("documents") or []
    if isinstance(docs, dict):
        docs = list(docs.values())
    return Counter(d.get("REFERENCENO") for d in docs if d.get("DOCPARID", "Sales Order") == "Sales Order")


def delta(after: dict, before: dict) -> dict:
    fns = set(after["by_function"]) | set(before["by_function"])
    return {"total": after["total"] - before["total"],
            "by_function": {f: after["by_function"].get(f, 0) - before["by_function"].get(f, 0) for f in sorted(fns)
                            if after["by_function"].get(f, 0) - before["by_function"].get(f, 0)}}


def run_phase(phase: str, orders: list[tuple[str, str, str]], rig: IntacctRig, serde, pair,
              watcher: ResultWatcher, timeout: float) -> dict:
    ids = [o[0] for o in orders]
    tx0, gw0 = rig.transactions(), rig.get_faults()["rejected_concurrency"]
    pids = rig.pids()
    cpu0 = {n: cpu_seconds(p) for n, p in pids.items()}
    t0, wall0 = time.monotonic(), time.time()
    produced_at = produce(rig.bootstrap, serde, pair, orders)
    try:
        wait_until(lambda: watcher.count(ids) >= len(ids), timeout=timeout, interval=0.2,
                   message=f"{phase}: {len(ids)} results")
    except TimeoutError:
        pass
    elapsed = time.monotonic() - t0
    time.sleep(1.0)                                   # a repeated result would land now
    tx = delta(rig.transactions(), tx0)
    gw = rig.get_faults()["rejected_concurrency"] - gw0
    cpu = {n: round(100 * (cpu_seconds(p) - cpu0[n]) / elapsed, 1) for n, p in pids.items()}
    with watcher.lock:
        got = {i: list(watcher.results.get(i, [])) for i in ids}
    seen = sorted(r[0][0] for r in got.values() if r)
    span = seen[-1] - wall0 if seen else 0.0
    rate = len(seen) / span if span > 0 else None
    first_to_last = (len(seen) - 1) / (seen[-1] - seen[0]) if len(seen) >= 2 and seen[-1] > seen[0] else None
    n = len(orders)
    bound = BOUND_TX_PER_S / TARGET_TX[phase]
    per_order = tx["total"] / n
    return {"phase": phase, "label": PHASES[phase], "orders": n, "orders_per_s": rate,
            "first_to_last_result_orders_per_s": first_to_last, "produce_s": produced_at - wall0,
            "bound_orders_per_s": bound, "percent_of_bound": 100 * rate / bound if rate else None,
            "produced_to_last_result_s": (seen[-1] - produced_at) if seen else None, "phase_s": elapsed,
            "transactions": tx, "transactions_per_order": per_order, "target_transactions_per_order": TARGET_TX[phase],
            "transactions_ok": per_order <= TARGET_TX[phase] + 1e-9, "gw0010": gw,
            "outcomes": dict(Counter(r[0][1] for r in got.values() if r)),
            "missing": sum(1 for r in got.values() if not r), "repeated_results": sum(1 for r in got.values() if len(r) > 1),
            "result_gap_ms": summarize([(b - a) * 1000 for a, b in zip(seen, seen[1:])]), "cpu_percent": cpu}


def writer_means(rig: IntacctRig) -> dict:
    text = rig.metrics("erp-writer")

    def mean(name: str, **labels) -> float | None:
        n = metric_value(text, name + "_count", **labels)
        return metric_value(text, name + "_sum", **labels) / n * 1000 if n else None

    return {"handler_ms": mean("sagebridge_processing_duration_seconds", topic=ORDERS),
            "api_transactions_metric": metric_value(text, "sagebridge_intacct_api_transactions_total"),
            "relogins": metric_value(text, "sagebridge_intacct_relogins_total")}


def run(args) -> dict:
    serde = SingleObjectSerde(SchemaCatalog.load(), validate=True)
    tag = uuid.uuid4().hex[:6].upper()
    emails = [f"shopper.{tag.lower()}.{i:05d}@example.com" for i in range(max(args.new, args.known))]
    with temp_work_dir("intacct-tput") as work:
        rig = IntacctRig(work)
        watcher = None
        try:
            rig.start_broker()
            rig.start_sim()
            pairs = rig.write_pair()
            pair = load_pairs(str(pairs), rig.pair_id)[rig.pair_id]
            rig.faults(reset=True, latency_ms=LATENCY_MS, concurrency_limit=CONCURRENCY)
            watcher = ResultWatcher(rig.bootstrap, serde)
            tx_start = rig.transactions()
            rig.start_services(["erp-writer"])
            warm = [(f"W{tag}{i:03d}", f"W{tag}{i:03d}", f"warm.{tag.lower()}.{i}@example.com") for i in range(args.warmup)]
            produce(rig.bootstrap, serde, pair, warm)
            wait_until(lambda: watcher.count([w[0] for w in warm]) >= len(warm), timeout=120, interval=0.2,
                       message="warm-up results")
            warm_tx = delta(rig.transactions(), tx_start)
            print(f"erp-writer up, {len(warm)} warm-up orders done ({warm_tx['by_function']})", file=sys.stderr)
            phases = []
            for phase, prefix, n in (("new", "N", args.new), ("known", "K", args.known)):
                orders = [(f"{prefix}{tag}{i:05d}", f"{prefix}{tag}{i:05d}", emails[i % args.new]) for i in range(n)]
                timeout = 60 + 4 * n * TARGET_TX[phase] / BOUND_TX_PER_S
                phases.append(run_phase(phase, orders, rig, serde, pair, watcher, timeout))
                p = phases[-1]
                print(f"{p['label']}: {p['orders_per_s'] or 0:.2f} orders/s (bound {p['bound_orders_per_s']:.2f}), "
                      f"{p['transactions_per_order']:.2f} transactions/order, GW-0010 {p['gw0010']}", file=sys.stderr)
            docs = sodocuments(rig)
            means = writer_means(rig)
            faults = rig.get_faults()
            customers = len(rig.state()["objects"].get("CUSTOMER", []))
        finally:
            if watcher:
                watcher.close()
            rig.stop()
        left = leftover_processes(str(work))
    for p in phases:
        prefix = "N" if p["phase"] == "new" else "K"
        refs = [pair.reference(f"{prefix}{tag}{i:05d}") for i in range(p["orders"])]
        p["sodocuments"] = sum(1 for r in refs if docs[r] >= 1)
        p["sodocument_duplicates"] = sum(1 for r in refs if docs[r] > 1)
        p["exactly_once"] = (p["sodocuments"] == p["orders"] and not p["sodocument_duplicates"] and not p["missing"]
                             and not p["repeated_results"] and p["outcomes"] == {"created": p["orders"]})
    return {"tag": tag, "warmup_orders": args.warmup, "warmup_transactions": warm_tx, "phases": phases,
            "writer": means, "sim_faults_at_end": faults, "customers": customers, "new_emails": args.new,
            "leftover_processes": left}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--new", type=int, default=60, help="orders of new customers (each a new e-mail)")
    ap.add_argument("--known", type=int, default=150, help="orders of known customers (the same e-mails again)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="smoke run: 10 new, 20 known")
    args = ap.parse_args()
    if args.quick:
        args.new, args.known = 10, 20
    load = foreign_load()
    r = run(args)
    rows = [[p["label"], p["orders"], p["orders_per_s"], p["bound_orders_per_s"],
             round(p["percent_of_bound"]) if p["percent_of_bound"] else None,
             round(p["transactions_per_order"], 3), f"<= {p['target_transactions_per_order']:g}",
             ", ".join(f"{k} {v}" for k, v in p["transactions"]["by_function"].items()), p["gw0010"],
             f"{p['sodocuments']}/{p['orders']}", p["exactly_once"]] for p in r["phases"]]
    print(table(f"erp-writer -> Sage Intacct, gateway latency {LATENCY_MS} ms, concurrency limit {CONCURRENCY} "
                f"(bound {BOUND_TX_PER_S:.2f} transactions/s)",
                ["phase", "orders", "orders/s", "bound/s", "% of bound", "tx/order", "target", "transactions",
                 "GW-0010", "SODOCUMENTs", "exactly once"], rows, 2))
    print()
    checks = [[f"{p['phase']}: every order exactly once (SODOCUMENT by referenceno, one created result)",
               f"{p['sodocuments']}/{p['orders']}, {p['sodocument_duplicates']} dupes, {p['outcomes']}", "all, once",
               p["exactly_once"]] for p in r["phases"]]
    checks += [[f"{p['phase']}: API transactions per order", round(p["transactions_per_order"], 3),
                f"<= {p['target_transactions_per_order']:g}", p["transactions_ok"]] for p in r["phases"]]
    checks.append(["GW-0010 answers (simulator rejected_concurrency, whole run)",
                   r["sim_faults_at_end"]["rejected_concurrency"], "0", r["sim_faults_at_end"]["rejected_concurrency"] == 0])
    checks.append(["processes left behind", len(r["leftover_processes"]), "0", not r["leftover_processes"]])
    if load["warning"]:
        checks.append(["other load on the machine at start", load["warning"], "none", False])
    print(table("Checks", ["check", "value", "target", "ok"], checks))
    print(f"\nwarm-up: {r['warmup_transactions']['by_function']}; writer handler mean "
          f"{r['writer']['handler_ms'] or 0:.0f} ms, relogins {r['writer']['relogins']:.0f}; "
          f"CPU% known phase: {r['phases'][-1]['cpu_percent']}")
    path = write_json(NAME, {"description": "erp-writer orders/s against Sage Intacct, 300 ms latency, 2 concurrent",
                             "latency_ms": LATENCY_MS, "concurrency_limit": CONCURRENCY,
                             "bound_transactions_per_s": BOUND_TX_PER_S, "foreign_load": load, **r})
    print(f"\nJSON: {path}")
    ok = all(p["exactly_once"] for p in r["phases"]) and not r["leftover_processes"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
