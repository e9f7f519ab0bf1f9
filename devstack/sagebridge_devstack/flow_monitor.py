"""What flows, both ways, for the live view of `sagebridge-dev up`.

Store -> ERP (X-Cart, Shift4Shop or 3dcart SOAP; the topics are the same): orders seen on storefront.raw.v1, canonical on commerce.orders.v1, created in
Sage 300 on erp.results.v1; latency from the order's creation in the store to its result.
ERP -> store: storefront.results.v1, one WriteResult per stock, product (price, enabled), shipment,
order status or customer event written to X-Cart. Each result carries the metadata of the ERP row it
came from (transform and the writer derive theirs from erp.raw.v1's), so its latency is the result's
`recorded_at` minus `occurred_at`, the row's AUDTDATE/AUDTTIME read as UTC: from the commit in Sage
300 to the write in X-Cart. Rows stamped before the monitor started (the first full read of the
tables at start) are counted but left out of the latencies.
"""
from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime, timezone

from confluent_kafka import Consumer, TopicPartition

from sagebridge_common.avro_serde import SingleObjectSerde
from sagebridge_common.schemas import SchemaCatalog
from sagebridge_common.topics import ERP_RESULTS, ORDERS, STOREFRONT_RAW, STOREFRONT_RESULTS, catalogue

# storefront.results.v1 entity_type -> label in the view (ERP -> store)
STORE_KINDS = {"inventory": "stock", "product": "products", "shipment": "shipments",
               "order_status": "order status", "customer": "customers"}
LATENCY_KINDS = ("inventory", "product", "shipment")       # the ones the view gives latencies for
RECENT = 10_000                                            # latency samples kept: `up` may run for days


def _recent() -> deque:
    return deque(maxlen=RECENT)


@dataclass
class FlowCounts:
    raw_orders: set = field(default_factory=set)
    canonical: set = field(default_factory=set)
    created: set = field(default_factory=set)
    already_present: int = 0
    failed: set = field(default_factory=set)
    customers: set = field(default_factory=set)       # Sage customer numbers the customer results name
    receipts: set = field(default_factory=set)        # payment references written
    dlq: int = 0                                      # store -> ERP dead letters
    latencies_ms: deque = field(default_factory=_recent)
    # ERP -> store
    written: Counter = field(default_factory=Counter)           # entity_type -> results `updated`
    unchanged: int = 0                                           # already_present / skipped
    store_failed: int = 0
    store_dlq: int = 0
    store_latencies_ms: dict = field(default_factory=lambda: {k: _recent() for k in LATENCY_KINDS})


def _pct(values, q: float) -> int | None:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))]) if ordered else None


def _ms(value: datetime) -> float:
    return value.timestamp() * 1000


class FlowMonitor:
    """Reads the pipeline's topics (no consumer group, nothing committed) and keeps counts.
    `driver` (the store-side demo) gives order creation times; `erp_driver` (the ERP-side demo) is
    told of every order created in Sage 300, so it can ship some of them."""

    def __init__(self, bootstrap: str, driver=None, erp_driver=None, store_name: str = "X-Cart") -> None:
        self.store_name = store_name          # the view's title; the figures are the same for every store
        self.serde = SingleObjectSerde(SchemaCatalog.load())
        self.driver = driver
        self.erp_driver = erp_driver
        self.counts = FlowCounts()
        self.lock = threading.Lock()
        self.started = datetime.now(timezone.utc)
        self._stop = threading.Event()
        self._consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "sagebridge-dev-monitor",
                                   "enable.auto.commit": False, "fetch.wait.max.ms": 10})
        self._dlqs = {s.name for s in catalogue() if s.name.endswith(".dlq")}
        self._thread = threading.Thread(target=self._run, name="flow-monitor", daemon=True)

    def start(self) -> "FlowMonitor":
        self.started = datetime.now(timezone.utc)
        topics = [STOREFRONT_RAW, ORDERS, ERP_RESULTS, STOREFRONT_RESULTS, *sorted(self._dlqs)]
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
            if topic.startswith("erp."):                 # erp.raw.v1 and the ERP-origin events
                c.store_dlq += 1
            else:
                c.dlq += 1
            return
        try:
            _name, v = self.serde.deserialize(msg.value())
        except Exception:
            return
        if topic == STOREFRONT_RESULTS:
            self._count_store_write(v)
        elif topic == STOREFRONT_RAW and v["entity_type"] == "order":
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
            self._count_order(v)

    def _count_order(self, v: dict) -> None:
        c, ref = self.counts, v["reference"]
        if v["outcome"] == "created":
            c.created.add(ref)
            started = self.driver.created_ms.pop(v["source_entity_id"], None) if self.driver else None
            if started:
                c.latencies_ms.append(_ms(v["metadata"]["recorded_at"]) - started)
            if self.erp_driver:
                self.erp_driver.order_reached_sage(v["target_document_id"])
        elif v["outcome"] == "already_present":
            c.already_present += 1
        elif v["outcome"] == "failed":
            c.failed.add(ref)

    def _count_store_write(self, v: dict) -> None:
        c, kind, meta = self.counts, v["entity_type"], v["metadata"]
        if v["outcome"] == "updated":
            c.written[kind] += 1
            occurred = meta.get("occurred_at")
            if kind in c.store_latencies_ms and occurred and occurred >= self.started:
                c.store_latencies_ms[kind].append(_ms(meta["recorded_at"]) - _ms(occurred))
        elif v["outcome"] == "failed":
            c.store_failed += 1
        else:
            c.unchanged += 1

    def snapshot(self) -> dict:
        """Label -> figure, store -> ERP first, then ERP -> store (view.SECTIONS splits them)."""
        with self.lock:
            c = self.counts
            out = {"orders seen": len(c.raw_orders), "canonical": len(c.canonical),
                   "created in Sage 300": len(c.created), "already present (deduplicated)": c.already_present,
                   "failed": len(c.failed), "in DLQ": c.dlq,
                   "customers in Sage 300": len(c.customers), "receipts": len(c.receipts),
                   "latency p50 (ms)": _pct(c.latencies_ms, 0.5), "latency p99 (ms)": _pct(c.latencies_ms, 0.99)}
            made = self.erp_driver.made if self.erp_driver else Counter()
            out["ERP changes made"] = sum(made.values())
            for kind, label in STORE_KINDS.items():
                out[f"{label} written to {self.store_name}"] = c.written[kind]
            out |= {"unchanged or superseded": c.unchanged, "store writes failed": c.store_failed,
                    "ERP-side DLQ": c.store_dlq}
            for kind in LATENCY_KINDS:
                label = STORE_KINDS[kind]
                out[f"{label} latency p50 (ms)"] = _pct(c.store_latencies_ms[kind], 0.5)
                out[f"{label} latency p99 (ms)"] = _pct(c.store_latencies_ms[kind], 0.99)
            return out
