"""The handler routes by topic and by pair: each event goes to its pair's sink, every outcome becomes
a WriteResult with the pair's reference, and a dead-lettered record of any topic gets a `failed`
result. The fixtures' records are checked against the real Avro schemas, so the fakes cannot drift
from what transform produces."""
from __future__ import annotations

import pytest

from sagebridge_common.avro_serde import SingleObjectSerde
from sagebridge_common.errors import PermanentError
from sagebridge_common.events import Event
from sagebridge_common.keyed_state import KeyedState
from sagebridge_common.schemas import SchemaCatalog
from sagebridge_common.settings import Settings
from sagebridge_common.topics import CUSTOMERS, ERP_RESULTS, ERP_WRITER_ORDERS_CHANGELOG, ORDERS, PAYMENTS, REFUNDS
from sagebridge_erp_writer.handler import make_handler

from . import fakes

SCHEMAS = {ORDERS: "sagebridge.v3.Order", CUSTOMERS: "sagebridge.v2.Customer", PAYMENTS: "sagebridge.v2.Payment",
           REFUNDS: "sagebridge.v2.Refund"}


def event(topic: str, value: dict, key: str | None = None, partition: int = 0, offset: int = 0) -> Event:
    return Event(topic, partition, offset, (key or value.get("order_id") or value["customer_id"]).encode(),
                 SCHEMAS[topic], value, [], 0)


class Writer:
    """The handler with fake sinks, an in-memory link table and unmanaged keyed state."""

    def __init__(self, pairs: dict, sinks: dict | None = None, links: fakes.MemoryLinks | None = None) -> None:
        self.sinks = sinks or {pid: fakes.FakeSage(prefix=p.reference_prefix) for pid, p in pairs.items()}
        self.links = links or fakes.MemoryLinks()
        self.state = KeyedState(Settings(), "orders", ORDERS, ERP_WRITER_ORDERS_CHANGELOG)
        self.handle, self.on_failure = make_handler(self.sinks, pairs, links=self.links, order_state=self.state)

    def results(self, topic: str, value: dict, **kw) -> list[dict]:
        return [o.value for o in self.handle(event(topic, value, **kw)) if o.topic == ERP_RESULTS]


@pytest.fixture
def two_pairs(make_pair):
    return {"a": make_pair(prefix="XC1-"), "b": make_pair(prefix="S2-")}


def test_the_fixture_records_match_the_schemas():
    serde = SingleObjectSerde(SchemaCatalog.load())
    for topic, value in ((ORDERS, fakes.order("o1", "1001", "a")), (PAYMENTS, fakes.payment("o1", "1001", "a")),
                         (REFUNDS, fakes.refund("o1", "1001", "a")), (CUSTOMERS, fakes.customer("a"))):
        assert serde.deserialize(serde.serialize(SCHEMAS[topic], value))[0] == SCHEMAS[topic]


def test_orders_are_routed_by_pair_and_carry_its_reference(two_pairs):
    w = Writer(two_pairs)
    guest = fakes.order_customer(guest_default=True)
    [a] = w.results(ORDERS, fakes.order("o1", "1001", "a", customer=guest))
    [b] = w.results(ORDERS, fakes.order("o1", "1001", "b", customer=guest))
    assert set(w.sinks["a"].orders) == {"XC1-1001"} and set(w.sinks["b"].orders) == {"S2-1001"}
    assert (a["reference"], a["outcome"], a["target_document_id"]) == ("XC1-1001", "created", "ORD000001")
    assert (b["reference"], b["entity_type"], b["target_system"]) == ("S2-1001", "order", "sage300")


def test_not_exported_orders_are_skipped_without_a_call(two_pairs):
    w = Writer(two_pairs)
    [out] = w.results(ORDERS, fakes.order("o1", "1001", "a", status="declined", ready=False))
    assert out["outcome"] == "skipped" and out["message"] == "status declined is not exported"
    assert sum(w.sinks["a"].calls.values()) == 0


def test_an_event_of_a_pair_without_a_sink_is_permanent_and_reported(two_pairs):
    w = Writer({"a": two_pairs["a"]})
    for topic, value in ((ORDERS, fakes.order("o1", "1001", "zzz")), (PAYMENTS, fakes.payment("o1", "1001", "zzz"))):
        with pytest.raises(PermanentError) as e:
            w.handle(event(topic, value))
        assert e.value.reason == "unknown_pair"
        [failed] = w.on_failure(event(topic, value), e.value)
        assert failed.value["outcome"] == "failed" and failed.value["target_system"] == "unknown"
    [failed] = w.on_failure(event(ORDERS, fakes.order("o1", "1001", "a")), RuntimeError("boom"))
    assert failed.value["reference"] == "XC1-1001" and failed.value["message"] == "boom"


def test_failed_results_name_the_entity_of_each_topic(two_pairs):
    w = Writer(two_pairs)
    cases = {PAYMENTS: (fakes.payment("o1", "1001", "a", "t9"), "payment", "t9", "XC1-1001-Pt9"),
             REFUNDS: (fakes.refund("o1", "1001", "a", "b3"), "refund", "b3", "XC1-1001-Rb3"),
             CUSTOMERS: (fakes.customer("a", "Ann@Example.com", "42"), "customer", "42", "ann@example.com")}
    for topic, (value, entity, source_id, reference) in cases.items():
        [failed] = w.on_failure(event(topic, value), RuntimeError("x"))
        v = failed.value
        assert (v["entity_type"], v["source_entity_id"], v["reference"], v["outcome"]) == (
            entity, source_id, reference, "failed"), topic
        assert failed.key == source_id
