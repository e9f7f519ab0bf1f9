"""The first flow end to end, X-Cart order → Sage 300 sales order, on real processes: the broker,
both simulators over HTTP (Sage 300's data in SQL tables through ODBC) and the three services."""
from __future__ import annotations

import json
import time
from collections import Counter
from decimal import Decimal

import pytest

from sagebridge_common.dead_letter import ERROR_PREFIX, header_dict
from sagebridge_common.topics import ERP_RESULTS, INGEST_NOTIFICATIONS, ORDERS, STOREFRONT_RAW

from .conftest import read_all, wait_until


PREFIX = "XC1-"          # the shipped pair's reference_prefix: Sage references are XC1-<store number>


def sage_refs(sims, numbers: set[str]) -> Counter:
    """Sage orders per store order number."""
    refs = {PREFIX + n: n for n in numbers}
    return Counter(refs[o["OrderReference"]] for o in sims.sage_orders() if o["OrderReference"] in refs)


def decoded(serde, messages, **match):
    out = []
    for m in messages:
        _n, v = serde.deserialize(m.value())
        if all(v.get(k) == want for k, want in match.items()):
            out.append((m, v))
    return out


def trace_id(msg) -> str | None:
    for k, v in msg.headers() or []:
        if k == "traceparent" and v:
            return v.decode().split("-")[1]
    return None


def test_order_flows_field_by_field(sims, stack, bootstrap, serde):
    made = sims.order(email="kim@example.com", first_name="Kim", last_name="Park", coupon="SAVE1",
                      items=[{"sku": "WIDGET-1", "name": "Widget", "price": "12.50", "amount": 2},
                             {"sku": "A1-105/0", "name": "Gadget", "price": "19.99", "amount": 3}],
                      shipping="5.00", tax="2.10", discount="1.00", shipping_method="UPS Ground",
                      address={"street": "9 Elm St", "city": "Boston", "zipcode": "02101", "country_code": "US",
                               "state_name": "MA", "phone": "555-0199"})
    number = made["order_number"]
    [sage] = wait_until(lambda: [o for o in json.loads(
        sims.http.get(f"{stack.sage_url}/_sim/orders").content, parse_float=Decimal)
        if o["OrderReference"] == PREFIX + number], message="the Sage 300 order")

    assert sage["CustomerNumber"] == "WEBCUST"                       # template default web customer
    assert sage["PurchaseOrderNumber"] == PREFIX + number
    assert sage["ShipViaCode"] == "UPSGRD"
    assert sage["ShipToName"] == "Kim Park" and sage["ShipToCity"] == "Boston"
    assert sage["ShipToZipPostalCode"] == "02101" and sage["ShipToCountry"] == "US"
    items = [d for d in sage["OrderDetails"] if d["LineType"] == "Item"]
    misc = [d for d in sage["OrderDetails"] if d["LineType"] == "Miscellaneous"]
    assert [(d["Item"], d["QuantityOrdered"], d["OrderUnitPrice"]) for d in items] == [
        ("WIDGET-1", Decimal("2"), Decimal("12.5")), ("A1-105/0", Decimal("3"), Decimal("19.99"))]
    assert all(d["PriceOverride"] for d in items) and all(d["Location"] == "1" for d in items)
    assert [(d["MiscellaneousChargesCode"], d["ExtendedAmount"]) for d in misc] == [("FRT", Decimal("5"))]
    assert sage["OrderDiscountAmount"] == Decimal("1")
    assert sage["TaxAmount1"] == Decimal("2.1")
    assert sage["OrderTotal"] == Decimal("25.00") + Decimal("59.97") + 5 - 1 + Decimal("2.10")

    # one Sage order although both the poll and the webhook path delivered the order
    time.sleep(2)
    assert sage_refs(sims, {number})[number] == 1
    results = decoded(serde, read_all(bootstrap, ERP_RESULTS, idle=1.0), reference=PREFIX + number)
    outcomes = Counter(v["outcome"] for _m, v in results)
    assert outcomes["created"] == 1 and set(outcomes) <= {"created", "already_present"}
    created = [v for _m, v in results if v["outcome"] == "created"][0]
    assert created["target_document_id"] == sage["OrderNumber"]

    # one trace from the source to the ERP result: the fetcher continues the webhook's trace, and
    # the result continues the trace of the raw event that got there first (poll or webhook; the
    # later copy of the same version is dropped by transform)
    notes = decoded(serde, read_all(bootstrap, INGEST_NOTIFICATIONS, idle=1.0), entity_id=str(made["id"]), entity_type="order")
    assert notes, "the push module's notification was not recorded"
    raws = decoded(serde, read_all(bootstrap, STOREFRONT_RAW, idle=1.0), entity_id=str(made["id"]), entity_type="order")
    by_trigger = {v["trigger"]: trace_id(m) for m, v in raws}
    assert by_trigger.get("webhook") == trace_id(notes[0][0])
    created_msg = [m for m, v in results if v["outcome"] == "created"][0]
    assert trace_id(created_msg) in set(by_trigger.values())


def test_unknown_sku_goes_to_dlq_and_others_flow(sims, bootstrap, serde):
    bad = sims.order(items=[{"sku": "NO-SUCH-SKU", "name": "Ghost", "price": "1.00", "amount": 1}])
    good = [sims.order() for _ in range(5)]
    numbers = {g["order_number"] for g in good}
    wait_until(lambda: len(sage_refs(sims, numbers)) == 5, message="the good orders")
    dlq = wait_until(lambda: [m for m in read_all(bootstrap, ORDERS + ".dlq", idle=0.5)
                              if m.key() == str(bad["id"]).encode()], message="the DLQ record")
    h = header_dict(dlq[0].headers())
    assert h[ERROR_PREFIX + "reason"] == "sage300_RecordInvalid"
    assert "NO-SUCH-SKU" in h[ERROR_PREFIX + "exception.message"]
    assert h[ERROR_PREFIX + "topic"] == ORDERS and h[ERROR_PREFIX + "service"] == "erp-writer"
    assert h[ERROR_PREFIX + "group"] and h[ERROR_PREFIX + "offset"].isdigit()
    _n, original = serde.deserialize(dlq[0].value())                 # the original canonical order, intact
    assert original["lines"][0]["sku"] == "NO-SUCH-SKU"
    assert sage_refs(sims, {bad["order_number"]}) == Counter()
    failed = decoded(serde, read_all(bootstrap, ERP_RESULTS, idle=1.0), reference=PREFIX + bad["order_number"])
    assert failed and all(v["outcome"] == "failed" for _m, v in failed)


def test_sage_down_for_20s_loses_nothing_and_dead_letters_nothing(sims, bootstrap):
    sims.sage_faults(outage_seconds=20, outage_status=503, retry_after_s=1)
    try:
        made = sims.bulk(60)
        numbers = {m["order_number"] for m in made}
        time.sleep(10)
        assert sage_refs(sims, numbers) == Counter()                # nothing got through the outage
        refs = wait_until(lambda: (lambda c: c if len(c) == 60 else None)(sage_refs(sims, numbers)),
                          timeout=90, message="the backlog to drain")
    finally:
        sims.sage_faults(reset=True)
    assert set(refs.values()) == {1}
    ids = {str(m["id"]).encode() for m in made}
    assert [m for m in read_all(bootstrap, ORDERS + ".dlq", idle=0.5) if m.key() in ids] == []


def test_sigkill_writer_and_transform_mid_flow_gives_exactly_one_order_each(sims, stack):
    sims.sage_faults(latency_ms=15)
    made = []
    try:
        for _ in range(5):
            made += sims.bulk(100)
            time.sleep(0.3)
        numbers = {m["order_number"] for m in made}
        wait_until(lambda: len(sage_refs(sims, numbers)) >= 80, message="flow to start")
        stack.services["erp-writer"].kill()
        time.sleep(1)
        stack.start_service("erp-writer")
        wait_until(lambda: len(sage_refs(sims, numbers)) >= 250, timeout=90, message="flow after writer restart")
        stack.services["transform"].kill()
        time.sleep(1)
        stack.start_service("transform")
        refs = wait_until(lambda: (lambda c: c if len(c) == 500 else None)(sage_refs(sims, numbers)),
                          timeout=180, message="all 500 orders")
        time.sleep(3)                                                # let any redelivery land
        refs = sage_refs(sims, numbers)
    finally:
        sims.sage_faults(reset=True)
    assert len(made) == 500
    assert len(refs) == 500, "orders missing"
    assert max(refs.values()) == 1, f"duplicates: {[n for n, c in refs.items() if c > 1][:5]}"


def test_ingest_restart_neither_misses_nor_re_emits(sims, stack, bootstrap, serde):
    first = sims.bulk(40)
    wait_until(lambda: len(sage_refs(sims, {m["order_number"] for m in first})) == 40, message="first batch")
    assert stack.services["ingest"].stop() in (0, -15)
    during = sims.bulk(30)                                          # created while ingest is down
    stack.start_service("ingest")
    after = sims.bulk(10)
    everything = first + during + after
    numbers = {m["order_number"] for m in everything}
    wait_until(lambda: len(sage_refs(sims, numbers)) == 80, timeout=90, message="all orders after restart")
    ids = {str(m["id"]) for m in everything}
    polled = Counter(v["entity_id"] for _m, v in decoded(serde, read_all(bootstrap, STOREFRONT_RAW, idle=1.5),
                                                         trigger="poll", entity_type="order") if v["entity_id"] in ids)
    assert set(polled) == ids, "an order was never polled"
    assert max(polled.values()) == 1, "an order was re-emitted by the poller"
