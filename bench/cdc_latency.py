"""Change capture latency: Sage 300 ICILOC commits -> `erp.inventory.v1` events, through erp_cdc
(polling the company database over ODBC) and transform, at the default poll interval.

One rig: embedded broker + topics, a fresh Sage 300 company database (SQLite through the SQLite3
ODBC driver) with `--items` items (ICITEM SKU00001.. formatted SKU-00001.., stock 100 at location
1), the shipped pair with an `erp.database` block on that database (poll_interval_s, overlap_s,
batch_size and tables left at their defaults: 1 s, 2 s, 500, all eight tables), and real erp_cdc
and transform processes. The first scan (every seeded row) is waited out before measuring.

Then `--updates` ICILOC updates are committed over `--seconds` s on an absolute schedule by a
child process (`erp_store_rig.commit_updates`) through the simulator's ERP driver (an I/C
adjustment to a live on-hand, stamped with AUDTDATE/AUDTTIME as Sage's views do): one transaction
per update while on time, the updates already due in one transaction when it fell behind (the
table shows how many transactions), round-robin over the items; update k sets quantity 1000+k,
so an event's quantity names its commit. Latency of an update = the Kafka timestamp of the
`erp.inventory.v1` event carrying its quantity (transform's producer CreateTime) - its commit time
(one clock). CDC reads a row's current value, so an update overwritten before the next poll read
it is never seen (counted as superseded, not lost); every item's last quantity must arrive.
From erp_cdc's metrics over the measured phase: polls (one range query per table per poll: the
untouched ARCUS table's range queries count them), queries and rows read per poll, ICILOC rows
read (scanned) per second.

    .venv/bin/python bench/cdc_latency.py [--updates 10000 --seconds 10 --items 2000] [--quick]
"""
from __future__ import annotations

import argparse
import sys
import threading
import time
import uuid

from confluent_kafka import Consumer, TopicPartition

from common import (cpu_seconds, foreign_load, leftover_processes, metric_value, summarize, table, temp_work_dir,
                    wait_until, write_json)
from erp_store_rig import Rig, pace_updates, sku_name, stock_updates
from sagebridge_common.avro_serde import SingleObjectSerde
from sagebridge_common.schemas import SchemaCatalog
from sagebridge_common.topics import INVENTORY

NAME = "cdc_latency"
POLL_INTERVAL_S = 1.0             # the erp.database default, which this benchmark leaves in place
TARGET_P99_S = POLL_INTERVAL_S + 1.0
CDC_TABLES = ["ICILOC", "ICITEM", "ICPRICP", "ARCUS", "OEORDH", "OEORDH1", "OESHIH", "OESHID"]


class InventoryWatcher:
    """Reads erp.inventory.v1 from the start in a thread: (sku, quantity) -> first (Kafka timestamp,
    seen at), and the latest quantity per SKU."""

    def __init__(self, bootstrap: str, serde: SingleObjectSerde) -> None:
        self.serde = serde
        self.c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-inv-{uuid.uuid4().hex[:8]}",
                           "enable.auto.commit": False, "fetch.wait.max.ms": 5, "fetch.min.bytes": 1})
        parts = self.c.list_topics(INVENTORY, timeout=10).topics[INVENTORY].partitions
        self.c.assign([TopicPartition(INVENTORY, p, 0) for p in parts])
        self.lock = threading.Lock()
        self.first: dict[tuple[str, int], tuple[float, float]] = {}
        self.latest: dict[str, int] = {}
        self.events = 0
        self.duplicates = 0
        self.timestamp_types: set[int] = set()
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="inventory", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for m in self.c.consume(num_messages=1000, timeout=0.05):
                if m.error() is not None:
                    continue
                seen = time.time()
                ts_type, ts_ms = m.timestamp()
                _s, v = self.serde.deserialize(m.value())
                key = (v["sku"], int(v["quantity"]))
                with self.lock:
                    self.events += 1
                    self.timestamp_types.add(ts_type)
                    if key in self.first:
                        self.duplicates += 1
                    else:
                        self.first[key] = (ts_ms / 1000.0 if ts_ms > 0 else seen, seen)
                    self.latest[v["sku"]] = key[1]

    def has_all(self, final: dict[str, int]) -> bool:
        with self.lock:
            return all((sku, q) in self.first for sku, q in final.items())

    def close(self) -> None:
        self._stop.set()
        self.thread.join(5)
        self.c.close()


def cdc_counters(rig: Rig) -> dict[str, float]:
    text = rig.metrics("erp-cdc")
    out = {"polls": metric_value(text, "sagebridge_cdc_queries_total", table="ARCUS", kind="range"),
           "queries": metric_value(text, "sagebridge_cdc_queries_total", kind="range"),
           "iciloc_queries": metric_value(text, "sagebridge_cdc_queries_total", table="ICILOC", kind="range"),
           "rows_read": metric_value(text, "sagebridge_cdc_rows_read_total", kind="range"),
           "iciloc_rows_read": metric_value(text, "sagebridge_cdc_rows_read_total", table="ICILOC", kind="range"),
           "iciloc_changes": metric_value(text, "sagebridge_cdc_changes_total", table="ICILOC", op="upsert")}
    return out


def latencies(updates: list[tuple[int, int]], commits: list[float], watcher: InventoryWatcher) -> dict:
    """Per update: (Kafka timestamp - commit) and (bench saw it - commit), for the updates seen."""
    by_ts, by_seen, superseded = [], [], 0
    with watcher.lock:
        for (i, qty), committed in zip(updates, commits):
            got = watcher.first.get((sku_name(i), qty))
            if got is None:
                superseded += 1
                continue
            by_ts.append(got[0] - committed)
            by_seen.append(got[1] - committed)
    return {"event_s": summarize(by_ts), "seen_s": summarize(by_seen), "observed": len(by_ts),
            "superseded": superseded}


def start(rig: Rig, items: int, services: list[str], store: dict | None = None) -> float:
    """Broker, database, pair file and `services`; returns seconds taken."""
    t0 = time.monotonic()
    rig.start_broker()
    rig.create_sage(items)
    rig.write_pair(database={}, store=store)
    rig.start_services(services)
    return time.monotonic() - t0


def run(args, serde: SingleObjectSerde) -> dict:
    with temp_work_dir("cdc") as work:
        rig = Rig(work)
        watcher = None
        try:
            startup_s = start(rig, args.items, ["erp-cdc", "transform"])
            watcher = InventoryWatcher(rig.bootstrap, serde)
            seeded = {sku_name(i): 100 for i in range(1, args.items + 1)}
            wait_until(lambda: watcher.has_all(seeded), timeout=120, interval=0.5, message="the first scan's stock")
            time.sleep(2 * POLL_INTERVAL_S)
            print(f"up in {startup_s:.1f}s, first scan done; committing {args.updates} updates over {args.seconds}s",
                  file=sys.stderr)
            pids = rig.pids()
            cpu0 = {n: cpu_seconds(p) for n, p in pids.items()}
            before = cdc_counters(rig)
            updates = stock_updates(args.items, args.updates)
            t_first = time.time()
            commits, schedule = pace_updates(rig.sage_db_path, updates, args.seconds)
            final = {sku_name(i): q for i, q in updates}
            try:
                wait_until(lambda: watcher.has_all(final), timeout=args.timeout, interval=0.2,
                           message="every item's last quantity")
                arrived = True
            except TimeoutError:
                arrived = False
            t_done = time.time()
            after = cdc_counters(rig)
            cpu = {n: cpu_seconds(p) - cpu0[n] for n, p in pids.items()}
            time.sleep(1.0)
            lat = latencies(updates, commits, watcher)
            missing_final = [s for s, q in final.items() if (s, q) not in watcher.first]
            dupes, ts_types = watcher.duplicates, sorted(watcher.timestamp_types)
        finally:
            if watcher:
                watcher.close()
            rig.stop()
        left = leftover_processes(str(work))
    d = {k: after[k] - before[k] for k in after}
    span = t_done - t_first
    polls = d["polls"] or None
    return {"items": args.items, "updates": args.updates, "seconds": args.seconds, "poll_interval_s": POLL_INTERVAL_S,
            "startup_s": startup_s, "schedule": schedule, "arrived": arrived, "latency": lat,
            "missing_final": len(missing_final), "missing_final_sample": missing_final[:10], "duplicate_events": dupes,
            "kafka_timestamp_types": ts_types, "cdc": d, "span_s": span,
            "polls_per_s": d["polls"] / span if span else None,
            "queries_per_poll": d["queries"] / polls if polls else None,
            "rows_read_per_poll": d["rows_read"] / polls if polls else None,
            "iciloc_queries_per_poll": d["iciloc_queries"] / polls if polls else None,
            "iciloc_rows_read_per_poll": d["iciloc_rows_read"] / polls if polls else None,
            "iciloc_rows_scanned_per_s": d["iciloc_rows_read"] / span if span else None,
            "cpu_s": cpu, "leftover_processes": left}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--updates", type=int, default=10_000)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--items", type=int, default=2_000)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the last quantities")
    ap.add_argument("--quick", action="store_true", help="smoke run: 1,000 updates over 5 s, 200 items")
    args = ap.parse_args()
    if args.quick:
        args.updates, args.seconds, args.items = 1_000, 5.0, 200
    load = foreign_load()
    serde = SingleObjectSerde(SchemaCatalog.load())
    r = run(args, serde)

    ev, seen = r["latency"]["event_s"], r["latency"]["seen_s"]
    ms = lambda v: round(v * 1000) if v is not None else None  # noqa: E731
    print(table(f"Change capture: {r['updates']:,} ICILOC updates over {r['seconds']:g}s ({r['items']:,} items), "
                f"poll interval {POLL_INTERVAL_S:g}s; commit -> erp.inventory.v1 (ms)",
                ["measured at", "updates seen", "superseded", "p50", "p90", "p99", "max"],
                [["event produced (Kafka timestamp)", ev["count"], r["latency"]["superseded"], ms(ev["p50"]),
                  ms(ev["p90"]), ms(ev["p99"]), ms(ev["max"])],
                 ["bench consumer saw it", seen["count"], r["latency"]["superseded"], ms(seen["p50"]),
                  ms(seen["p90"]), ms(seen["p99"]), ms(seen["max"])]], 0))
    print()
    print(table("erp_cdc load over the measured phase (its Prometheus counters)", ["measure", "value"], [
        ["polls (per second)", f"{r['cdc']['polls']:.0f} ({r['polls_per_s']:.2f}/s)" if r["polls_per_s"] else "-"],
        ["range queries per poll, all 8 tables (ICILOC)",
         f"{r['queries_per_poll']:.2f} ({r['iciloc_queries_per_poll']:.2f})" if r["queries_per_poll"] else "-"],
        ["rows read per poll, all tables (ICILOC)",
         f"{r['rows_read_per_poll']:.0f} ({r['iciloc_rows_read_per_poll']:.0f})" if r["rows_read_per_poll"] else "-"],
        ["ICILOC rows scanned per second", round(r["iciloc_rows_scanned_per_s"] or 0)],
        ["ICILOC changes emitted", int(r["cdc"]["iciloc_changes"])],
        ["commit rate achieved (/s), transactions, p99 lateness ms",
         "{achieved_per_s:.0f}, {transactions:,}, {lateness_p99_ms:.1f}".format(**r["schedule"])],
        ["CPU s (erp-cdc / transform / broker)",
         " / ".join(f"{r['cpu_s'].get(n, 0):.1f}" for n in ("erp-cdc", "transform", "broker"))]], 2))
    print()
    p99 = ev["p99"]
    checks = [["p99 commit -> event (s)", round(p99, 3) if p99 is not None else None, f"<= {TARGET_P99_S:g}",
               p99 is not None and p99 <= TARGET_P99_S],
              ["every item's last quantity arrived", f"{r['items'] - r['missing_final']}/{r['items']}", "all",
               not r["missing_final"]],
              ["quantities emitted twice (at-least-once, not a loss)", r["duplicate_events"], "", None],
              ["processes left behind", len(r["leftover_processes"]), "0", not r["leftover_processes"]]]
    if load["warning"]:
        checks.append(["other load on the machine at start", load["warning"], "none", False])
    print(table("Checks", ["check", "value", "target", "ok"], checks))
    path = write_json(NAME, {"description": "ICILOC commit -> erp.inventory.v1 through erp_cdc and transform",
                             "target_p99_s": TARGET_P99_S, "foreign_load": load, "run": r})
    print(f"\nJSON: {path}")
    return 0 if r["arrived"] and not r["leftover_processes"] else 1


if __name__ == "__main__":
    sys.exit(main())
