"""The thin handler: each order goes to its pair's sink, and the sink's outcome becomes a
WriteResult with the pair's reference."""
from __future__ import annotations

import pytest

from sagebridge_common.contracts import WriteOutcome
from sagebridge_common.errors import PermanentError
from sagebridge_common.events import Event
from sagebridge_common.topics import ERP_RESULTS
from sagebridge_erp_writer.handler import make_handler

from .conftest import canonical_order


class FakeSink:
    kind = "sage300"

    def __init__(self, outcome: WriteOutcome) -> None:
        self.outcome, self.seen = outcome, []

    def ensure_order(self, order):
        self.seen.append(order["order_number"])
        return self.outcome


def event(pair_id: str, ready: bool = True, number: str = "1001") -> Event:
    order = {**canonical_order(number), "ready_for_erp": ready, "status": "paid" if ready else "declined",
             "metadata": {"pair_id": pair_id, "event_id": "e", "event_type": "order.created"}}
    return Event("commerce.orders.v1", 0, 0, b"k", "sagebridge.v1.Order", order, [], 0)


@pytest.fixture
def two_pairs(make_pair):
    return {"a": make_pair(prefix="XC1-"), "b": make_pair(prefix="S2-")}


def test_orders_are_routed_by_pair_and_carry_its_reference(two_pairs):
    sinks = {"a": FakeSink(WriteOutcome("created", "ORD1")),
             "b": FakeSink(WriteOutcome("created_with_mismatch", "ORD2", "totals differ"))}
    handle, _ = make_handler(sinks, two_pairs)
    [out_a] = handle(event("a"))
    [out_b] = handle(event("b"))
    assert sinks["a"].seen == ["1001"] and sinks["b"].seen == ["1001"]
    assert out_a.topic == ERP_RESULTS and out_a.value["reference"] == "XC1-1001"
    assert (out_a.value["outcome"], out_a.value["target_document_id"]) == ("created", "ORD1")
    assert out_b.value["reference"] == "S2-1001" and out_b.value["outcome"] == "created_with_mismatch"
    assert out_b.value["message"] == "totals differ" and out_b.value["target_system"] == "sage300"


def test_not_exported_orders_are_skipped_without_a_call(two_pairs):
    sinks = {"a": FakeSink(WriteOutcome("created")), "b": FakeSink(WriteOutcome("created"))}
    handle, _ = make_handler(sinks, two_pairs)
    [out] = handle(event("a", ready=False))
    assert out.value["outcome"] == "skipped" and sinks["a"].seen == []


def test_an_order_of_a_pair_without_a_sink_is_permanent_and_reported(two_pairs):
    handle, on_failure = make_handler({"a": FakeSink(WriteOutcome("created"))}, {"a": two_pairs["a"]})
    with pytest.raises(PermanentError) as e:
        handle(event("zzz"))
    assert e.value.reason == "unknown_pair"
    [failed] = on_failure(event("zzz"), e.value)
    assert failed.value["outcome"] == "failed" and failed.value["reference"] == "1001"
    [failed] = on_failure(event("a"), RuntimeError("boom"))
    assert failed.value["reference"] == "XC1-1001" and failed.value["message"] == "boom"
