"""X-Cart payment transactions → payments and refunds (completed movements only, ids per store,
paid/refunded totals in store order), and a new order version does not emit them again."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from sagebridge_common.errors import PermanentError
from sagebridge_common.topics import ORDERS, PAYMENTS, REFUNDS
from sagebridge_transform.handler import make_handler

from .test_xcart_order import PAIRS, fresh_state, pairs_with, raw_event, xcart_order


def txn(id_, type_, value, status="S", name="Credit Card", date="2024-11-05T15:42:10+0000", backend=()):
    return {"id": id_, "public_id": f"P{id_}", "method_id": 2, "type": type_, "date": date, "status": status,
            "name": name, "local_name": name, "currency": "USD", "value": value, "note": "", "data": [],
            "backend_transactions": list(backend)}


def backend(id_, type_, value, status="S", date="2024-11-06T10:00:00+0000"):
    return {"id": id_, "type": type_, "date": date, "status": status, "value": value, "data": []}


def emitted(txns, pairs=None, **order_over):
    outputs = make_handler(pairs or PAIRS, fresh_state())(raw_event(xcart_order(**order_over), txns))
    return [o for o in outputs if o.topic == PAYMENTS], [o for o in outputs if o.topic == REFUNDS]


def test_a_completed_sale_is_one_payment_with_bank_and_receipt_type():
    [p], refunds = emitted([txn(9, "sale", 38.3)])
    v = p.value
    assert (p.key, p.schema, refunds) == ("1051", "sagebridge.v2.Payment", [])
    assert (v["transaction_id"], v["order_id"], v["order_number"], v["amount"], v["currency"]) == (
        "t9", "1051", "00042", Decimal("38.3"), "USD")
    assert (v["method"], v["method_code"], v["bank_code"], v["receipt_type"]) == ("Credit Card", "CC", "SEATAC",
                                                                                  "Prepayment")
    assert v["captured_at"] == datetime(2024, 11, 5, 15, 42, 10, tzinfo=timezone.utc)
    assert v["customer"]["email_key"] == "ann@example.com" and v["metadata"]["event_type"] == "payment.captured"
    assert (v["fee_amount"], v["fee_expense_account"], v["fee_clearing_account"]) == (None, None, None)


def test_captures_of_an_authorisation_are_payments_the_authorisation_is_not():
    auth = txn(10, "auth", 50, backend=[backend(31, "capturePart", 20), backend(32, "capture", 30),
                                        backend(33, "capture", 5, status="F")])
    payments, _ = emitted([auth])
    assert [(p.value["transaction_id"], p.value["amount"]) for p in payments] == [("b31", 20), ("b32", 30)]


@pytest.mark.parametrize("status", ["F", "P", "W", "I", "C", "V", "Credit Card"])   # 5.5.0 puts the name in status
def test_only_completed_transactions_are_money(status):
    assert emitted([txn(9, "sale", 38.3, status=status)]) == ([], [])


def test_refunds_backend_and_main_with_paid_and_running_refunded_totals_in_store_order():
    sale = txn(9, "sale", 100, backend=[backend(41, "refundPart", 30, date="2024-11-07T09:00:00+0000"),
                                        backend(42, "refund", 10, status="F")])
    main_refund = txn(12, "refund", 25, date="2024-11-06T09:00:00+0000")
    [p], refunds = emitted([sale, main_refund])
    got = [(r.key, r.value["refund_id"], r.value["amount"], r.value["paid_total"], r.value["refunded_total"],
            r.value["payment_transaction_id"]) for r in refunds]
    assert got == [("1051", "t12", 25, 100, 25, None),            # earlier in the store: counted first
                   ("1051", "b41", 30, 100, 55, "t9")]
    r = refunds[1].value
    assert (r["gl_account"], r["distribution_code"], r["lines"], r["currency"]) == ("4030", None, [], "USD")
    assert refunds[0].schema == "sagebridge.v2.Refund" and r["metadata"]["event_type"] == "refund.created"


def test_an_over_refund_is_passed_on_for_the_writer_to_refuse():
    _, [r] = emitted([txn(9, "sale", 10, backend=[backend(41, "refund", 15)])])
    assert (r.value["paid_total"], r.value["refunded_total"]) == (10, 15)


def test_a_refund_of_a_capture_names_the_capture():
    auth = txn(10, "auth", 50, backend=[backend(31, "capture", 50), backend(35, "refundPart", 5)])
    _, [r] = emitted([auth])
    assert r.value["payment_transaction_id"] == "b31"


def test_payment_method_codes_pick_the_bank_and_fees_when_enabled():
    fees = {"enabled": True, "expense_account": "6100", "clearing_account": "1020",
            "methods": {"CC": {"percent": "2.9", "fixed": "0.30"}}}
    pairs = pairs_with(payments={"methods": {"PAYPAL": {"bank_code": "PAYPAL", "receipt_type": "Receipt"},
                                             "default": {"bank_code": "SEATAC"}}, "fees": fees})
    payments, _ = emitted([txn(9, "sale", 100), txn(11, "sale", 20, name="PayPal")], pairs)
    cc, pp = (p.value for p in payments)
    assert (cc["bank_code"], cc["fee_amount"], cc["fee_expense_account"], cc["fee_clearing_account"]) == (
        "SEATAC", Decimal("3.20"), "6100", "1020")
    assert (pp["method_code"], pp["bank_code"], pp["receipt_type"], pp["fee_amount"]) == ("PAYPAL", "PAYPAL",
                                                                                          "Receipt", None)


def test_a_payment_code_without_a_bank_is_a_clear_permanent_error():
    with pytest.raises(PermanentError) as e:
        emitted([txn(9, "sale", 38.3)], pairs_with(payments={"methods": {"PAYPAL": {"bank_code": "PAYPAL"}}}))
    assert e.value.reason == "payment_method_not_mapped" and "'CC'" in str(e.value)


def test_refunds_need_the_gl_account():
    with pytest.raises(PermanentError) as e:
        emitted([txn(9, "sale", 10, backend=[backend(41, "refund", 5)])], pairs_with(refunds={}))
    assert e.value.reason == "refund_account_not_set"


@pytest.mark.parametrize("bad", [{"value": "lots"}, {"date": "yesterday"}, {"id": None}])
def test_unreadable_transactions_are_permanent(bad):
    with pytest.raises(PermanentError) as e:
        emitted([{**txn(9, "sale", 10), **bad}])
    assert e.value.reason == "invalid_transaction"


def test_a_new_order_version_does_not_emit_payments_and_refunds_again():
    h = make_handler(PAIRS, fresh_state())
    sale = txn(9, "sale", 100)
    first = h(raw_event(xcart_order(), [sale], offset=1, source_version="20241105154500-aa"))
    assert [o.value["transaction_id"] for o in first if o.topic == PAYMENTS] == ["t9"]
    refunded = {**sale, "backend_transactions": [backend(41, "refundPart", 30)]}
    second = h(raw_event(xcart_order(), [refunded], offset=2, source_version="20241105154600-bb"))
    assert [o.topic for o in second if o.topic in (ORDERS, PAYMENTS, REFUNDS)] == [ORDERS, REFUNDS]
    third = h(raw_event(xcart_order(), [refunded], offset=3, source_version="20241105154700-cc"))
    assert [o.topic for o in third if o.topic in (ORDERS, PAYMENTS, REFUNDS)] == [ORDERS]


def test_a_redelivered_record_emits_its_payments_again_but_not_earlier_ones():
    h = make_handler(PAIRS, fresh_state())
    h(raw_event(xcart_order(), [txn(9, "sale", 60)], offset=1, source_version="20241105154500-aa"))
    later = raw_event(xcart_order(), [txn(9, "sale", 60), txn(11, "sale", 40)], offset=2,
                      source_version="20241105154600-bb")
    for _ in range(2):       # the second time: a crash before its outputs were acknowledged
        assert [o.value["transaction_id"] for o in h(later) if o.topic == PAYMENTS] == ["t11"]


def test_memory_is_per_order():
    h = make_handler(PAIRS, fresh_state())
    h(raw_event(xcart_order(), [txn(9, "sale", 60)], offset=1))
    other = raw_event(xcart_order(id=2000), [txn(9, "sale", 60)], offset=2, entity_id="2000")
    assert [o.key for o in h(other) if o.topic == PAYMENTS] == ["2000"]
