"""Behind the Shift4Shop webhook: each notification becomes the raw event of the record the pair's
source fetches, for orders, customers and products alike (issue8.md, "Raw events")."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from sagebridge_common.avro_serde import serde_from_settings
from sagebridge_common.contracts import Change, SourceRecord
from sagebridge_common.errors import PermanentError
from sagebridge_common.topics import STOREFRONT_RAW
from sagebridge_ingest.fetcher import make_fetch_handler
from sagebridge_ingest.poller import RAW_SCHEMA, dead_letter_notification, record_event

from .shift4shop_asgi import PAIR, call, make_app, settings

AT = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
VERSION = "0000001795000000|0123456789abcdef"


class FakeShift4ShopSource:
    kind = "shift4shop"

    def __init__(self) -> None:
        self.fetched: list[Change] = []

    def fetch(self, change: Change) -> SourceRecord:
        self.fetched.append(change)
        if change.entity_id == "404":
            raise PermanentError("gone", reason="not_found")
        body = {"order": {"OrderID": int(change.entity_id), "OrderItemList": []},
                "customer": {"CustomerID": int(change.entity_id), "Email": "a@b.c"},
                "product": {"SKUInfo": {"CatalogID": int(change.entity_id), "SKU": "W-1"}}}[change.entity_type]
        return SourceRecord(change.entity_type, change.entity_id, VERSION, AT, {change.entity_type: body})


def _fetch_all(outputs, source):
    handle = make_fetch_handler({PAIR: source}, {PAIR: "default"})
    return [out for o in outputs for out in handle(SimpleNamespace(value=o.value))]


def test_every_entity_type_of_a_webhook_is_fetched_and_published():
    broker, asgi = make_app()
    answer = call(asgi, broker, body=[{"OrderID": 1051}, {"CustomerID": 7}, {"SKUInfo": {"CatalogID": 3}}])
    assert answer.status == 202
    source = FakeShift4ShopSource()
    raws = _fetch_all(answer.published, source)
    assert [(c.entity_type, c.entity_id) for c in source.fetched] == [("order", "1051"), ("customer", "7"),
                                                                      ("product", "3")]
    assert [(r.topic, r.key, r.schema) for r in raws] == [(STOREFRONT_RAW, "1051", RAW_SCHEMA),
                                                          (STOREFRONT_RAW, "customer:7", RAW_SCHEMA),
                                                          (STOREFRONT_RAW, "product:3", RAW_SCHEMA)]
    serde = serde_from_settings(settings())
    for raw, note in zip(raws, answer.published):
        v = raw.value
        serde.serialize(raw.schema, v)                              # valid RawStorefrontEvent v2
        assert (v["storefront"], v["trigger"], v["source_version"]) == ("shift4shop", "webhook", VERSION)
        assert v["metadata"]["correlation_id"] == note.value["metadata"]["correlation_id"]
        assert v["metadata"]["occurred_at"] == AT and v["metadata"]["pair_id"] == PAIR
    assert json.loads(raws[1].value["payload"]) == {"customer": {"CustomerID": 7, "Email": "a@b.c"}}
    assert raws[2].value["metadata"]["event_type"] == "product.fetched"


def test_a_vanished_record_is_a_permanent_error_for_the_dlq():
    broker, asgi = make_app()
    answer = call(asgi, broker, body={"CustomerID": 404})
    with pytest.raises(PermanentError):
        _fetch_all(answer.published, FakeShift4ShopSource())


def test_xcart_records_keep_their_own_shapes():
    order = {"order": {"id": 42, "create_date": "2026-11-30T12:00:00Z", "update_date": "2026-11-30T12:05:00Z"}}
    raw = record_event(SourceRecord("order", "42", "v1", AT, order), storefront="xcart", instance="default",
                       pair_id="xp", trigger="poll")
    assert raw.key == "42" and raw.value["metadata"]["event_type"] == "order.updated"
    profile = record_event(SourceRecord("profile", "9", "v2", AT, {"profile": {}, "addresses": []}),
                           storefront="xcart", instance="default", pair_id="xp", trigger="poll")
    assert profile.key == "profile:9" and profile.value["metadata"]["event_type"] == "profile.fetched"


def test_dead_lettered_changes_come_back_as_notifications_of_their_type():
    dead = dead_letter_notification(storefront="shift4shop", instance="default", pair_id=PAIR)
    out = dead(Change("product", "3", VERSION, AT))
    assert (out.key, out.value["event"], out.value["entity_type"]) == ("product:3", "product.updated", "product")
    assert dead(Change("profile", "9", "v", AT)).value["event"] == "customer.updated"
