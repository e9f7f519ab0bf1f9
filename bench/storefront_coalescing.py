"""storefront_writer coalescing: 10,000 inventory changes over 500 SKUs into an X-Cart store whose
PUTs take 50 ms; calls per changed SKU and time from the last change to a converged store, beside
a no-coalescing baseline (COALESCE_WINDOW_MS=0) in the same run.

Per mode: one embedded broker for the run, a fresh X-Cart simulator (in this process, so the store's
amounts are read without HTTP) with 500 products, a fresh pair and consumer group, and the writer as
its own process. The writer first writes one warm-up event per SKU (the SKU map is built, every
worker is warm), then the changes are produced over about 2 s (20 rounds of 500 SKUs, quantity =
round, so the final value of each SKU is known). "calls" counts the successful product PUTs the
simulator's write log recorded after the warm-up; "converged" is the first moment every SKU shows
its final amount, from the last change acknowledged by the broker.
The store's rate limit is set high (1000/s, 16 concurrent calls) so the baseline measures the
writes, not the bucket. Target: <= 1.2 calls per changed SKU, converged within 5 s.

    .venv/bin/python bench/storefront_coalescing.py [--skus 500 --changes 10000]
"""
from __future__ import annotations

import argparse
import sys
import time
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import httpx
import yaml
from confluent_kafka import Producer

from common import leftover_processes, table, temp_work_dir, write_json
from sagebridge_common import topics
from sagebridge_common.avro_serde import SingleObjectSerde
from sagebridge_common.events import new_metadata
from sagebridge_common.kafka_clients import make_admin
from sagebridge_common.schemas import SchemaCatalog
from sagebridge_common.settings import Settings
from sagebridge_devstack.broker import EmbeddedBroker
from sagebridge_devstack.processes import ManagedProcess, free_port
from sagebridge_sim.serve import BackgroundServer
from sagebridge_sim.xcart import XCartStore, create_app

NAME = "storefront_coalescing"
ROOT = Path(__file__).resolve().parents[1]
LATENCY_MS = 50


def stock(serde, pair_id: str, sku: str, quantity: int, version: int) -> tuple[bytes, bytes]:
    key = f"{sku}|default"
    now = datetime.now(timezone.utc)
    q = Decimal(quantity)
    value = {"metadata": new_metadata("erp.change", source_system="sage300", source_instance="SAMINC",
                                      source_entity_id=key, pair_id=pair_id, occurred_at=now),
             "sku": sku, "location": "default", "on_hand": q, "committed": Decimal(0), "available": q, "as_of": now,
             "quantity": q, "erp_item": sku, "erp_locations": ["1"], "source_version": f"{version:016d}"}
    return key.encode(), serde.serialize("sagebridge.v2.InventoryLevel", value)


def produce(producer: Producer, records) -> float:
    for key, value in records:
        while True:
            try:
                producer.produce(topics.INVENTORY, key=key, value=value)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    assert producer.flush(60) == 0
    return time.monotonic()


def run_mode(bootstrap: str, serde, work: Path, window_ms: int, n_skus: int, n_changes: int) -> dict:
    store = XCartStore()
    app = create_app(store, token_read="r", token_all="w")
    server = BackgroundServer(app).start()
    pair_id = f"bench-{uuid.uuid4().hex[:8]}"
    skus = [f"B{pair_id[-6:]}-{i:04d}" for i in range(n_skus)]
    pids = [store.add_product(s, s, Decimal("1.00"), amount=0) for s in skus]
    pair = yaml.safe_load((ROOT / "pairs" / "xcart-sage300.yaml").read_text())
    pair["pair"] = pair_id
    pair["storefront"] = {"kind": "xcart", "base_url": server.url, "token": "w", "timeout_s": 10,
                          "max_concurrency": 16, "rate_limit_per_s": 1000, "rate_limit_burst": 100}
    (work / "pairs").mkdir(parents=True)
    (work / "pairs" / "pair.yaml").write_text(yaml.safe_dump(pair))
    port = free_port()
    env = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "PAIR_ID": pair_id, "PAIRS_PATH": str(work / "pairs"),
           "KAFKA_GROUP_ID": f"bench-{pair_id}", "OPS_HOST": "127.0.0.1", "OPS_PORT": str(port),
           "COALESCE_WINDOW_MS": str(window_ms), "COALESCE_MAX_HOLD_MS": str(max(window_ms, 5000)),
           "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"}
    writer = ManagedProcess("storefront-writer", [sys.executable, "-m", "sagebridge_storefront_writer.main"], env,
                            work / "logs", ready_url=f"http://127.0.0.1:{port}/readyz").start()
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5})
    try:
        writer.wait_ready(60)
        produce(producer, [stock(serde, pair_id, s, 0, 0) for s in skus])      # warm-up: SKU map, workers
        warm_deadline = time.monotonic() + 120
        while len({w["key"] for w in app.state.writes.read(kind="product", limit=10**6)["writes"] if w["ok"]}) < n_skus:
            if time.monotonic() > warm_deadline:
                raise RuntimeError("warm-up writes did not arrive")
            time.sleep(0.2)
        app.state.injector.configure(latency_ms=LATENCY_MS, methods=["PUT"])
        since = app.state.writes.read(limit=0)["last_seq"]
        rounds = n_changes // n_skus
        started = time.monotonic()
        last = started
        for r in range(1, rounds + 1):        # ~2 s of changes
            last = produce(producer, [stock(serde, pair_id, s, r, r) for s in skus])
            time.sleep(max(0.0, started + r * 2.0 / rounds - time.monotonic()))
        deadline = last + 300
        while not all(store.products[pid]["amount"] == rounds for pid in pids):
            if time.monotonic() > deadline:
                raise RuntimeError("the store did not converge")
            time.sleep(0.02)
        converged_s = time.monotonic() - last
        calls = sum(1 for w in app.state.writes.read(since=since, kind="product", limit=10**6)["writes"] if w["ok"])
        return {"window_ms": window_ms, "changes": rounds * n_skus, "skus": n_skus, "calls": calls,
                "calls_per_sku": calls / n_skus, "converged_after_last_change_s": converged_s,
                "produce_s": last - started}
    finally:
        writer.stop()
        server.stop()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skus", type=int, default=500)
    ap.add_argument("--changes", type=int, default=10_000)
    args = ap.parse_args()
    serde = SingleObjectSerde(SchemaCatalog.load())
    results = []
    with temp_work_dir(NAME) as work:
        broker = EmbeddedBroker(log_path=work / "broker.log").start()
        try:
            topics.apply(make_admin(Settings(kafka_bootstrap_servers=broker.bootstrap)), topics.catalogue(4))
            for window in (500, 0):
                results.append(run_mode(broker.bootstrap, serde, work / f"w{window}", window, args.skus, args.changes))
        finally:
            broker.stop()
        left = leftover_processes(str(work))
    rows = [[("coalescing %d ms" % r["window_ms"]) if r["window_ms"] else "no coalescing (baseline)", r["changes"],
             r["calls"], r["calls_per_sku"], r["converged_after_last_change_s"],
             "yes" if r["window_ms"] == 0 or (r["calls_per_sku"] <= 1.2 and r["converged_after_last_change_s"] <= 5)
             else "no"] for r in results]
    print(table(f"storefront_writer: {args.changes} stock changes over {args.skus} SKUs, X-Cart PUT latency "
                f"{LATENCY_MS} ms", ["mode", "changes", "store calls", "calls/SKU", "converged s", "ok"], rows, digits=2))
    print(write_json(NAME, {"latency_ms": LATENCY_MS, "runs": results,
                            "target": {"calls_per_sku": 1.2, "converged_s": 5}}))
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
