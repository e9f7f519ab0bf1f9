"""What the Sage 300 -> X-Cart benchmarks start: the embedded broker and the topic catalogue, a
Sage 300 company database (SQLite through the SQLite3 ODBC driver, as the tests use it), the
X-Cart simulator as its own process, one pair file, and the ERP-side services as real processes
(erp_cdc, transform, storefront_writer) — each optional, all stopped in `stop()`.

The devstack's `Stack` knows only the store -> ERP services; this rig reuses its broker and
process helpers (`EmbeddedBroker`, `ManagedProcess`) rather than growing it for benchmarks.
Credentials are made up per run and written only into the run's temp work dir.
"""
from __future__ import annotations

import concurrent.futures
import multiprocessing
import secrets
import sys
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import yaml

from common import REPO, metric_value
from sagebridge_common import topics
from sagebridge_common.kafka_clients import make_admin
from sagebridge_common.settings import Settings
from sagebridge_devstack.broker import EmbeddedBroker
from sagebridge_devstack.processes import ManagedProcess, free_port

SHIPPED_PAIR = REPO / "pairs" / "xcart-sage300.yaml"
SERVICE_MODULES = {"erp-cdc": "sagebridge_erp_cdc.main", "transform": "sagebridge_transform.main",
                   "storefront-writer": "sagebridge_storefront_writer.main"}
LOCATION = "1"                      # the Sage location the shipped pair maps to store location "default"


def sku_name(i: int) -> str:
    """The X-Cart simulator's seeded SKUs (`--seed-products N`): SKU-00001..N."""
    return f"SKU-{i:05d}"


def item_number(i: int) -> str:
    """The Sage unformatted ITEMNO of SKU-nnnnn (FMTITEMNO is the SKU itself, rule as_is)."""
    return f"SKU{i:05d}"


class Rig:
    def __init__(self, work: Path, *, partitions: int = 4) -> None:
        self.work, self.logs = work, work / "logs"
        self.partitions = partitions
        self.pair_id = "xcart-sage300"
        self.broker: EmbeddedBroker | None = None
        self.bootstrap = ""
        self.xcart: ManagedProcess | None = None
        self.xcart_port = free_port()
        self.xcart_token, self.xcart_read_token = secrets.token_hex(16), secrets.token_hex(16)
        self.services: dict[str, ManagedProcess] = {}
        self.ops_ports = {name: free_port() for name in SERVICE_MODULES}
        self.sage_db_path = work / "sage300.sqlite"
        self.db = None
        self.http = httpx.Client(timeout=30)

    # -- pieces --------------------------------------------------------------------------------
    def start_broker(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        self.broker = EmbeddedBroker(log_path=self.logs / "broker.log")
        self.broker.start()
        self.bootstrap = self.broker.bootstrap
        topics.apply(make_admin(Settings(kafka_bootstrap_servers=self.bootstrap)), topics.catalogue(self.partitions))

    @property
    def xcart_url(self) -> str:
        return f"http://127.0.0.1:{self.xcart_port}"

    def start_xcart(self, products: int) -> None:
        """The X-Cart simulator with SKU-00001..`products` (stock 100 each), write log on."""
        self.xcart = ManagedProcess.python_module(
            "xcart-sim", "sagebridge_sim.xcart", {"XCART_TOKEN_READ": self.xcart_read_token,
                                                   "XCART_TOKEN_ALL": self.xcart_token}, self.logs,
            ["--port", str(self.xcart_port), "--seed-products", str(products), "--log-level", "warning"],
            ready_url=f"{self.xcart_url}/_sim/stats").start()
        self.xcart.wait_ready(60)

    def xcart_faults(self, **plan: Any) -> dict:
        r = self.http.post(f"{self.xcart_url}/_sim/faults", json=plan)
        r.raise_for_status()
        return r.json()

    def writes(self, since: int = 0, kind: str | None = None) -> dict:
        params: dict[str, Any] = {"since": since, "limit": 100_000}
        if kind:
            params["kind"] = kind
        r = self.http.get(f"{self.xcart_url}/_sim/writes", params=params)
        r.raise_for_status()
        return r.json()

    def writes_summary(self) -> dict:
        return self.http.get(f"{self.xcart_url}/_sim/writes/summary").json()

    def clear_writes(self) -> None:
        self.http.delete(f"{self.xcart_url}/_sim/writes").raise_for_status()

    def store_amount(self, sku: str) -> int:
        r = self.http.get(f"{self.xcart_url}/_sim/products/by_sku/{sku}")
        r.raise_for_status()
        return int(r.json()["record"]["amount"])

    def create_sage(self, items: int, on_hand: int = 100) -> None:
        """A fresh company database: location 1, items SKU00001.. (FMTITEMNO SKU-00001..) with ICILOC
        rows at location 1, saved an hour ago 100 ms apart (as a catalogue built over time: an idle
        table's overlap re-read then holds a few rows, not every row saved in one instant). Nothing
        else (ARCUS stays empty: its one range query per poll counts polls)."""
        from sagebridge_sim.sage300 import Sage300Database
        from sagebridge_sim.sage300.demo_company import seed_items, seed_locations

        self.db = Sage300Database(str(self.sage_db_path))
        self.db.create_schema()
        seed_locations(self.db, {LOCATION: "Seattle Warehouse"})
        start = datetime.now(timezone.utc) - timedelta(hours=1)
        for i in range(1, items + 1):
            with self.db.frozen_stamp(start + timedelta(milliseconds=100 * i)):
                seed_items(self.db, [{"ITEMNO": item_number(i), "FMTITEMNO": sku_name(i), "DESC": sku_name(i),
                                      "LOCATIONS": {LOCATION: on_hand}}])

    # -- the pair file --------------------------------------------------------------------------
    def write_pair(self, *, store: dict[str, Any] | None = None, database: dict[str, Any] | None = None) -> Path:
        """The shipped pair with this run's store and (when `database` is given) a CDC block."""
        data = yaml.safe_load(SHIPPED_PAIR.read_text())
        data["pair"] = self.pair_id
        data["storefront"].update({"base_url": self.xcart_url, "token": self.xcart_token, "timeout_s": 10,
                                   "tracking": "none", **(store or {})})      # the benchmarks ship nothing
        if database is not None:
            data["erp"]["database"] = {"connection_string": f"DRIVER={{SQLite3}};Database={self.sage_db_path};"
                                                            "Timeout=10000", "dialect": "sqlite", **database}
        data["erp"]["password"] = "unused"
        pairs = self.work / "pairs"
        pairs.mkdir(parents=True, exist_ok=True)
        (pairs / "pair.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
        return pairs

    # -- services -------------------------------------------------------------------------------
    def ops_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ops_ports[name]}"

    def start_services(self, names: list[str], env: dict[str, dict[str, str]] | None = None,
                       timeout: float = 90.0) -> None:
        for name in names:
            e = {"KAFKA_BOOTSTRAP_SERVERS": self.bootstrap, "PAIR_ID": self.pair_id,
                 "PAIRS_PATH": str(self.work / "pairs"), "LOG_LEVEL": "WARNING", "OPS_HOST": "127.0.0.1",
                 "OPS_PORT": str(self.ops_ports[name]), "PYTHONUNBUFFERED": "1", **(env or {}).get(name, {})}
            self.services[name] = ManagedProcess(name, [sys.executable, "-m", SERVICE_MODULES[name]], e, self.logs,
                                                 ready_url=f"{self.ops_url(name)}/readyz").start()
        for name in names:
            self.services[name].wait_ready(timeout)

    def metrics(self, name: str) -> str:
        return self.http.get(f"{self.ops_url(name)}/metrics", timeout=10).text

    def metric(self, service: str, metric: str, **labels: str) -> float:
        return metric_value(self.metrics(service), metric, **labels)

    def pids(self) -> dict[str, int]:
        procs = {**self.services, **({"xcart-sim": self.xcart} if self.xcart else {})}
        out = {n: p.proc.pid for n, p in procs.items() if p.proc}
        if self.broker and getattr(self.broker, "proc", None):
            out["broker"] = self.broker.proc.pid
        return out

    def stop(self) -> None:
        for proc in list(self.services.values()) + ([self.xcart] if self.xcart else []):
            proc.stop()
        if self.db is not None:
            self.db.close()
        if self.broker:
            self.broker.stop()
        self.http.close()


def stock_updates(items: int, updates: int, first_quantity: int = 1000) -> list[tuple[int, int]]:
    """(item index, quantity) per update, round-robin over the items; update k sets quantity
    `first_quantity + k`, so a quantity names its update and each row's values only rise."""
    return [(k % items + 1, first_quantity + k) for k in range(updates)]


def pace_updates(db_path: Path, updates: list[tuple[int, int]], seconds: float) -> tuple[list[float], dict]:
    """`commit_updates` in a child process of its own, so the benchmark's consumer threads (Avro
    decoding under this process's GIL) cannot hold the commit schedule back."""
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(commit_updates, str(db_path), updates, seconds).result()


def commit_updates(db_path: str, updates: list[tuple[int, int]], seconds: float,
                   user: str = "ADMIN") -> tuple[list[float], dict]:
    """Commits `updates` evenly over `seconds` on an absolute schedule (update k due at t0 + k*step)
    through the simulator's ERP driver (an I/C adjustment to that live on-hand, AUDTDATE/AUDTTIME
    stamped as Sage's views do). On time, each update is its own transaction; when the writer falls
    behind (a loaded machine: one SQLite writer manages ~1,500 commits/s when idle), every update
    already due goes into one transaction, as concurrent Sage clerks would commit them, so the
    rate holds. Returns each update's commit time (epoch s) and how the schedule was kept."""
    from sagebridge_sim.sage300 import Sage300Database
    from sagebridge_sim.sage300.erp_driver import ErpDriver, live_on_hand

    db = Sage300Database(db_path)
    driver = ErpDriver(db, user=user)
    step = seconds / max(1, len(updates))
    commits: list[float] = []
    late, transactions = [], 0
    t0 = time.monotonic() + 0.05
    try:
        k = 0
        while k < len(updates):
            now = time.monotonic()
            if t0 + k * step > now:
                time.sleep(t0 + k * step - now)
                now = time.monotonic()
            due = min(len(updates), max(k + 1, int((now - t0) / step) + 1))
            late.append(now - (t0 + k * step))
            with db.transaction() as cur:
                for i, qty in updates[k:due]:
                    driver.stock_change(cur, item_number(i), LOCATION, lambda s, q=Decimal(qty): {
                        "QTYADNOCST": s["QTYADNOCST"] + q - live_on_hand(s)})
            commits.extend([time.time()] * (due - k))
            transactions += 1
            k = due
    finally:
        db.close()
    elapsed = time.monotonic() - t0
    late.sort()
    return commits, {"updates": len(updates), "transactions": transactions, "elapsed_s": elapsed,
                     "achieved_per_s": len(updates) / elapsed,
                     "lateness_p99_ms": late[int(0.99 * (len(late) - 1))] * 1000 if late else None,
                     "lateness_max_ms": late[-1] * 1000 if late else None}
