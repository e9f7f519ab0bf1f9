"""storefront_writer end to end: a real process on the real broker writing canonical ERP-origin
events to the X-Cart simulator over HTTP (issue 7's storefront tests).

- stock (product and variant), product (price, description, disabled, category), order status and
  shipment tracking events end in the store field by field;
- the store answers 429, then 503 (with Retry-After) for a while: nothing lost, nothing in the DLQ,
  converged after (the issue's shape in full: 429 for 10 s, then 503 for 20 s);
- a stock event for a SKU the store lacks goes to the DLQ with reason `unknown_sku`, the rest land;
- an older version after a newer one is not written, also across a restart;
- SIGKILL mid-burst, restart: the store ends with the latest quantities, and the simulator's write
  log shows no write older than one already made (quantities rise with the version here).
"""
from __future__ import annotations

import sys
import threading
import uuid
from collections import defaultdict
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import yaml
from confluent_kafka import Producer

from sagebridge_common import topics
from sagebridge_common.dead_letter import dlq_topic
from sagebridge_common.events import new_metadata
from sagebridge_common.kafka_clients import make_admin
from sagebridge_common.settings import Settings
from sagebridge_common.topics import ERP_CUSTOMERS, INVENTORY, ORDER_STATUS, PRODUCTS, SHIPMENTS, STOREFRONT_RESULTS
from sagebridge_devstack.processes import ManagedProcess, free_port
from sagebridge_sim.serve import BackgroundServer
from sagebridge_sim.xcart import XCartStore, create_app

from .conftest import read_all, wait_until

SHIPPED_PAIR = Path(__file__).resolve().parents[2] / "pairs" / "xcart-sage300.yaml"
MODULE_TOKEN = "it-module-token"
NOW = datetime.now(timezone.utc)


class StoreRig:
    """One X-Cart simulator, one pair file and one storefront-writer process for a test."""

    def __init__(self, bootstrap: str, serde, work: Path) -> None:
        self.bootstrap, self.serde, self.work = bootstrap, serde, work
        topics.apply(make_admin(Settings(kafka_bootstrap_servers=bootstrap)), topics.catalogue(4))
        self.pair_id = f"sfw-{uuid.uuid4().hex[:10]}"
        self.tag = uuid.uuid4().hex[:6].upper()
        self.store = XCartStore()
        self.app = create_app(self.store, token_read="r", token_all="w", module_token=MODULE_TOKEN)
        self.injector = self.app.state.injector
        self.server = BackgroundServer(self.app).start()
        pair = yaml.safe_load(SHIPPED_PAIR.read_text())
        pair["pair"] = self.pair_id
        pair["storefront"] = {"kind": "xcart", "base_url": self.server.url, "token": "w", "timeout_s": 5,
                              "module_token": MODULE_TOKEN, "rate_limit_per_s": 200, "rate_limit_burst": 50,
                              "sku_map_ttl_s": 1}
        (work / "pairs").mkdir(parents=True)
        (work / "pairs" / "pair.yaml").write_text(yaml.safe_dump(pair))
        self.ops_port = free_port()
        self.group = f"it-sfw-{self.pair_id}"
        self.writer: ManagedProcess | None = None
        self.producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                                  "linger.ms": 5})

    def sku(self, name: str) -> str:
        return f"{self.tag}-{name}"

    def start_writer(self, window_ms: int = 300) -> ManagedProcess:
        env = {"KAFKA_BOOTSTRAP_SERVERS": self.bootstrap, "PAIR_ID": self.pair_id,
               "PAIRS_PATH": str(self.work / "pairs"), "KAFKA_GROUP_ID": self.group,
               "OPS_HOST": "127.0.0.1", "OPS_PORT": str(self.ops_port), "RETRY_INITIAL_S": "0.1",
               "RETRY_MAX_S": "2", "PYTHONUNBUFFERED": "1", "COALESCE_WINDOW_MS": str(window_ms),
               "COALESCE_MAX_HOLD_MS": "3000"}
        self.writer = ManagedProcess("storefront-writer", [sys.executable, "-m", "sagebridge_storefront_writer.main"],
                                     env, self.work / "logs", ready_url=f"http://127.0.0.1:{self.ops_port}/readyz"
                                     ).start()
        self.writer.wait_ready(60)
        return self.writer

    # -- events ----------------------------------------------------------------------------------
    def meta(self, key: str) -> dict:
        return new_metadata("erp.change", source_system="sage300", source_instance="SAMINC",
                            source_entity_id=key, pair_id=self.pair_id, occurred_at=NOW)

    def stock(self, sku: str, quantity: int | str, version: int) -> tuple[str, str, str, dict]:
        key = f"{sku}|default"
        q = Decimal(quantity)
        return INVENTORY, key, "sagebridge.v2.InventoryLevel", {
            "metadata": self.meta(key), "sku": sku, "location": "default", "on_hand": q, "committed": Decimal(0),
            "available": q, "as_of": NOW, "quantity": q, "erp_item": sku, "erp_locations": ["1"],
            "source_version": f"{version:016d}|{sku}"}

    def product(self, sku: str, version: int, **fields) -> tuple[str, str, str, dict]:
        value = {"metadata": self.meta(sku), "sku": sku, "name": sku, "description": None, "price": None,
                 "currency": "USD", "active": True, "weight": None, "categories": [], "erp_item": sku,
                 "erp_category": None, "create_missing_categories": False, "deleted": False,
                 "source_version": f"{version:016d}|{sku}", **fields}
        return PRODUCTS, sku, "sagebridge.v2.Product", value

    def status(self, number: str, version: int, shipping: str) -> tuple[str, str, str, dict]:
        return ORDER_STATUS, number, "sagebridge.v3.OrderStatus", {
            "metadata": self.meta(number), "order_id": number, "order_number": "ORD" + number,
            "status": "complete", "fulfilment_status": "fulfilled", "changed_at": NOW,
            "shipping_status": shipping, "payment_status": None, "order_status": None, "hold_reason": None,
            "reference": None,
            "source_version": f"{version:016d}|{number}"}

    def shipment(self, number: str, version: int, tracking: str) -> tuple[str, str, str, dict]:
        return SHIPMENTS, number, "sagebridge.v2.Shipment", {
            "metadata": self.meta(number), "order_id": number, "order_number": "ORD" + number,
            "shipment_id": f"SH{version}", "carrier": "UPS", "service": None, "tracking_number": tracking,
            "shipped_at": NOW, "lines": [], "reference": None, "deleted": False,
            "source_version": f"{version:016d}|{number}"}

    def customer(self, idcust: str, email: str, version: int) -> tuple[str, str, str, dict]:
        address = {"name": "Kim Lee", "company": None, "line1": "9 Elm St", "line2": None, "city": "Austin",
                   "region": "Texas", "postal_code": "78701", "country": "US", "phone": "555-0101", "email": None,
                   "region_code": None, "erp_country": None}
        return ERP_CUSTOMERS, idcust, "sagebridge.v2.Customer", {
            "metadata": self.meta(idcust), "customer_id": idcust, "email": email, "email_key": email.lower(),
            "first_name": "Kim", "last_name": "Lee", "company": None, "phone": None, "is_guest": False,
            "billing_address": address, "shipping_address": None, "erp_customer_id": idcust,
            "new_customer_number": "", "created_at": NOW, "updated_at": NOW,
            "source_version": f"{version:016d}|{idcust}"}

    def produce(self, records) -> None:
        for topic, key, schema, value in records:
            self.producer.produce(topic, key=key.encode(), value=self.serde.serialize(schema, value))
            self.producer.poll(0)
        assert self.producer.flush(30) == 0

    # -- reading back ----------------------------------------------------------------------------
    def results(self) -> dict[str, list[dict]]:
        by: dict[str, list[dict]] = defaultdict(list)
        for m in read_all(self.bootstrap, STOREFRONT_RESULTS, idle=0.5):
            _s, v = self.serde.deserialize(m.value())
            if v["metadata"]["pair_id"] == self.pair_id:
                by[v["source_entity_id"]].append(v)
        return by

    def wait_results(self, keys: set[str]) -> dict[str, list[dict]]:
        def ready():
            by = self.results()
            return by if keys <= set(by) else None
        return wait_until(ready, timeout=120, interval=1.0, message=f"results for {len(keys)} keys")

    def dead_letters(self, topic: str) -> list[dict[str, str]]:
        out = []
        for m in read_all(self.bootstrap, dlq_topic(topic), idle=0.5):
            _s, v = self.serde.deserialize(m.value())
            if v["metadata"]["pair_id"] == self.pair_id:
                out.append({k: (b or b"").decode() for k, b in m.headers() or []})
        return out

    def amount(self, sku: str) -> int:
        return self.holder(sku)["record"]["amount"]

    def holder(self, sku: str) -> dict:
        r = httpx.get(f"{self.server.url}/_sim/products/by_sku/{sku}", timeout=10)
        r.raise_for_status()
        return r.json()

    def writes(self, kind: str | None = None) -> list[dict]:
        params = {"limit": 500_000} | ({"kind": kind} if kind else {})
        return httpx.get(f"{self.server.url}/_sim/writes", params=params, timeout=30).json()["writes"]

    def close(self) -> None:
        if self.writer:
            self.writer.stop()
        self.server.stop()


@pytest.fixture
def rig(bootstrap, serde, tmp_path):
    made: list[StoreRig] = []

    def make() -> StoreRig:
        made.append(StoreRig(bootstrap, serde, tmp_path / f"rig{len(made)}"))
        return made[-1]
    yield make
    for r in made:
        r.close()


def place_order(store: XCartStore) -> str:
    return store.create_order({"email": "ann@example.com", "shipping_code": "P", "payment_code": "P",
                               "items": [{"sku": "WIDGET-1", "name": "Widget", "price": Decimal("12.50"),
                                          "amount": 1}]})["order_number"]


def test_erp_events_end_in_the_store_field_by_field_and_an_unknown_sku_is_dead_lettered(rig):
    r = rig()
    plain, shirt, gone = r.sku("PLAIN"), r.sku("SHIRT"), r.sku("GONE")
    r.store.add_product(plain, "Plain", Decimal("10.00"), amount=1)
    pid, (vid,) = r.store.add_product_with_variants(shirt, "Shirt", Decimal("20.00"), [{"sku": shirt + "-M"}])
    tools = r.store.add_category("Tools")
    number = place_order(r.store)
    email = f"kim.{r.tag.lower()}@example.com"
    httpx.post(f"{r.server.url}/_sim/profiles", json={"login": email, "first_name": "Kim", "last_name": "Old",
                                                      "address": {"city": "Boston"}}).raise_for_status()
    r.start_writer()
    r.produce([r.stock(plain, 17, 1), r.stock(shirt + "-M", "-2", 1), r.stock(gone, 5, 1),
               r.product(plain, 1, price=Decimal("12.3400"), description="From Sage 300", active=False,
                         categories=["Tools"]),
               r.status(number, 1, "S"), r.shipment(number, 2, "1ZTRACK1"), r.customer(r.tag + "C1", email, 1)])
    by = r.wait_results({f"{plain}|default", f"{shirt}-M|default", f"{gone}|default", plain, number, r.tag + "C1"})
    holder = r.holder(plain)
    assert holder["record"]["amount"] == 17
    assert (holder["record"]["price"], holder["record"]["description"], holder["record"]["enabled"]) == (
        12.34, "From Sage 300", False)
    assert holder["categories"] == [tools]
    variant = r.holder(shirt + "-M")
    assert (variant["record"]["amount"], variant["variant_id"]) == (0, vid)      # clamped at 0
    oid = r.store._number_index[number]
    # Wait for both kinds: a redelivery (a rebalance at start) can give the shipment two results before
    # the status, which is coalesced, is written.
    wait_until(lambda: {v["entity_type"] for v in r.results()[number]} >= {"order_status", "shipment"},
               timeout=60, message="status and shipment results")
    assert r.store.get_status(oid, "shipping")["code"] == "S"
    assert [t["value"] for t in r.store.get_order(oid)["tracking_numbers"]] == ["1ZTRACK1"]
    pid = by[r.tag + "C1"][0]["reference"]
    [address] = httpx.get(f"{r.server.url}/api/profiles/{pid}/addresses",
                          headers={"X-Auth-Token": "r", "Accept": "application/json"}).json()
    assert {k: address[k] for k in ("firstname", "lastname", "street", "city", "zipcode", "state_name")} == {
        "firstname": "Kim", "lastname": "Lee", "street": "9 Elm St", "city": "Austin", "zipcode": "78701",
        "state_name": "Texas"}
    [dead] = r.dead_letters(INVENTORY)
    assert dead["sagebridge.error.reason"] == "unknown_sku" and gone in dead["sagebridge.error.exception.message"]
    [failed] = by[f"{gone}|default"]
    assert failed["outcome"] == "failed"
    assert {v["outcome"] for v in by[f"{plain}|default"]} == {"updated"}


def test_an_older_version_is_not_written_also_across_a_restart(rig):
    r = rig()
    sku, marker = r.sku("VER"), r.sku("MARK")
    for s in (sku, marker):
        r.store.add_product(s, s, Decimal("1.00"), amount=1)
    writer = r.start_writer()
    r.produce([r.stock(sku, 50, 5)])
    r.wait_results({f"{sku}|default"})
    r.produce([r.stock(sku, 30, 3)])
    wait_until(lambda: len(r.results()[f"{sku}|default"]) >= 2, timeout=60, message="the older version's result")
    writer.stop()
    r.start_writer()
    r.produce([r.stock(sku, 40, 4), r.stock(sku, 50, 5), r.stock(marker, 9, 1)])
    wait_until(lambda: len(r.results()[f"{sku}|default"]) >= 3 and r.results()[f"{marker}|default"],
               timeout=90, message="results after the restart")
    outcomes = [v["outcome"] for v in r.results()[f"{sku}|default"]]
    assert outcomes[0] == "updated" and set(outcomes[1:]) == {"skipped"}, outcomes
    assert r.amount(sku) == 50
    assert [w["body"]["amount"] for w in r.writes("product") if w["key"] == sku] == [50]


def test_throttled_store_429_then_503_loses_nothing_and_converges(rig):
    r = rig()
    skus = [r.sku(f"TH{i}") for i in range(20)]
    for s in skus:
        r.store.add_product(s, s, Decimal("1.00"), amount=1)
    r.start_writer()
    r.produce([r.stock(skus[0], 2, 1)])
    r.wait_results({f"{skus[0]}|default"})       # the SKU map is built; the writer is past its start
    # The shape: 429 for 10 s, then 503 for 20 s.
    r.injector.configure(mode="throttle", status=429, seconds=10, retry_after=1)
    switch = threading.Timer(10.0, lambda: r.injector.configure(mode="throttle", status=503, seconds=20, retry_after=2))
    switch.start()
    try:
        r.produce([r.stock(s, 100 + i, 10) for i, s in enumerate(skus)])
        by = r.wait_results({f"{s}|default" for s in skus})
        wait_until(lambda: all(any(v["outcome"] == "updated" and v["message"] == f"amount {100 + i}"
                                   for v in r.results()[f"{s}|default"]) for i, s in enumerate(skus)),
                   timeout=120, message="every SKU written after the throttle")
    finally:
        switch.cancel()
    assert [r.amount(s) for s in skus] == [100 + i for i in range(len(skus))]
    refused = {w["status"] for w in r.writes("product") if not w["ok"]}
    assert refused == {429, 503}, refused         # the writer really met both kinds of refusal
    assert r.dead_letters(INVENTORY) == []
    assert all(v["outcome"] != "failed" for vs in by.values() for v in vs)


def test_sigkill_mid_burst_ends_with_the_latest_quantities_and_no_older_write(rig):
    r = rig()
    skus = [r.sku(f"K{i}") for i in range(40)]
    for s in skus:
        r.store.add_product(s, s, Decimal("1.00"), amount=0)
    r.injector.configure(latency_ms=30, methods=["PUT"])
    writer = r.start_writer(window_ms=100)
    rounds = 30
    burst = [r.stock(s, n, n) for n in range(1, rounds + 1) for s in skus]     # quantity rises with the version
    feeder = threading.Thread(target=lambda: [r.produce(burst[i:i + 40]) or threading.Event().wait(0.05)
                                              for i in range(0, len(burst), 40)])
    feeder.start()
    wait_until(lambda: len([w for w in r.writes("product") if w["ok"]]) >= 40, timeout=60, message="writes under way")
    writer.kill()
    feeder.join(60)
    r.start_writer(window_ms=100)
    wait_until(lambda: all(r.amount(s) == rounds for s in skus), timeout=120, message="latest quantities")
    per_sku: dict[str, list[int]] = defaultdict(list)
    for w in r.writes("product"):
        if w["ok"] and w["key"] in skus:
            per_sku[w["key"]].append(w["body"]["amount"])
    for s in skus:
        assert per_sku[s] == sorted(per_sku[s]), f"{s} written out of order: {per_sku[s]}"
    assert sum(len(v) for v in per_sku.values()) < len(burst) / 3, "coalescing should write far fewer"
