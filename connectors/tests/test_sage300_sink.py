"""The Sage 300 sink against the simulator over real HTTP: exactly one Sage order per store order
through lost answers (commit-late), the duplicate-PO guard, prefixed references, local dates and
total checks. A fake clock drives the settle delay; Sage's own commits are waited for by looking."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from decimal import Decimal

import httpx
import pytest

from sagebridge_common import metrics
from sagebridge_common.errors import OutcomeUnknownError, PermanentError
from sagebridge_connectors.sage300.sink import Sage300Sink

from .conftest import api, api_calls, canonical_order, wait_for


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now




def set_guard(sage, customer: str, option: str) -> None:
    httpx.post(f"{sage.url}/_sim/customers/{customer}", json={"CheckForDuplicatePOs": option}).raise_for_status()




def sage_orders(sage, reference: str) -> list[dict]:
    return [o for o in httpx.get(f"{sage.url}/_sim/orders").json() if o["OrderReference"] == reference]




_n = iter(range(10_000))


def number() -> str:
    return f"{int(time.time()) % 100000}{next(_n):03d}"


@pytest.mark.parametrize("customer", ["WEBCUST", "1200"], ids=["guard-not-set", "guard-set"])
def test_lost_answer_with_late_commit_makes_one_order(sage, make_pair, customer):
    clock = Clock()
    sink = Sage300Sink(make_pair(timeout_s=0.5, settle_delay_s=30), clock=clock)
    order = canonical_order(number(), customer=customer)
    reference = "XC1-" + order["order_number"]
    sage.injector.configure(commit_late_ms=2000)
    with pytest.raises(OutcomeUnknownError) as first:
        sink.ensure_order(order)
    assert first.value.retry_after >= 30                   # the processor waits out the settle delay
    wait_for(lambda: sage_orders(sage, reference), "the late commit")
    before = api_calls(sage)
    clock.now += 10
    with pytest.raises(OutcomeUnknownError, match="unknown outcome"):
        sink.ensure_order(order)                           # retried too early: no call, no post
    assert api_calls(sage) == before
    clock.now += 20
    again = sink.ensure_order(order)
    assert again.outcome == "already_present" and again.document_id == sage_orders(sage, reference)[0]["OrderNumber"]
    assert len(sage_orders(sage, reference)) == 1


@pytest.mark.parametrize("customer", ["WEBCUST", "1200"], ids=["guard-not-set", "guard-set"])
def test_lost_answer_that_never_committed_is_posted_after_the_settle_delay(sage, make_pair, customer):
    clock = Clock()
    sink = Sage300Sink(make_pair(settle_delay_s=5), clock=clock)
    order = canonical_order(number(), customer=customer)
    sage.injector.configure(error_status=502, error_count=1, methods=["POST"])   # a gateway lost it
    with pytest.raises(OutcomeUnknownError):
        sink.ensure_order(order)
    clock.now += 5
    done = sink.ensure_order(order)
    assert done.outcome == "created"
    assert len(sage_orders(sage, "XC1-" + order["order_number"])) == 1


def test_guarded_customer_costs_one_call_per_order_and_a_repeat_is_already_present(sage, make_pair):
    sink = Sage300Sink(make_pair())
    orders = [canonical_order(number(), customer="1200") for _ in range(20)]
    before = api_calls(sage)
    outcomes = [sink.ensure_order(o).outcome for o in orders]
    assert outcomes == ["created"] * 20
    assert api_calls(sage) - before == 22                  # 20 POSTs + one read of the option, one of the currency
    fresh = Sage300Sink(make_pair())                        # a restarted writer: no memory of these orders
    before = api_calls(sage)
    repeat = fresh.ensure_order(orders[0])
    assert repeat.outcome == "already_present"             # refused by Sage, then found for its number
    assert repeat.document_id == sage_orders(sage, "XC1-" + orders[0]["order_number"])[0]["OrderNumber"]
    assert api_calls(sage) - before == 4                   # option read, currency read, refused POST, lookup
    assert len(sage_orders(sage, "XC1-" + orders[0]["order_number"])) == 1


def test_unguarded_customer_looks_up_before_creating(sage, make_pair):
    sink = Sage300Sink(make_pair())
    order = canonical_order(number())
    sink.ensure_order(order)
    before = api_calls(sage)
    assert sink.ensure_order(order).outcome == "already_present"
    assert api_calls(sage) - before == 1                   # the lookup, no POST
    assert Sage300Sink(make_pair(duplicate_po_guard=False)).ensure_order(
        canonical_order(number(), customer="1200")).outcome == "created"


def test_guard_is_re_read_after_its_ttl(sage, make_pair):
    clock = Clock()
    sink = Sage300Sink(make_pair(guard_ttl_s=60), clock=clock)
    assert sink.ensure_order(canonical_order(number(), customer="1200")).outcome == "created"
    set_guard(sage, "1200", "Warning")                     # an administrator turns the guard down
    clock.now += 61
    order = canonical_order(number(), customer="1200")
    sink.ensure_order(order)
    before = api_calls(sage)
    assert Sage300Sink(make_pair(), clock=clock).ensure_order(order).outcome == "already_present"
    assert sink.guards.reads == 2
    assert len(sage_orders(sage, "XC1-" + order["order_number"])) == 1
    assert api_calls(sage) - before == 2                   # option read, then a lookup (no POST)


def test_refusal_for_a_customer_cached_as_unguarded_re_reads_the_option(sage, make_pair):
    set_guard(sage, "1200", "None")
    sink = Sage300Sink(make_pair())
    first = canonical_order(number(), customer="1200")
    sink.ensure_order(first)
    assert sink.guards.cached("1200") is False
    set_guard(sage, "1200", "Error")
    pos = canonical_order(number(), customer="1200")        # a POS order already holds this PO number
    api(sage, "POST", "OE/OEOrders",
               json={"CustomerNumber": "1200", "PurchaseOrderNumber": "XC1-" + pos["order_number"],
                     "OrderReference": "POS", "OrderDetails": [{"LineType": "Item", "Item": "WIDGET-1",
                                                                 "QuantityOrdered": 1, "OrderUnitPrice": 1}]}
               ).raise_for_status()
    with pytest.raises(PermanentError) as e:
        sink.ensure_order(pos)
    assert e.value.reason == "sage300_duplicate_po_conflict" and "XC1-" + pos["order_number"] in str(e.value)
    assert sink.guards.cached("1200") is None               # forgotten: the next order reads it again


def test_pos_order_with_the_bare_number_is_not_the_store_order(sage, make_pair):
    n = number()
    api(sage, "POST", "OE/OEOrders",
               json={"CustomerNumber": "WEBCUST", "OrderReference": n, "PurchaseOrderNumber": n,
                     "OrderDetails": [{"LineType": "Item", "Item": "WIDGET-1", "QuantityOrdered": 1,
                                       "OrderUnitPrice": 1}]}).raise_for_status()
    done = Sage300Sink(make_pair()).ensure_order(canonical_order(n))
    assert done.outcome == "created"
    [ours] = sage_orders(sage, f"XC1-{n}")
    assert ours["PurchaseOrderNumber"] == f"XC1-{n}" and ours["OrderNumber"] == done.document_id
    assert len(sage_orders(sage, n)) == 1                  # the POS order, untouched


def test_reference_that_cannot_fit_is_refused_at_start_and_per_order(make_pair):
    with pytest.raises(PermanentError, match="22"):
        Sage300Sink(make_pair(prefix="LONGPREFIX", order_number_max_length=13))
    sink = Sage300Sink(make_pair(prefix="LONGPREFIX"))
    with pytest.raises(PermanentError) as e:
        sink.ensure_order(canonical_order("1234567890123"))
    assert e.value.reason == "sage300_reference_too_long" and "23 characters" in str(e.value)


def test_order_date_is_the_stores_local_date(sage, make_pair):
    order = canonical_order(number(), ordered_at=datetime(2024, 11, 6, 2, 30, tzinfo=timezone.utc))
    Sage300Sink(make_pair(zone="America/New_York")).ensure_order(order)
    [made] = sage_orders(sage, "XC1-" + order["order_number"])
    assert made["OrderDate"].startswith("2024-11-05")


def test_total_mismatch_is_reported_not_silent(sage, make_pair):
    pair = make_pair()
    counter = metrics.ERP_TOTAL_MISMATCH.labels("sage300", pair.pair)
    before = counter._value.get()
    done = Sage300Sink(pair).ensure_order(canonical_order(number(), total=Decimal("65.0000")))
    assert done.outcome == "created_with_mismatch"
    assert "64.850" in done.message and "65.0000" in done.message
    assert done.details == {"erp_total": "64.850", "store_total": "65.0000"}
    assert counter._value.get() == before + 1
    within = Sage300Sink(pair).ensure_order(canonical_order(number(), total=Decimal("64.8600")))
    assert within.outcome == "created"                     # ±0.01 is the same total
    assert counter._value.get() == before + 1


def test_two_orders_with_one_reference_make_the_guard_be_read_again(sage, make_pair):
    """A reference this process already saw in Sage goes through the lookup, not a blind POST; a
    lookup that finds two orders means a POST got through where the guard should have refused."""
    sink = Sage300Sink(make_pair())
    order = canonical_order(number(), customer="1200")
    reference = "XC1-" + order["order_number"]
    assert sink.ensure_order(order).outcome == "created" and sink.guards.cached("1200") is True
    api(sage, "POST", "OE/OEOrders",
               json={"CustomerNumber": "1200", "OrderReference": reference, "PurchaseOrderNumber": "OTHER-PO",
                     "OrderDetails": [{"LineType": "Item", "Item": "WIDGET-1", "QuantityOrdered": 1,
                                       "OrderUnitPrice": 1}]}).raise_for_status()
    before = api_calls(sage)
    assert sink.ensure_order(order).outcome == "already_present"
    assert api_calls(sage) - before == 1                   # the lookup only: no POST for a known reference
    assert sink.guards.cached("1200") is None
