"""Payments and refunds: the customer resolved first (a receipt for an unknown customer would be
refused), one ERP document per transaction, and an over-refund refused before any ERP call."""
from __future__ import annotations

import pytest

from sagebridge_common.errors import PermanentError, classify
from sagebridge_common.topics import ERP_RESULTS, PAYMENTS, REFUNDS

from . import fakes
from .test_handler import Writer, event


@pytest.fixture
def pairs(make_pair):
    return {"a": make_pair(prefix="XC1-")}


def test_a_payment_is_one_receipt_for_the_resolved_customer(pairs):
    w = Writer(pairs)
    [link, result] = w.handle(event(PAYMENTS, fakes.payment("o1", "1001", "a", "t55")))
    [again] = [o for o in w.handle(event(PAYMENTS, fakes.payment("o1", "1001", "a", "t55"))) if o.topic == ERP_RESULTS]
    sage = w.sinks["a"]
    assert sage.customer_calls == [("ann@example.com", False)] and link.key == "a|ann@example.com"
    assert list(sage.receipts) == ["XC1-1001-Pt55"]
    assert sage.receipts["XC1-1001-Pt55"]["record"]["customer"]["erp_customer_id"] == "WANN"
    assert (result.value["entity_type"], result.value["outcome"], result.value["reference"],
            result.value["source_entity_id"]) == ("payment", "created", "XC1-1001-Pt55", "t55")
    assert again.value["outcome"] == "already_present"


def test_a_guest_payment_goes_to_the_default_customer(pairs):
    w = Writer(pairs)
    w.handle(event(PAYMENTS, fakes.payment("o1", "1001", "a", customer=fakes.order_customer(guest_default=True))))
    assert w.sinks["a"].calls["ensure_customer"] == 0
    assert w.sinks["a"].receipts["XC1-1001-Pt55"]["record"]["customer"]["erp_customer_id"] == "WEBCUST"


def test_a_refund_is_one_adjustment(pairs):
    w = Writer(pairs)
    outs = w.handle(event(REFUNDS, fakes.refund("o1", "1001", "a", "b7", amount="10.00", refunded="30.00")))
    [result] = [o.value for o in outs if o.topic == ERP_RESULTS]
    assert (result["entity_type"], result["outcome"], result["reference"]) == ("refund", "created", "XC1-1001-Rb7")
    assert w.sinks["a"].adjustments["XC1-1001-Rb7"]["record"]["customer"]["erp_customer_id"] == "WANN"


def test_an_over_refund_is_permanent_with_its_reason_and_calls_nothing(pairs):
    w = Writer(pairs)
    over = fakes.refund("o1", "1001", "a", "b8", amount="5.00", paid="30.00", refunded="30.01")
    with pytest.raises(PermanentError) as e:
        w.handle(event(REFUNDS, over))
    assert classify(e.value) == "permanent" and e.value.reason == "refund_exceeds_payment"
    assert "30.01" in str(e.value) and "30.00" in str(e.value)
    assert sum(w.sinks["a"].calls.values()) == 0
    [failed] = w.on_failure(event(REFUNDS, over), e.value)
    assert (failed.value["entity_type"], failed.value["outcome"], failed.value["reference"]) == (
        "refund", "failed", "XC1-1001-Rb8")
