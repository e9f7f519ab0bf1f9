"""Shift4Shop webhooks end to end (`3dcart-sage300`): the simulator's webhooks, registered the way a
merchant does (POST /Webhooks, XML format here; the tests post JSON themselves), delivered to
ingest's token route; polling runs beside them. The platform signs nothing, so the URL's last
segment is the secret: a wrong token, a malformed body or an oversize one is refused and produces
nothing; a notification delivered three times still makes one Sage 300 order; an order placed
while webhooks are off is found by polling.
"""
from __future__ import annotations

import json
import uuid

import httpx
import pytest

from sagebridge_common.topics import ERP_RESULTS, INGEST_NOTIFICATIONS, ORDERS, STOREFRONT_RAW
from sagebridge_devstack.stack import Stack

from .conftest import committed, wait_until
from .threedcart_pair import PREFIXES, REST, Sage, TopicReader, dlq_topics, start_stack, store_driver

LIMIT = 64 * 1024                   # WEBHOOK_MAX_BODY_BYTES the helper gives ingest


@pytest.fixture(scope="module")
def hooked(bootstrap, serde, tmp_path_factory):
    stack = start_stack(REST, bootstrap, tmp_path_factory.mktemp("s4s-hooks"), first_invoice=6000,
                        webhook_push=True, webhook_format="XML")
    reader = TopicReader(bootstrap, serde, [INGEST_NOTIFICATIONS, STOREFRONT_RAW, ORDERS, ERP_RESULTS, *dlq_topics()])
    try:
        yield stack, reader
    finally:
        reader.close()
        stack.stop()


def notifications(reader: TopicReader, entity_id: str) -> list[dict]:
    return [v for t, _k, v in reader.read() if t == INGEST_NOTIFICATIONS and v.get("entity_id") == entity_id]


def anything_naming(reader: TopicReader, entity_id: str) -> list[tuple[str, dict]]:
    """Notifications, raw events and dead letters of this pair naming the entity id."""
    return [(t, v) for t, _k, v in reader.read()
            if (v.get("metadata") or {}).get("pair_id") == REST
            and (v.get("entity_id") == entity_id or (v.get("metadata") or {}).get("source_entity_id") == entity_id)]


def emitter(stack: Stack, **control) -> dict:
    r = httpx.post(f"{stack.store.url}/_sim/webhooks", json=control, timeout=10)
    r.raise_for_status()
    return r.json()


def deliveries(stack: Stack, since: int = 0) -> list[dict]:
    r = httpx.get(f"{stack.store.url}/_sim/webhooks/deliveries", params={"since": since}, timeout=10)
    r.raise_for_status()
    return r.json()


def test_the_merchants_webhooks_point_at_ingest_with_the_token(hooked):
    stack, _reader = hooked
    r = httpx.get(f"{stack.store.api_url}/Webhooks", headers=stack.store.headers, timeout=10)
    r.raise_for_status()
    hooks = r.json()
    assert {h["Name"] for h in hooks} == {"Sagebridge Order New", "Sagebridge Order Status Change",
                                           "Sagebridge Customer New"}
    assert {(h["Url"], h["Format"], h["Enabled"]) for h in hooks} == {(stack.store.webhook_url, "XML", True)}


def test_wrong_token_malformed_json_and_xml_and_oversize_are_refused_and_produce_nothing(hooked):
    stack, reader = hooked
    store = store_driver(stack)
    good_url, bad_url = stack.store.webhook_url, stack.store.webhook_url[:-4] + "xxxx"
    bogus = {name: str(990000 + n) for n, name in enumerate(("token", "json", "xml", "big"), 1)}
    json_ct, xml_ct = {"Content-Type": "application/json"}, {"Content-Type": "application/xml"}
    with httpx.Client(timeout=10) as http:
        assert http.post(bad_url, content=json.dumps([{"OrderID": int(bogus["token"])}]),
                         headers=json_ct).status_code == 401
        assert http.post(good_url, content=f'[{{"OrderID": {bogus["json"]},'.encode(), headers=json_ct).status_code == 400
        assert http.post(good_url, content=f"<Orders><Order><OrderID>{bogus['xml']}</OrderID></Orders>".encode(),
                         headers=xml_ct).status_code == 400
        assert http.post(good_url, content=b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]>'
                         b"<Orders><Order><OrderID>&e;</OrderID></Order></Orders>", headers=xml_ct).status_code == 400
        pad = "x" * LIMIT
        assert http.post(good_url, content=json.dumps([{"OrderID": int(bogus["big"]), "InternalComments": pad}]),
                         headers=json_ct).status_code == 413
        # the positive signal: a real order's notification, posted (JSON) after all of them, is taken
        placed = store.place(items=[{"sku": "WIDGET-1", "quantity": 1, "unit_price": "9.99"}],
                             email=f"hook.{uuid.uuid4().hex[:8]}@example.com")
        assert http.post(good_url, content=json.dumps([{"OrderID": int(placed.order_id)}]),
                         headers=json_ct).status_code == 202
    wait_until(lambda: notifications(reader, placed.order_id), timeout=30, message="the good notification")
    wait_until(lambda: Sage(stack, PREFIXES[REST]).orders(placed.number), timeout=60, message="the good order in Sage")
    for entity_id in bogus.values():
        assert anything_naming(reader, entity_id) == [], entity_id


def test_the_same_hook_delivered_three_times_makes_one_sage_order(hooked):
    stack, reader = hooked
    store, sage = store_driver(stack), Sage(stack, PREFIXES[REST])
    since = max((d["seq"] for d in deliveries(stack)), default=0)
    emitter(stack, repeat=3)
    try:
        placed = store.place(items=[{"sku": "GADGET-2", "quantity": 1, "unit_price": "39.00"}],
                             email=f"thrice.{uuid.uuid4().hex[:8]}@example.com", registered=False)
        wait_until(lambda: len([d for d in deliveries(stack, since) if d["event"] == "order.new" and d["ok"]]) >= 3,
                   timeout=30, message="three deliveries of Order New")
    finally:
        emitter(stack, repeat=1)
    assert {d["format"] for d in deliveries(stack, since)} == {"XML"}
    wait_until(lambda: len(notifications(reader, placed.order_id)) >= 3, timeout=30, message="three notifications")
    [order] = wait_until(lambda: sage.orders(placed.number), timeout=60, message="the Sage order")
    assert order["OrderReference"] == PREFIXES[REST] + placed.number
    # every delivery was fetched (three raw events), transform has decided on each of them (its group
    # committed past them), and erp-writer answered every canonical order transform let through:
    # only then is "one Sage order" the end state rather than a moment
    fetched = wait_until(lambda: (lambda rs: rs if len(rs) >= 3 else None)(reader.where(
        lambda t, v: t == STOREFRONT_RAW and v.get("entity_id") == placed.order_id and v.get("trigger") == "webhook")),
        timeout=30, message="three fetched raw events")
    partitions = len(reader.consumer.list_topics(STOREFRONT_RAW, timeout=10).topics[STOREFRONT_RAW].partitions)
    wait_until(lambda: all(committed(stack.bootstrap, f"sagebridge.transform.{REST}", STOREFRONT_RAW,
                                     partitions).get(p, -1) > o for _t, p, o, _v in fetched),
               timeout=30, message="transform past the three raw events")
    canonical = [v for t, _k, v in reader.read() if t == ORDERS and v.get("order_id") == placed.order_id]
    assert canonical, "the order reached transform's output"
    ref = PREFIXES[REST] + placed.number
    results = wait_until(lambda: (lambda rs: rs if len(rs) >= len(canonical) else None)(
        [v for t, _k, v in reader.read() if t == ERP_RESULTS and v.get("reference") == ref
         and v.get("entity_type") == "order"]), timeout=30, message="erp-writer's answer to each canonical order")
    assert [r["outcome"] for r in results].count("created") == 1, results
    assert len(sage.orders(placed.number)) == 1


def test_an_order_placed_while_webhooks_are_off_is_found_by_polling(hooked):
    stack, reader = hooked
    store, sage = store_driver(stack), Sage(stack, PREFIXES[REST])
    suppressed = emitter(stack)["suppressed"]
    emitter(stack, enabled=False)
    try:
        placed = store.place(items=[{"sku": "WIDGET-1", "quantity": 2, "unit_price": "9.99"}],
                             email=f"quiet.{uuid.uuid4().hex[:8]}@example.com", registered=False)
        wait_until(lambda: sage.orders(placed.number), timeout=60, message="the polled order in Sage")
        snapshot = emitter(stack)
        assert snapshot["enabled"] is False
        assert snapshot["suppressed"] > suppressed      # the store had a webhook to send and did not
    finally:
        emitter(stack, enabled=True)
    assert notifications(reader, placed.order_id) == []           # nothing came through the webhook
    assert {v.get("trigger") for t, _k, v in reader.read() if t == STOREFRONT_RAW
            and v.get("entity_id") == placed.order_id} == {"poll"}
