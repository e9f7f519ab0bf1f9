"""Customer resolution: the default customer for guests, a link hit without an ERP call, a new
customer created once (built from the order's customer and addresses, never updated from an order
but to give a customer a payment created its addresses), one customer however the e-mail is cased,
and concurrent creators making one customer - within a process through the lock map, across
processes through the deterministic number."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from sagebridge_common.errors import PermanentError
from sagebridge_common.topics import CUSTOMERS, ERP_RESULTS, ORDERS, PAYMENTS
from sagebridge_erp_writer.customers import KeyLocks

from . import fakes
from .test_handler import Writer, event


@pytest.fixture
def pairs(make_pair):
    return {"a": make_pair(prefix="XC1-")}


def outputs_on(outputs, topic):
    return [o for o in outputs if o.topic == topic]


def test_a_guest_for_the_default_customer_needs_no_customer_call(pairs):
    w = Writer(pairs)
    w.handle(event(ORDERS, fakes.order("o1", "1001", "a", customer=fakes.order_customer(guest_default=True))))
    sage = w.sinks["a"]
    assert sage.calls["ensure_customer"] == 0 and not w.links.data
    assert sage.orders["XC1-1001"]["order"]["customer"]["erp_customer_id"] == "WEBCUST"


def test_a_new_customer_is_created_from_the_order_and_linked(pairs):
    w = Writer(pairs)
    outs = w.handle(event(ORDERS, fakes.order("o1", "1001", "a", customer=fakes.order_customer(" Ann@Example.com "))))
    sage = w.sinks["a"]
    assert sage.customer_calls == [("ann@example.com", False)]           # find or create, never update
    created = sage.customers["WANN"]
    assert (created["customer_id"], created["email"], created["is_guest"]) == ("42", "Ann@Example.com", False)
    assert created["billing_address"]["erp_country"] == "USA" and created["company"] == "Lee & Co"
    assert sage.orders["XC1-1001"]["order"]["customer"]["erp_customer_id"] == "WANN"
    [link] = outputs_on(outs, w.links.topic)
    assert link.key == "a|ann@example.com" and w.links.data[link.key]["erp_customer_id"] == "WANN"
    assert w.links.data[link.key]["storefront_customer_id"] == "42"


def test_a_linked_customer_costs_no_customer_call_in_any_case_of_the_email(pairs):
    w = Writer(pairs)
    w.handle(event(ORDERS, fakes.order("o1", "1001", "a")))
    w.links.confirm()
    outs = w.handle(event(ORDERS, fakes.order("o2", "1002", "a", customer=fakes.order_customer("ANN@example.COM"))))
    outs += w.handle(event(PAYMENTS, fakes.payment("o2", "1002", "a")))
    sage = w.sinks["a"]
    assert sage.calls["ensure_customer"] == 1 and sage.created_customers == 1
    assert sage.receipts["XC1-1002-Pt55"]["record"]["customer"]["erp_customer_id"] == "WANN"
    assert outputs_on(outs, w.links.topic) == []                           # nothing new to link


def test_a_link_whose_record_was_never_produced_is_produced_again(pairs):
    """ensure_order fails after the link was put: the retry finds the link in memory and must still
    emit its record (else it would live in this process only)."""
    w = Writer(pairs)
    w.sinks["a"].fail_next_order = TimeoutError("Sage down")
    with pytest.raises(TimeoutError):
        w.handle(event(ORDERS, fakes.order("o1", "1001", "a")))
    outs = w.handle(event(ORDERS, fakes.order("o1", "1001", "a")))
    assert [o.key for o in outputs_on(outs, w.links.topic)] == ["a|ann@example.com"]
    assert w.sinks["a"].calls["ensure_customer"] == 1


def test_three_orders_of_a_new_email_at_once_in_one_process_make_one_customer_call(pairs):
    sage = fakes.FakeSage(race_window_s=0.05)
    w = Writer(pairs, sinks={"a": sage})
    start = threading.Barrier(3)

    def one(i: int):
        start.wait()
        return w.handle(event(ORDERS, fakes.order(f"o{i}", f"100{i}", "a"), partition=i))
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(one, range(3)))
    assert sage.calls["ensure_customer"] == 1 and sage.created_customers == 1
    assert {o["order"]["customer"]["erp_customer_id"] for o in sage.orders.values()} == {"WANN"}
    assert len(sage.orders) == 3


def test_two_instances_racing_for_one_new_email_make_one_customer(pairs):
    """Two replicas, each with its own link table, both miss the link and both ask the ERP: the
    deterministic number makes the second create a duplicate that counts as already present."""
    sage = fakes.FakeSage(race_window_s=0.1)
    replicas = [Writer(pairs, sinks={"a": sage}) for _ in range(2)]
    start = threading.Barrier(2)

    def one(i: int):
        start.wait()
        return replicas[i].handle(event(ORDERS, fakes.order(f"o{i}", f"100{i}", "a")))
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(one, range(2)))
    assert sage.calls["ensure_customer"] == 2                    # both really raced
    assert sage.created_customers == 1 and set(sage.customers) == {"WEBCUST", "WANN"}
    assert [r.links.data["a|ann@example.com"]["erp_customer_id"] for r in replicas] == ["WANN", "WANN"]


def test_a_customer_event_creates_then_updates_and_links_once(pairs):
    w = Writer(pairs)
    first = w.handle(event(CUSTOMERS, fakes.customer("a", "Ann@Example.com", "42")))
    w.links.confirm()
    second = w.handle(event(CUSTOMERS, fakes.customer("a", "ann@example.com ", "42", first_name="Annie")))
    sage = w.sinks["a"]
    assert sage.customer_calls == [("ann@example.com", True), ("ann@example.com", True)]
    [r1], [r2] = outputs_on(first, ERP_RESULTS), outputs_on(second, ERP_RESULTS)
    assert (r1.value["entity_type"], r1.value["outcome"], r1.value["target_document_id"]) == ("customer", "created", "WANN")
    assert (r2.value["outcome"], r2.value["reference"]) == ("updated", "ann@example.com")
    assert sage.customers["WANN"]["first_name"] == "Annie"
    assert len(outputs_on(first, w.links.topic)) == 1 and outputs_on(second, w.links.topic) == []
    # the order that follows uses the link
    w.handle(event(ORDERS, fakes.order("o1", "1001", "a")))
    assert sage.calls["ensure_customer"] == 2


def test_a_customer_first_made_by_a_payment_gets_the_first_orders_addresses_once(pairs):
    """A payment can overtake its order (separate topics) and must create the customer to name it
    on the receipt, without an address; the first order fills the addresses in, later ones cost
    no customer call."""
    w = Writer(pairs)
    w.handle(event(PAYMENTS, fakes.payment("o1", "1001", "a")))
    sage = w.sinks["a"]
    assert sage.customers["WANN"].get("billing_address") is None
    assert w.links.data["a|ann@example.com"]["addressed"] is False
    w.links.confirm()
    outs = w.handle(event(ORDERS, fakes.order("o1", "1001", "a")))
    assert sage.customer_calls == [("ann@example.com", False), ("ann@example.com", True)]
    assert sage.customers["WANN"]["billing_address"]["line1"] == "1 Main Street" and sage.created_customers == 1
    [link] = outputs_on(outs, w.links.topic)
    assert (w.links.data[link.key]["erp_customer_id"], w.links.data[link.key]["addressed"]) == ("WANN", True)
    w.links.confirm()
    w.handle(event(ORDERS, fakes.order("o2", "1002", "a")))
    w.handle(event(PAYMENTS, fakes.payment("o2", "1002", "a", "t56")))
    assert sage.calls["ensure_customer"] == 2


def test_a_customer_event_with_an_address_completes_a_link_a_payment_made(pairs):
    w = Writer(pairs)
    w.handle(event(PAYMENTS, fakes.payment("o1", "1001", "a")))
    w.links.confirm()
    outs = w.handle(event(CUSTOMERS, fakes.customer("a", "Ann@Example.com", "42")))
    assert [o.key for o in outputs_on(outs, w.links.topic)] == ["a|ann@example.com"]
    assert w.links.data["a|ann@example.com"]["addressed"] is True
    w.links.confirm()
    w.handle(event(ORDERS, fakes.order("o1", "1001", "a")))
    assert w.sinks["a"].customer_calls == [("ann@example.com", False), ("ann@example.com", True)]


def test_a_link_written_before_the_address_flag_counts_as_addressed(pairs):
    w = Writer(pairs)
    w.links.put("a|ann@example.com", {"erp_customer_id": "WEBCUST", "storefront_customer_id": "42"})
    w.handle(event(ORDERS, fakes.order("o1", "1001", "a")))
    assert w.sinks["a"].calls["ensure_customer"] == 0


def test_a_customer_without_an_email_is_permanent(pairs):
    w = Writer(pairs)
    with pytest.raises(PermanentError) as e:
        w.handle(event(ORDERS, fakes.order("o1", "1001", "a", customer=fakes.order_customer(None))))
    assert e.value.reason == "customer_without_email" and w.sinks["a"].calls["ensure_order"] == 0


def test_the_lock_map_forgets_keys_nobody_holds():
    locks = KeyLocks()
    with locks.hold("k"):
        with locks.hold("other"):
            assert len(locks) == 2
    assert len(locks) == 0
