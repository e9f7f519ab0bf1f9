"""erp-writer as a real process on the real broker, writing to the Sage 300 simulator over HTTP:
exactly one Sage order per store order when answers are lost while Sage is still committing
(commit-late), with and without the customer's duplicate-PO guard, and under SIGKILL; one Sage
call per order with the guard; prefixed references; local order dates; total mismatches reported.

Each test has its own simulator, its own pair id (so other tests' orders on the shared topic are
skipped) and its own consumer group. Canonical orders are produced straight to commerce.orders.v1.
"""
from __future__ import annotations

import sys
import time
import uuid
from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import yaml
from confluent_kafka import Producer

from sagebridge_common import topics
from sagebridge_common.events import new_metadata
from sagebridge_common.kafka_clients import make_admin
from sagebridge_common.settings import Settings
from sagebridge_common.topics import ERP_RESULTS, ORDERS
from sagebridge_devstack.processes import ManagedProcess, free_port
from sagebridge_sim.faults import FaultInjector
from sagebridge_sim.sage300 import Sage300Database, create_app
from sagebridge_sim.sage300.app import stats
from sagebridge_sim.serve import BackgroundServer

from .conftest import read_all, wait_until

PASSWORD = "it-sage-pw"
SHIPPED_PAIR = Path(__file__).resolve().parents[2] / "pairs" / "xcart-sage300.yaml"
FINAL = {"created", "already_present", "created_with_mismatch"}


def D(text: str) -> Decimal:
    return Decimal(text).quantize(Decimal("0.0001"))


def canonical(order_id: str, number: str, pair_id: str, *, ordered_at: datetime | None = None,
              total: str = "30.00") -> dict:
    at = ordered_at or datetime.now(timezone.utc)
    addr = {"name": "Ann Lee", "company": None, "line1": "1 Main Street", "line2": None, "city": "New York",
            "region": "NY", "postal_code": "10001", "country": "US", "phone": None, "email": None}
    return {
        "metadata": new_metadata("order.created", source_system="xcart", source_instance="default",
                                 source_entity_id=order_id, pair_id=pair_id, occurred_at=at),
        "order_id": order_id, "order_number": number, "status": "paid", "fulfilment_status": "unfulfilled",
        "ready_for_erp": True, "ordered_at": at, "updated_at": at, "currency": "USD",
        "customer": {"storefront_customer_id": None, "email": "ann@example.com", "first_name": "Ann",
                     "last_name": "Lee", "phone": None, "erp_customer_id": "WEBCUST"},
        "billing_address": addr, "shipping_address": addr,
        "lines": [{"line_id": "1", "sku": "WIDGET-1", "name": "Widget", "quantity": D("2"), "unit_price": D("12.50"),
                   "discount": D("0"), "line_total": D("25.00"), "location_code": "1"}],
        "subtotal": D("25.00"), "discount_total": D("0"), "shipping_total": D("5.00"), "tax_total": D("0"),
        "total": D(total), "tax_included": False, "shipping_method": "UPS Ground", "ship_via_code": "UPSGRD",
        "payment_method": "Credit Card", "payment_method_code": None, "notes": None,
    }


class WriterRig:
    """One Sage 300 simulator, one pair file and one erp-writer process for a test."""

    def __init__(self, bootstrap: str, serde, work, **erp) -> None:
        self.bootstrap, self.serde, self.work = bootstrap, serde, work
        topics.apply(make_admin(Settings(kafka_bootstrap_servers=bootstrap)), topics.catalogue(4))  # as deploys do
        self.pair_id = f"t-{uuid.uuid4().hex[:10]}"
        self.db = Sage300Database(str(work / "sage.sqlite"))
        self.db.create_schema()
        self.db.seed_demo()
        self.injector = FaultInjector()
        self.app = create_app(self.db, password=PASSWORD, injector=self.injector)
        self.server = BackgroundServer(self.app).start()
        self.erp = {"kind": "sage300", "base_url": self.server.url, "company": "SAMINC", "user": "WEBAPI",
                    "password": PASSWORD, "timeout_s": 5, "settle_delay_s": 4, **erp}
        pair = yaml.safe_load(SHIPPED_PAIR.read_text())
        pair.update(pair=self.pair_id, store_time_zone="America/New_York")
        pair["storefront"] = {"kind": "xcart", "base_url": "http://127.0.0.1:9"}
        pair["erp"] = self.erp
        (work / "pairs").mkdir()
        (work / "pairs" / "pair.yaml").write_text(yaml.safe_dump(pair))
        self.ops_port = free_port()
        self.writer: ManagedProcess | None = None
        self.producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                                  "linger.ms": 5})
        self.group = f"it-erpw-{self.pair_id}"

    def set_guard(self, option: str) -> None:
        httpx.post(f"{self.server.url}/_sim/customers/WEBCUST", json={"CheckForDuplicatePOs": option}
                   ).raise_for_status()

    def start_writer(self) -> ManagedProcess:
        env = {"KAFKA_BOOTSTRAP_SERVERS": self.bootstrap, "PAIR_ID": self.pair_id,
               "PAIRS_PATH": str(self.work / "pairs"), "KAFKA_GROUP_ID": self.group,
               "OPS_HOST": "127.0.0.1", "OPS_PORT": str(self.ops_port), "RETRY_INITIAL_S": "0.1",
               "RETRY_MAX_S": "2", "PYTHONUNBUFFERED": "1",
               # the same connection through the variables the shipped pair file interpolates
               "SAGE300_BASE_URL": self.server.url, "SAGE300_COMPANY": "SAMINC", "SAGE300_USER": "WEBAPI",
               "SAGE300_PASSWORD": PASSWORD, "SAGE300_TIMEOUT_S": str(self.erp["timeout_s"])}
        self.writer = ManagedProcess("erp-writer", [sys.executable, "-m", "sagebridge_erp_writer.main"], env,
                                     self.work / "logs", ready_url=f"http://127.0.0.1:{self.ops_port}/readyz").start()
        self.writer.wait_ready(60)
        return self.writer

    def produce(self, orders: list[dict]) -> None:
        for o in orders:
            self.producer.produce(ORDERS, key=o["order_id"].encode(),
                                  value=self.serde.serialize("sagebridge.v1.Order", o))
            self.producer.poll(0)
        assert self.producer.flush(30) == 0

    def orders(self, count: int, tag: str, **kw) -> list[dict]:
        base = uuid.uuid4().int % 10_000_000
        return [canonical(f"{self.pair_id}-{tag}-{i}", str(base + i), self.pair_id, **kw) for i in range(count)]

    def sage_refs(self) -> Counter:
        return Counter(o["OrderReference"] for o in httpx.get(f"{self.server.url}/_sim/orders").json())

    def api_calls(self) -> int:
        return sum(r["count"] for r in stats(self.app.state.sim)["requests"])

    def results(self, expect: int) -> dict[str, list[dict]]:
        """Result events of this pair by reference, once every one of `expect` references has a final one."""
        def final() -> dict | None:
            by: dict[str, list[dict]] = {}
            for m in read_all(self.bootstrap, ERP_RESULTS, idle=0.5):
                _s, v = self.serde.deserialize(m.value())
                if v["metadata"]["pair_id"] == self.pair_id:
                    by.setdefault(v["reference"], []).append(v)
            done = sum(1 for vs in by.values() if any(v["outcome"] in FINAL for v in vs))
            return by if done >= expect else None
        return wait_until(final, timeout=120, interval=1.0, message=f"results for {expect} orders")

    def close(self) -> None:
        if self.writer:
            self.writer.stop()
        self.server.stop()
        self.db.close()


@pytest.fixture
def rig(bootstrap, serde, tmp_path):
    made: list[WriterRig] = []

    def make(**erp) -> WriterRig:
        made.append(WriterRig(bootstrap, serde, tmp_path, **erp))
        return made[-1]
    yield make
    for r in made:
        r.close()


@pytest.mark.parametrize("guard", ["None", "Error"], ids=["guard-not-set", "guard-set"])
def test_answers_lost_while_sage_commits_give_one_order_each(rig, guard):
    """Sage takes 3 s to commit and answer an order POST, the writer gives up after 2 s."""
    r = rig(timeout_s=2, settle_delay_s=4)
    r.set_guard(guard)
    r.injector.configure(commit_late_ms=3000, methods=["POST"])
    orders = r.orders(23, "late")
    r.start_writer()
    r.produce(orders)
    results = r.results(23)
    refs = r.sage_refs()
    per_store_order = Counter({o["order_number"]: refs[o["order_number"]] + refs[f"XC1-{o['order_number']}"]
                               for o in orders})
    assert set(per_store_order.values()) == {1}, f"Sage orders per store order: {sorted(per_store_order.values())}"
    assert set(results) == {f"XC1-{o['order_number']}" for o in orders}
    assert {v["outcome"] for vs in results.values() for v in vs} <= FINAL     # nothing failed on the way
    assert r.injector.snapshot()["injected"] >= 23        # every first POST really lost its answer


def test_sigkill_with_the_guard_on_gives_exactly_one_order_each(rig):
    r = rig()
    r.set_guard("Error")
    r.injector.configure(latency_ms=15, methods=["POST"])
    orders = r.orders(300, "kill")
    wanted = {f"XC1-{o['order_number']}" for o in orders}
    writer = r.start_writer()
    r.produce(orders)
    wait_until(lambda: len(wanted & set(r.sage_refs())) >= 60, timeout=60, message="flow to start")
    writer.kill()
    r.start_writer()
    r.results(300)
    refs = r.sage_refs()
    assert len(wanted & set(refs)) == 300, "orders missing"
    assert max(refs[ref] for ref in wanted) == 1, f"duplicates: {[x for x in wanted if refs[x] > 1][:5]}"


def test_with_the_guard_an_order_costs_one_sage_call(rig):
    r = rig()
    r.set_guard("Error")
    orders = r.orders(100, "calls")
    r.start_writer()
    before = r.api_calls()
    r.produce(orders)
    results = r.results(100)
    calls = r.api_calls() - before
    assert Counter(v["outcome"] for vs in results.values() for v in vs) == {"created": 100}
    assert calls / 100 <= 1.05, f"{calls} Sage calls for 100 orders"


def test_a_pos_order_with_the_same_number_does_not_hide_the_store_order(rig):
    r = rig()
    [order] = r.orders(1, "pos")
    number = order["order_number"]
    httpx.post(f"{r.server.url}/Sage300WebApi/v1.0/-/SAMINC/OE/OEOrders", auth=("WEBAPI", PASSWORD),
               json={"CustomerNumber": "WEBCUST", "OrderReference": number, "PurchaseOrderNumber": number,
                     "OrderDetails": [{"LineType": "Item", "Item": "WIDGET-1", "QuantityOrdered": 1,
                                       "OrderUnitPrice": 1}]}).raise_for_status()
    r.start_writer()
    r.produce([order])
    [(reference, [result])] = r.results(1).items()
    assert result["outcome"] == "created", f"the POS order {number} was taken for the store's"
    refs = r.sage_refs()
    assert reference == f"XC1-{number}" and refs[reference] == 1 and refs[number] == 1


def test_local_order_date_and_a_total_mismatch_is_reported(rig):
    r = rig()
    late_evening = datetime(2024, 11, 6, 2, 30, tzinfo=timezone.utc)          # 21:30 on the 5th in New York
    [order] = r.orders(1, "date", ordered_at=late_evening, total="31.00")       # Sage computes 30.00
    r.start_writer()
    r.produce([order])
    [(reference, [result])] = r.results(1).items()
    [sage] = [o for o in httpx.get(f"{r.server.url}/_sim/orders").json() if o["OrderReference"] == reference]
    assert sage["OrderDate"].startswith("2024-11-05"), f"dated {sage['OrderDate']}, the UTC date"
    assert result["outcome"] == "created_with_mismatch"
    assert "30.000" in result["message"] and "31.0000" in result["message"]
    text = httpx.get(f"http://127.0.0.1:{r.ops_port}/metrics").text
    assert f'sagebridge_erp_total_mismatch_total{{connector="sage300",pair="{r.pair_id}"}} 1.0' in text
