"""Orders after creation: a repeat answers from state without an ERP call; a cancellation or an edit
of an order already in the ERP is reported as needs_attention, counted once, and never posted again."""
from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from sagebridge_common.topics import ERP_RESULTS, ERP_WRITER_ORDERS_CHANGELOG, ORDERS
from sagebridge_erp_writer.order_changes import changes, money, snapshot

from . import fakes
from .test_handler import Writer, event


@pytest.fixture
def pairs(make_pair):
    return {"a": make_pair(prefix="XC1-")}


def attention(pair: str, change: str) -> float:
    return REGISTRY.get_sample_value("sagebridge_erp_needs_attention_total",
                                     {"connector": "sage300", "pair": pair, "change": change}) or 0.0


def write(w: Writer, order: dict) -> tuple[dict, list]:
    outs = w.handle(event(ORDERS, order))
    [result] = [o.value for o in outs if o.topic == ERP_RESULTS]
    return result, [o for o in outs if o.topic == ERP_WRITER_ORDERS_CHANGELOG]


def test_a_repeat_of_a_written_order_needs_no_erp_call(pairs):
    w = Writer(pairs)
    first, [state] = write(w, fakes.order("o1", "1001", "a"))
    again, no_state = write(w, fakes.order("o1", "1001", "a", status="paid"))
    assert (first["outcome"], again["outcome"]) == ("created", "already_present")
    assert again["target_document_id"] == first["target_document_id"] == "ORD000001"
    assert w.sinks["a"].calls["ensure_order"] == 1 and no_state == []
    assert state.key == "a|o1" and state.partition == 0


def test_an_order_cancelled_after_creation_needs_attention_once(pairs):
    w = Writer(pairs)
    before = attention("a", "status")
    write(w, fakes.order("o1", "1001", "a"))
    cancelled = fakes.order("o1", "1001", "a", status="cancelled", ready=False)
    result, [state] = write(w, cancelled)
    assert (result["outcome"], result["message"]) == ("needs_attention", "status paid → cancelled")
    assert result["target_document_id"] == "ORD000001" and w.sinks["a"].calls["ensure_order"] == 1
    assert attention("a", "status") == before + 1
    repeat, no_state = write(w, cancelled)                      # redelivered: reported, not counted again
    assert repeat["outcome"] == "needs_attention" and no_state == []
    assert attention("a", "status") == before + 1 and w.sinks["a"].calls["ensure_order"] == 1


def test_status_total_and_lines_changes_are_all_named(pairs):
    w = Writer(pairs)
    before = {k: attention("a", k) for k in ("status", "total", "lines")}
    write(w, fakes.order("o1", "1001", "a"))
    edited = fakes.order("o1", "1001", "a", status="refunded", ready=False, total="25.00",
                         lines=[("WIDGET-1", "1", "12.50"), ("GADGET-2", "1", "7.50")])
    result, _ = write(w, edited)
    assert result["message"] == "status paid → refunded; total 30.00 → 25.00; lines changed (1 → 2 lines)"
    assert {k: attention("a", k) - before[k] for k in before} == {"status": 1, "total": 1, "lines": 1}


def test_a_forward_status_change_is_not_a_problem(pairs):
    w = Writer(pairs)
    write(w, fakes.order("o1", "1001", "a", status="authorized"))
    result, _ = write(w, fakes.order("o1", "1001", "a", status="paid"))
    assert result["outcome"] == "already_present" and w.sinks["a"].calls["ensure_order"] == 1


def test_an_order_skipped_first_is_written_when_it_becomes_ready(pairs):
    w = Writer(pairs)
    skipped, no_state = write(w, fakes.order("o1", "1001", "a", status="awaiting_payment", ready=False))
    created, [_state] = write(w, fakes.order("o1", "1001", "a"))
    assert (skipped["outcome"], created["outcome"], no_state) == ("skipped", "created", [])


def test_the_same_lines_in_another_order_or_scale_are_not_a_change():
    order = fakes.order("o1", "1001", "a", lines=[("A", "1", "2.50"), ("B", "2", "1")])
    written = snapshot(order, "ORD1")
    same = fakes.order("o1", "1001", "a", lines=[("B", "2.0", "1.00"), ("A", "1", "2.5")])
    assert changes(written, same) == []
    assert money("30.0000") == "30.00" and money("0.1250") == "0.125"
