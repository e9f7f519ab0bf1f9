"""The push body contract: exactly the module's events, each naming the id of its entity."""
from __future__ import annotations

import json

import pytest

from sagebridge_ingest.webhook_parse import Refusal, parse_notification

ORDER_EVENTS = ["order.created", "order.updated", "order.status_changed", "order.payment_status_changed",
                "order.shipping_status_changed", "order.tracking_added"]


def _parse(doc) -> dict:
    return parse_notification(json.dumps(doc).encode())


@pytest.mark.parametrize("event", ORDER_EVENTS)
def test_order_events_name_the_order(event):
    assert _parse({"event": event, "order_id": "0042", "order_number": "00042", "occurred_at": "x",
                   "tracking_number": "1Z"}) == {"event": event, "entity_type": "order", "entity_id": "42"}


@pytest.mark.parametrize("event", ["customer.created", "customer.updated"])
def test_customer_events_name_the_profile(event):
    assert _parse({"event": event, "profile_id": 7, "login": "a@b.c", "store": "s"}) == \
        {"event": event, "entity_type": "profile", "entity_id": "7"}


@pytest.mark.parametrize("doc, message", [
    ({"event": "customer.created", "order_id": 7}, "profile_id"),          # the wrong id for the event
    ({"event": "order.tracking_added", "profile_id": 7}, "order_id"),
    ({"event": "customer.updated", "profile_id": 0}, "profile_id"),
    ({"event": "customer.updated", "profile_id": True}, "profile_id"),
    ({"event": "customer.deleted", "profile_id": 7}, "unknown event"),
    ({"event": "order.refunded", "order_id": 7}, "unknown event"),
    ({"event": "Customer.Created", "profile_id": 7}, "unknown event"),
])
def test_anything_else_is_refused_with_400(doc, message):
    with pytest.raises(Refusal) as refused:
        _parse(doc)
    assert refused.value.status == 400 and message in str(refused.value)
