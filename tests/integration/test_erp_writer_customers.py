"""erp-writer on the real broker with a Sage-like fake ERP (services/erp_writer/tests/fakes.py, which
creates customers by a deterministic number with RecordDuplicate semantics): three orders of one new
e-mail on different partitions, taken by two writer instances at once, make one customer; the
customer link survives a restart (the second run asks the ERP nothing about the customer); an
over-refund goes to the refunds DLQ with its reason while the next refund of the same order is
written. Writers run in threads (`main.build`, the service's own wiring) so the fake is shared.

The Sage 300 simulator test (orders only, what the connector on main supports): an order cancelled
after it was created becomes needs_attention, with one POST, a metric, and a repeat costs no call.
"""
from __future__ import annotations

import importlib.util
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest
import yaml

from sagebridge_common import registry, topics
from sagebridge_common.dead_letter import ERROR_PREFIX, dlq_topic, header_dict
from sagebridge_common.kafka_clients import make_admin
from sagebridge_common.pairs import ConnectorConfig
from sagebridge_common.settings import Settings
from sagebridge_common.topics import ERP_RESULTS, ORDERS, REFUNDS
from sagebridge_erp_writer.config import ErpWriterSettings
from sagebridge_erp_writer.main import build

from .conftest import RunsInThread, read_all, wait_until
from .test_erp_writer_exactly_once import SHIPPED_PAIR, WriterRig

_spec = importlib.util.spec_from_file_location(
    "erp_writer_fakes", Path(__file__).resolve().parents[2] / "services" / "erp_writer" / "tests" / "fakes.py")
fakes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fakes)

SCHEMAS = {"order": "sagebridge.v3.Order", "payment": "sagebridge.v2.Payment", "refund": "sagebridge.v2.Refund"}
FAKES: dict[str, object] = {}


class FakeErpConfig(ConnectorConfig):
    instance: str


registry.register_config("erp", "fakesage", FakeErpConfig)


@registry.register("erp_sink", "fakesage")
def _fake_sink(pair):
    return FAKES[pair.erp.instance]


class Writer(RunsInThread):
    def __init__(self, settings: ErpWriterSettings) -> None:
        self.app = build(settings)


class FakeRig:
    """One pair on the shared topics with a FakeSage behind it, and writers for it."""

    def __init__(self, bootstrap: str, serde, work: Path) -> None:
        topics.apply(make_admin(Settings(kafka_bootstrap_servers=bootstrap)), topics.catalogue(4))
        self.bootstrap, self.serde = bootstrap, serde
        self.pair_id = f"t-{uuid.uuid4().hex[:10]}"
        self.sage = fakes.FakeSage(prefix="XC1-", race_window_s=0.3)
        FAKES[self.pair_id] = self.sage
        pair = yaml.safe_load(SHIPPED_PAIR.read_text())
        pair.update(pair=self.pair_id)
        pair["storefront"] = {"kind": "xcart", "base_url": "http://127.0.0.1:9"}
        pair["erp"] = {"kind": "fakesage", "instance": self.pair_id}
        self.pairs = work / "pairs"
        self.pairs.mkdir()
        (self.pairs / "pair.yaml").write_text(yaml.safe_dump(pair))
        self.group = f"it-erpw-{self.pair_id}"
        from confluent_kafka import Producer
        self.producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5})

    def writer(self) -> Writer:
        return Writer(ErpWriterSettings(kafka_bootstrap_servers=self.bootstrap, pairs_path=str(self.pairs),
                                        pair_id=self.pair_id, kafka_group_id=self.group, ops_port=0,
                                        ops_host="127.0.0.1", retry_initial_s=0.1, retry_max_s=1))

    def produce(self, topic: str, entity: str, records: list[dict], partitions: list[int] | None = None) -> None:
        for i, r in enumerate(records):
            pinned = {} if partitions is None else {"partition": partitions[i]}
            self.producer.produce(topic, key=r["order_id"].encode(), value=self.serde.serialize(SCHEMAS[entity], r),
                                  **pinned)
        assert self.producer.flush(30) == 0

    def results(self, expect: int) -> list[dict]:
        def mine() -> list[dict] | None:
            found = [v for m in read_all(self.bootstrap, ERP_RESULTS, idle=0.5)
                     for _s, v in [self.serde.deserialize(m.value())] if v["metadata"]["pair_id"] == self.pair_id]
            return found if len(found) >= expect else None
        return wait_until(mine, timeout=90, interval=1.0, message=f"{expect} results")


@pytest.fixture
def fake_rig(bootstrap, serde, tmp_path):
    rig = FakeRig(bootstrap, serde, tmp_path)
    yield rig
    FAKES.pop(rig.pair_id, None)


def test_three_orders_of_one_new_email_on_different_partitions_make_one_customer(fake_rig):
    r = fake_rig
    with r.writer() as first, r.writer() as second:
        wait_until(lambda: first.app.links.ready()[0] and second.app.links.ready()[0], 30, message="link tables")
        orders = [fakes.order(f"{r.pair_id}-o{i}", f"7{i}", r.pair_id,
                              customer=fakes.order_customer(email)) for i, email in
                  enumerate(["New.Shopper@Example.com", "new.shopper@example.com", " NEW.SHOPPER@example.com"])]
        r.produce(ORDERS, "order", orders, partitions=[0, 1, 2])
        results = r.results(3)
    assert Counter(v["outcome"] for v in results) == {"created": 3}
    assert r.sage.created_customers == 1, f"{r.sage.created_customers} customers for one e-mail"
    assert {o["order"]["customer"]["erp_customer_id"] for o in r.sage.orders.values()} == {"WNEW.SHOPPER"}
    assert r.sage.calls["ensure_customer"] <= 2         # at most one per instance: the lock map holds in each


def test_a_customer_link_survives_a_restart(fake_rig):
    r = fake_rig
    with r.writer():
        r.produce(ORDERS, "order", [fakes.order(f"{r.pair_id}-a", "801", r.pair_id)])
        r.results(1)
    assert r.sage.calls["ensure_customer"] == 1
    with r.writer() as restarted:
        r.produce(ORDERS, "order", [fakes.order(f"{r.pair_id}-b", "802", r.pair_id,
                                                customer=fakes.order_customer("ANN@example.com"))])
        results = r.results(2)
        assert restarted.app.links.get(f"{r.pair_id}|ann@example.com")["erp_customer_id"] == "WANN"
    assert Counter(v["outcome"] for v in results) == {"created": 2}
    assert r.sage.calls["ensure_customer"] == 1, "the restarted writer looked the customer up again"
    assert r.sage.orders["XC1-802"]["order"]["customer"]["erp_customer_id"] == "WANN"


def test_an_over_refund_goes_to_the_dlq_with_its_reason_and_the_next_refund_is_written(fake_rig):
    r = fake_rig
    order_id = f"{r.pair_id}-r"
    over = fakes.refund(order_id, "901", r.pair_id, "b1", amount="40.00", paid="30.00", refunded="40.00")
    fine = fakes.refund(order_id, "901", r.pair_id, "b2", amount="10.00", paid="30.00", refunded="10.00")
    with r.writer():
        r.produce(REFUNDS, "refund", [over, fine])          # same key: the second waits behind the first
        results = {v["source_entity_id"]: v for v in r.results(2)}
    assert (results["b1"]["outcome"], results["b2"]["outcome"]) == ("failed", "created")
    assert "more than the 30.00 paid" in results["b1"]["message"]
    assert list(r.sage.adjustments) == ["XC1-901-Rb2"] and r.sage.calls["ensure_refund"] == 1

    def dead() -> list | None:
        found = [m for m in read_all(r.bootstrap, dlq_topic(REFUNDS), idle=0.5)
                 if r.serde.deserialize(m.value())[1]["metadata"]["pair_id"] == r.pair_id]
        return found or None
    [record] = wait_until(dead, timeout=30, interval=1.0, message="the over-refund on the DLQ")
    assert r.serde.deserialize(record.value())[1]["refund_id"] == "b1"
    assert header_dict(record.headers())[ERROR_PREFIX + "reason"] == "refund_exceeds_payment"


@pytest.fixture
def sage_rig(bootstrap, serde, tmp_path):
    made: list[WriterRig] = []
    yield lambda: made.append(WriterRig(bootstrap, serde, tmp_path)) or made[-1]
    for rig in made:
        rig.close()


def test_an_order_cancelled_after_creation_needs_attention_with_one_post_to_sage(sage_rig, serde):
    r = sage_rig()
    order = fakes.order(f"{r.pair_id}-c", str(uuid.uuid4().int % 10_000_000), r.pair_id,
                        customer=fakes.order_customer(guest_default=True))
    cancelled = {**order, "status": "cancelled", "ready_for_erp": False}

    def produce(value: dict) -> None:
        r.producer.produce(ORDERS, key=value["order_id"].encode(), value=serde.serialize(SCHEMAS["order"], value))
        assert r.producer.flush(30) == 0

    r.start_writer()
    reference = f"XC1-{order['order_number']}"
    produce(order)
    [created] = r.results(1)[reference]
    calls = r.api_calls()
    produce(order)              # the same version again: answered from the writer's state
    produce(cancelled)
    outcomes = wait_until(lambda: (lambda vs: vs if len(vs) >= 3 else None)(r.results(1)[reference]), 60,
                          message="three results")
    assert [v["outcome"] for v in outcomes] == ["created", "already_present", "needs_attention"]
    assert outcomes[2]["message"] == "status paid → cancelled"
    assert outcomes[2]["target_document_id"] == created["target_document_id"]
    assert r.api_calls() == calls, "the repeat or the cancellation called Sage"
    assert r.sage_refs()[reference] == 1
    text = httpx.get(f"http://127.0.0.1:{r.ops_port}/metrics").text
    assert (f'sagebridge_erp_needs_attention_total{{change="status",connector="sage300",pair="{r.pair_id}"}} 1.0'
            in text)
