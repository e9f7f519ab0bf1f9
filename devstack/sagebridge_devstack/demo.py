"""Demo traffic and the live view of what flows, for `sagebridge-dev up`."""
from __future__ import annotations

import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import httpx
from confluent_kafka import Consumer, TopicPartition

from sagebridge_common.avro_serde import SingleObjectSerde
from sagebridge_common.schemas import SchemaCatalog
from sagebridge_common.topics import ERP_RESULTS, ORDERS, STOREFRONT_RAW, catalogue

CATALOGUE = [("WIDGET-1", "Widget", "12.50"), ("GADGET-2", "Gadget", "3.25"), ("A1-105/0", "Bracket", "19.99")]


class DemoDriver:
    """Creates X-Cart orders at a steady rate, each paid at checkout (a sale transaction, so a
    Sage 300 receipt): about a third are guests (the template's default web customer), the rest
    registered customers, new ones and returning ones from a small pool (so a customer is found,
    not created again); about one in five pays with PayPal (its own bank code). About one in fifty
    has a SKU Sage 300 does not know, so the dead-letter path shows up in the view too."""

    def __init__(self, xcart_url: str, rate_per_s: float, bad_sku_ratio: float = 0.02,
                 guest_ratio: float = 0.35, returning: int = 20) -> None:
        self.url = xcart_url
        self.rate = rate_per_s
        self.bad_ratio = bad_sku_ratio
        self.guest_ratio = guest_ratio
        self.returning = returning
        self.created_ms: dict[str, int] = {}          # X-Cart order id -> when it was placed
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-driver", daemon=True)

    def start(self) -> "DemoDriver":
        if self.rate > 0:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _spec(self, n: int) -> dict:
        items = [{"sku": s, "name": name, "price": p, "amount": random.randint(1, 3)}
                 for s, name, p in random.sample(CATALOGUE, random.randint(1, 2))]
        if random.random() < self.bad_ratio:
            items.append({"sku": "DISCONTINUED-9", "name": "Old stock", "price": "1.00", "amount": 1})
        guest = random.random() < self.guest_ratio
        who = n if guest or random.random() < 0.5 else random.randint(1, self.returning)
        return {"guest": guest, "email": f"demo{who}@example.com", "first_name": "Demo", "last_name": f"Buyer{who}",
                "payment_code": "P", "shipping_method": random.choice(["UPS Ground", "FedEx"]),
                "payment_method": "PayPal" if random.random() < 0.2 else "Credit Card",
                "items": items, "shipping": "5.00", "tax": "1.20"}

    def _run(self) -> None:
        http = httpx.Client(timeout=10)
        n, interval, next_at = 0, 1.0 / self.rate, time.monotonic()
        while not self._stop.is_set():
            n += 1
            try:
                made = http.post(f"{self.url}/_sim/orders", json=self._spec(n)).json()
                self.created_ms[str(made["id"])] = made["created_at_ms"]     # an order result's source_entity_id
            except (httpx.HTTPError, KeyError, ValueError):
                self.errors += 1
            next_at += interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))


@dataclass
class FlowCounts:
    raw_orders: set = field(default_factory=set)
    canonical: set = field(default_factory=set)
    created: set = field(default_factory=set)
    already_present: int = 0
    failed: set = field(default_factory=set)
    customers: set = field(default_factory=set)       # Sage customer numbers the customer results name
    receipts: set = field(default_factory=set)        # payment references written
    dlq: int = 0
    latencies_ms: deque = field(default_factory=lambda: deque(maxlen=10_000))   # the recent ones: `up` may run for days


class FlowMonitor:
    """Reads the pipeline's topics (no consumer group, nothing committed) and keeps counts."""

    def __init__(self, bootstrap: str, driver: DemoDriver | None) -> None:
        self.serde = SingleObjectSerde(SchemaCatalog.load())
        self.driver = driver
        self.counts = FlowCounts()
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "sagebridge-dev-monitor",
                                   "enable.auto.commit": False, "fetch.wait.max.ms": 10})
        self._dlqs = {s.name for s in catalogue() if s.name.endswith(".dlq")}
        self._thread = threading.Thread(target=self._run, name="flow-monitor", daemon=True)

    def start(self) -> "FlowMonitor":
        topics = [STOREFRONT_RAW, ORDERS, ERP_RESULTS, *sorted(self._dlqs)]
        md = self._consumer.list_topics(timeout=10).topics
        self._consumer.assign([TopicPartition(t, p, 0) for t in topics if t in md for p in md[t].partitions])
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(3)
        self._consumer.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            msg = self._consumer.poll(0.2)
            if msg is None or msg.error():
                continue
            with self.lock:
                self._count(msg)

    def _count(self, msg) -> None:
        c, topic = self.counts, msg.topic()
        if topic in self._dlqs:
            c.dlq += 1
            return
        try:
            _name, v = self.serde.deserialize(msg.value())
        except Exception:
            return
        if topic == STOREFRONT_RAW and v["entity_type"] == "order":
            c.raw_orders.add(v["entity_id"])
        elif topic == ORDERS:
            c.canonical.add(v["order_id"])
        elif topic == ERP_RESULTS and v["entity_type"] != "order":
            # a customer an order's resolution created has no result of its own (one result per
            # input event), but its customer event (transform sends one per registered customer) has
            if v["entity_type"] == "customer" and v["outcome"] in ("created", "already_present", "updated"):
                c.customers.add(v["target_document_id"])
            elif v["entity_type"] == "payment" and v["outcome"] in ("created", "already_present"):
                c.receipts.add(v["reference"])
        elif topic == ERP_RESULTS:
            ref = v["reference"]
            if v["outcome"] == "created":
                c.created.add(ref)
                started = self.driver.created_ms.pop(v["source_entity_id"], None) if self.driver else None
                if started:
                    c.latencies_ms.append(v["metadata"]["recorded_at"].timestamp() * 1000 - started)
            elif v["outcome"] == "already_present":
                c.already_present += 1
            elif v["outcome"] == "failed":
                c.failed.add(ref)

    def snapshot(self) -> dict:
        with self.lock:
            c = self.counts
            lat = sorted(c.latencies_ms)
            pct = (lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else None)
            return {"orders seen": len(c.raw_orders), "canonical": len(c.canonical),
                    "created in Sage 300": len(c.created), "already present (deduplicated)": c.already_present,
                    "failed": len(c.failed), "in DLQ": c.dlq,
                    "customers in Sage 300": len(c.customers), "receipts": len(c.receipts),
                    "latency p50 (ms)": None if not lat else round(pct(0.5)),
                    "latency p99 (ms)": None if not lat else round(pct(0.99))}
