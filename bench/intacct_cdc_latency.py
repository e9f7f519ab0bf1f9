"""Change capture latency for Sage Intacct item changes: an ERP-side ITEM price or stock change ->
the matching `erp.products.v1` / `erp.inventory.v1` event, through erp_cdc (polling the XML
gateway with readByQuery on WHENMODIFIED) and transform, at the default poll interval.

One rig (`intacct_rig.py`): embedded broker + topics, the Intacct simulator (demo company, no
latency fault; its default concurrency limit of 2 stays), the shipped `pairs/xcart-intacct.yaml`
(`change_capture` at its defaults: poll_interval_s 10, overlap_s 60, batch 500, all four streams:
ITEM, ITEMWAREHOUSEINFO, the Sales Order and Shipper SODOCUMENTs) and real erp_cdc and transform
processes. Before they start, `--items` bench items BENCH-0001.. are created (`POST /_sim/items`,
Inventory, price 10.00) with stock 100 in WH1 (`POST /_sim/stock`); the first scan (every seeded
row) is waited out before measuring.

Then `--changes` ERP-side changes are made over `--seconds` s on an absolute schedule, as an ERP
user would (the simulator's admin driver bumps WHENMODIFIED to its clock, seconds resolution):
change k is a price (`/_sim/items` BASEPRICE 100 + k/100) when k is even, a stock level
(`/_sim/stock` QTYONHAND 1000 + k, WH1 mapped to the store's `default` location) when odd,
round-robin over the items, so a price or quantity names its change and, with items >= changes/2,
no change is overwritten before a poll could read it. Latency = the Kafka timestamp of the event
carrying that price / quantity (transform's producer CreateTime) - the time the simulator answered
the change (one clock). Expected: about half a poll interval on average, p99 about one interval
plus a cycle (erp_cdc waits the interval *after* each cycle).

Transactions per poll = the simulator's `/_sim/transactions` delta over the measured phase
(readByQuery, readMore; getAPISession) / polls, polls = readByQuery calls / streams (each stream
reads once per poll; readMore only when a read holds more than a page).

    .venv/bin/python bench/intacct_cdc_latency.py [--changes 120 --seconds 60 --items 60] [--quick]
"""
from __future__ import annotations

import argparse
import sys
import threading
import time
import uuid
from decimal import Decimal

from confluent_kafka import Consumer, TopicPartition

from common import (cpu_seconds, foreign_load, leftover_processes, metric_value, summarize, table, temp_work_dir,
                    wait_until, write_json)
from intacct_rig import IntacctRig
from sagebridge_common.avro_serde import SingleObjectSerde
from sagebridge_common.schemas import SchemaCatalog
from sagebridge_common.topics import INVENTORY, PRODUCTS

NAME = "intacct_cdc_latency"
POLL_INTERVAL_S = 10.0          # change_capture.poll_interval_s default, left in place
STREAMS = 4                     # item, item_warehouse, sales_order, shipment (the default streams)
WAREHOUSE, LOCATION = "WH1", "default"
TARGET_P99_S = POLL_INTERVAL_S + 2.0
CENT = Decimal("0.01")


def item_id(i: int) -> str:
    return f"BENCH-{i:04d}"


def change_value(k: int) -> tuple[str, str]:
    """(kind, value text) of change k: even -> price, odd -> quantity."""
    if k % 2 == 0:
        return "price", str((Decimal(100) + Decimal(k) * CENT).quantize(CENT))
    return "stock", str(1000 + k)


class Watcher:
    """Reads erp.products.v1 and erp.inventory.v1 from the start in a thread:
    (kind, sku, value text) -> first Kafka timestamp (s)."""

    def __init__(self, bootstrap: str, serde: SingleObjectSerde) -> None:
        self.serde = serde
        self.c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-icdc-{uuid.uuid4().hex[:8]}",
                           "enable.auto.commit": False, "fetch.wait.max.ms": 5, "fetch.min.bytes": 1})
        parts = []
        for topic in (PRODUCTS, INVENTORY):
            md = self.c.list_topics(topic, timeout=10).topics[topic]
            parts += [TopicPartition(topic, p, 0) for p in md.partitions]
        self.c.assign(parts)
        self.lock = threading.Lock()
        self.first: dict[tuple[str, str, str], float] = {}
        self.events = {"price": 0, "stock": 0}
        self.duplicates = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="icdc", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for m in self.c.consume(num_messages=500, timeout=0.05):
                if m.error() is not None:
                    continue
                seen = time.time()
                _ts_type, ts_ms = m.timestamp()
                _s, v = self.serde.deserialize(m.value())
                if m.topic() == PRODUCTS:
                    key = ("price", v["sku"], str(Decimal(v["price"]).quantize(CENT)) if v["price"] is not None else "")
                else:
                    if v["location"] != LOCATION:
                        continue
                    key = ("stock", v["sku"], str(int(v["quantity"])))
                with self.lock:
                    self.events[key[0]] += 1
                    if key in self.first:
                        self.duplicates += 1
                    else:
                        self.first[key] = ts_ms / 1000.0 if ts_ms > 0 else seen

    def has_all(self, keys) -> bool:
        with self.lock:
            return all(k in self.first for k in keys)

    def close(self) -> None:
        self._stop.set()
        self.thread.join(5)
        self.c.close()


def seed_items(rig: IntacctRig, items: int) -> list[tuple[str, str, str]]:
    keys = []
    for i in range(1, items + 1):
        rig.post("/_sim/items", {"ITEMID": item_id(i), "NAME": f"Bench item {i}", "ITEMTYPE": "Inventory",
                                 "BASEPRICE": "10.00"})
        rig.post("/_sim/stock", {"ITEMID": item_id(i), "WAREHOUSEID": WAREHOUSE, "QTYONHAND": "100",
                                 "QTYONHOLD": "0"})
        keys += [("price", item_id(i), "10.00"), ("stock", item_id(i), "100")]
    return keys


def make_changes(rig: IntacctRig, n: int, items: int, seconds: float) -> tuple[list[tuple], dict]:
    """Change k due at t0 + k * step; returns (kind, sku, value, answered at) per change."""
    step = seconds / max(1, n)
    t0 = time.monotonic() + 0.05
    out, late = [], []
    for k in range(n):
        due = t0 + k * step
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        late.append(time.monotonic() - due)
        kind, value = change_value(k)
        sku = item_id((k // 2) % items + 1)
        if kind == "price":
            rig.post("/_sim/items", {"ITEMID": sku, "BASEPRICE": value})
        else:
            rig.post("/_sim/stock", {"ITEMID": sku, "WAREHOUSEID": WAREHOUSE, "QTYONHAND": value})
        out.append((kind, sku, value, time.time()))
    late.sort()
    return out, {"changes": n, "elapsed_s": time.monotonic() - t0, "lateness_max_ms": late[-1] * 1000 if late else None}


def tx_delta(after: dict, before: dict) -> dict:
    fns = set(after["by_function"]) | set(before["by_function"])
    return {f: after["by_function"].get(f, 0) - before["by_function"].get(f, 0) for f in sorted(fns)
            if after["by_function"].get(f, 0) != before["by_function"].get(f, 0)}


def run(args, serde: SingleObjectSerde) -> dict:
    with temp_work_dir("intacct-cdc") as work:
        rig = IntacctRig(work)
        watcher = None
        try:
            t_start = time.monotonic()
            rig.start_broker()
            rig.start_sim()
            rig.write_pair()
            seeded = seed_items(rig, args.items)
            watcher = Watcher(rig.bootstrap, serde)
            rig.start_services(["erp-cdc", "transform"])
            wait_until(lambda: watcher.has_all(seeded), timeout=120, interval=0.5, message="the first scan's items")
            startup_s = time.monotonic() - t_start
            print(f"up and first scan seen in {startup_s:.1f}s; {args.changes} changes over {args.seconds:g}s",
                  file=sys.stderr)
            pids = rig.pids()
            cpu0 = {n: cpu_seconds(p) for n, p in pids.items()}
            tx0, t_first = rig.transactions(), time.time()
            changes, schedule = make_changes(rig, args.changes, args.items, args.seconds)
            wanted = [(c[0], c[1], c[2]) for c in changes]
            try:
                wait_until(lambda: watcher.has_all(wanted), timeout=args.timeout, interval=0.2,
                           message="every change's event")
                arrived = True
            except TimeoutError:
                arrived = False
            t_done = time.time()
            tx = tx_delta(rig.transactions(), tx0)
            cpu = {n: round(cpu_seconds(p) - cpu0[n], 1) for n, p in pids.items()}
            capture_metric = rig.metric("erp-cdc", "sagebridge_intacct_api_transactions_total", purpose="capture")
            time.sleep(1.0)
            with watcher.lock:
                lat = {"price": [], "stock": []}
                missing = []
                for kind, sku, value, at in changes:
                    got = watcher.first.get((kind, sku, value))
                    if got is None:
                        missing.append((kind, sku, value))
                    else:
                        lat[kind].append(got - at)
                dupes, events = watcher.duplicates, dict(watcher.events)
        finally:
            if watcher:
                watcher.close()
            rig.stop()
        left = leftover_processes(str(work))
    span = t_done - t_first
    polls = tx.get("readByQuery", 0) / STREAMS
    total_tx = sum(tx.values())
    return {"items": args.items, "changes": args.changes, "seconds": args.seconds, "poll_interval_s": POLL_INTERVAL_S,
            "startup_s": startup_s, "schedule": schedule, "arrived": arrived,
            "latency_s": {"all": summarize(lat["price"] + lat["stock"]), "price": summarize(lat["price"]),
                          "stock": summarize(lat["stock"])},
            "missing": len(missing), "missing_sample": missing[:10], "duplicate_events": dupes, "events": events,
            "transactions": tx, "transactions_total": total_tx, "polls": polls, "span_s": span,
            "polls_per_minute": 60 * polls / span if span else None,
            "transactions_per_poll": total_tx / polls if polls else None,
            "transactions_per_hour": 3600 * total_tx / span if span else None,
            "capture_metric_whole_run": capture_metric, "cpu_s": cpu, "leftover_processes": left}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--changes", type=int, default=120)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--items", type=int, default=60)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the last events")
    ap.add_argument("--quick", action="store_true", help="smoke run: 20 changes over 10 s, 10 items")
    args = ap.parse_args()
    if args.quick:
        args.changes, args.seconds, args.items = 20, 10.0, 10
    load = foreign_load()
    r = run(args, SingleObjectSerde(SchemaCatalog.load()))
    ms = lambda v: round(v * 1000) if v is not None else None  # noqa: E731
    rows = [[label, s["count"], ms(s["p50"]), ms(s["p90"]), ms(s["p99"]), ms(s["max"])]
            for label, s in (("price -> erp.products.v1", r["latency_s"]["price"]),
                             ("stock -> erp.inventory.v1", r["latency_s"]["stock"]),
                             ("all", r["latency_s"]["all"]))]
    print(table(f"Intacct change capture: {r['changes']} item changes over {r['seconds']:g}s ({r['items']} items), "
                f"poll interval {POLL_INTERVAL_S:g}s; ERP change -> event (Kafka timestamp, ms)",
                ["change", "seen", "p50", "p90", "p99", "max"], rows, 0))
    print()
    print(table("API transactions over the measured phase (simulator /_sim/transactions)", ["measure", "value"], [
        ["transactions by function", ", ".join(f"{k} {v}" for k, v in r["transactions"].items())],
        ["polls (readByQuery / 4 streams), per minute",
         f"{r['polls']:.1f} ({r['polls_per_minute']:.1f}/min)" if r["polls_per_minute"] else "-"],
        ["transactions per poll", f"{r['transactions_per_poll']:.2f}" if r["transactions_per_poll"] else "-"],
        ["transactions per hour at this rate", f"{r['transactions_per_hour']:.0f}" if r["transactions_per_hour"] else "-"],
        ["CPU s (erp-cdc / transform / sim / broker)",
         " / ".join(f"{r['cpu_s'].get(n, 0):.1f}" for n in ("erp-cdc", "transform", "intacct-sim", "broker"))]], 2))
    print()
    p99 = r["latency_s"]["all"]["p99"]
    checks = [["p99 change -> event (s)", round(p99, 2) if p99 is not None else None, f"<= {TARGET_P99_S:g}",
               p99 is not None and p99 <= TARGET_P99_S],
              ["every change's event arrived", f"{r['changes'] - r['missing']}/{r['changes']}", "all", not r["missing"]],
              ["values emitted twice (at-least-once, not a loss)", r["duplicate_events"], "", None],
              ["processes left behind", len(r["leftover_processes"]), "0", not r["leftover_processes"]]]
    if load["warning"]:
        checks.append(["other load on the machine at start", load["warning"], "none", False])
    print(table("Checks", ["check", "value", "target", "ok"], checks))
    path = write_json(NAME, {"description": "Intacct ITEM price / stock change -> erp.products.v1 / erp.inventory.v1",
                             "target_p99_s": TARGET_P99_S, "foreign_load": load, "run": r})
    print(f"\nJSON: {path}")
    return 0 if r["arrived"] and not r["missing"] and not r["leftover_processes"] else 1


if __name__ == "__main__":
    sys.exit(main())
