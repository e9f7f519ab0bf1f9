"""The Shift4Shop webhook route on ingest's ASGI application: the URL token is the only secret
(shift4shop.md §3: the platform signs nothing), so every refusal is checked to produce nothing, and
the token to stay out of answers, logs and metrics."""
from __future__ import annotations

import logging
import time

import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr

from sagebridge_common import signing
from sagebridge_common.topics import INGEST_NOTIFICATIONS
from sagebridge_ingest.webhook import PairRoute, create_webhook_app
from sagebridge_ingest.webhook_token_route import TokenPairRoute, client_address, loggable_path, networks

from .shift4shop_asgi import PAIR, PATH, TOKEN, FakeBroker, call, make_app, pair_stub, settings

ORDER = {"OrderID": 1051, "CustomerID": 7, "InvoiceNumberPrefix": "AB-", "InvoiceNumber": 1000,
         "OrderItemList": [{"CatalogID": 3, "ItemID": "W-1"}]}


def _refused(answer, status: int) -> None:
    assert answer.status == status, answer.body
    assert answer.published == []
    assert TOKEN not in str(answer.body)


def test_an_order_is_recorded_before_the_202():
    broker, asgi = make_app()
    answer = call(asgi, broker, body=[ORDER])
    assert answer.status == 202 and answer.acked_before_answer
    [out] = answer.published
    assert out.topic == INGEST_NOTIFICATIONS and out.key == "1051"
    v = out.value
    assert (v["storefront"], v["entity_type"], v["entity_id"], v["event"]) == ("shift4shop", "order", "1051",
                                                                               "order.updated")
    assert v["metadata"]["pair_id"] == PAIR and v["metadata"]["source_system"] == "shift4shop"
    assert answer.body == {"accepted": True, "event_ids": [v["metadata"]["event_id"]]}


def test_three_objects_give_three_notifications_all_acknowledged():
    broker, asgi = make_app()
    body = [ORDER, {"CustomerID": 7, "Email": "a@b.c"}, {"SKUInfo": {"CatalogID": 3, "SKU": "W"}}]
    answer = call(asgi, broker, body=body)
    assert answer.status == 202 and answer.acked_before_answer
    assert [(o.value["entity_type"], o.value["entity_id"], o.key) for o in answer.published] == \
        [("order", "1051", "1051"), ("customer", "7", "customer:7"), ("product", "3", "product:3")]
    assert len(answer.body["event_ids"]) == 3


def test_xml_body_gives_the_same_notifications():
    broker, asgi = make_app()
    xml = ("<?xml version='1.0' encoding='utf-8'?><Orders><Order><OrderID>1051</OrderID>"
           "<CustomerID>7</CustomerID></Order><Order><OrderID>1052</OrderID></Order></Orders>")
    answer = call(asgi, broker, body=xml, content_type="text/xml; charset=utf-8")
    assert answer.status == 202
    assert [o.key for o in answer.published] == ["1051", "1052"]


def test_repeated_deliveries_name_the_same_entity_key():
    broker, asgi = make_app()
    first = call(asgi, broker, body={"CustomerID": "0042"})
    again = call(asgi, broker, body='<Customer><CustomerID> 42 </CustomerID></Customer>', content_type="application/xml")
    assert first.status == again.status == 202
    assert [o.key for o in first.published + again.published] == ["customer:42", "customer:42"]
    assert first.published[0].value["metadata"]["event_id"] != again.published[0].value["metadata"]["event_id"]


@pytest.mark.parametrize("path", [
    f"/webhooks/shift4shop/{PAIR}/{TOKEN[:-1]}",          # one byte short
    f"/webhooks/shift4shop/{PAIR}/{TOKEN}x",              # one byte long
    f"/webhooks/shift4shop/{PAIR}/{TOKEN[:-1]}R",         # last byte wrong
    f"/webhooks/shift4shop/{PAIR}/{TOKEN.lower()}",
    f"/webhooks/shift4shop/{PAIR}/",                      # no token
    f"/webhooks/shift4shop/{PAIR}",
])
def test_a_wrong_or_missing_token_is_401(path):
    broker, asgi = make_app()
    answer = call(asgi, broker, path, body=[ORDER])
    _refused(answer, 401)
    assert answer.headers.get(b"connection") == b"close"


def test_an_empty_configured_token_refuses_everything_and_warns(caplog):
    with caplog.at_level(logging.WARNING, logger="sagebridge_ingest.webhook_token_route"):
        broker, asgi = make_app(pair=pair_stub(webhook_token=SecretStr("")))
    assert any("refuses every delivery" in r.getMessage() and r.pair_id == PAIR for r in caplog.records)
    for path in (f"/webhooks/shift4shop/{PAIR}/", f"/webhooks/shift4shop/{PAIR}", PATH):
        _refused(call(asgi, broker, path, body=[ORDER]), 401)


def test_each_pair_has_its_own_token():
    broker = FakeBroker(settings())
    asgi = create_webhook_app(broker, token_routes={"a": TokenPairRoute("shift4shop", "a", "token-a"),
                                                    "b": TokenPairRoute("shift4shop", "b", "token-b")})
    assert call(asgi, broker, "/webhooks/shift4shop/a/token-a", body=ORDER).status == 202
    _refused(call(asgi, broker, "/webhooks/shift4shop/a/token-b", body=ORDER), 401)
    _refused(call(asgi, broker, "/webhooks/shift4shop/c/token-a", body=ORDER), 404)
    _refused(call(asgi, broker, "/webhooks/shift4shop/a/token-a/more", body=ORDER), 404)
    _refused(call(asgi, broker, "/webhooks/xcart/a/token-a", body=ORDER), 404)


def test_the_allow_list_is_checked_before_the_token():
    broker, asgi = make_app(pair=pair_stub(webhook_allow_ips=["198.51.100.0/24", "2001:db8::/32"]))
    assert call(asgi, broker, body=ORDER, client=("198.51.100.9", 1)).status == 202
    assert call(asgi, broker, body=ORDER, client=("2001:db8::5", 1)).status == 202
    assert call(asgi, broker, body=ORDER, client=("::ffff:198.51.100.9", 1)).status == 202   # dual-stack socket
    _refused(call(asgi, broker, body=ORDER, client=("203.0.113.7", 1)), 403)
    _refused(call(asgi, broker, f"/webhooks/shift4shop/{PAIR}/wrong", body=ORDER, client=("203.0.113.7", 1)), 403)
    _refused(call(asgi, broker, f"/webhooks/shift4shop/{PAIR}/wrong", body=ORDER, client=("198.51.100.9", 1)), 401)
    _refused(call(asgi, broker, body=ORDER, client=None), 403)
    # the header of an untrusted peer is not believed
    _refused(call(asgi, broker, body=ORDER, client=("203.0.113.7", 1),
                  headers={"x-forwarded-for": "198.51.100.9"}), 403)


def test_forwarded_for_is_believed_only_from_a_trusted_proxy():
    broker, asgi = make_app(pair=pair_stub(webhook_allow_ips=["198.51.100.0/24"]),
                            webhook_trusted_proxies=["10.0.0.0/8"])
    proxy = ("10.1.2.3", 5)
    assert call(asgi, broker, body=ORDER, client=proxy, headers={"x-forwarded-for": "198.51.100.9"}).status == 202
    # spoofed left entries do not count: the rightmost untrusted hop is the client
    _refused(call(asgi, broker, body=ORDER, client=proxy,
                  headers={"x-forwarded-for": "198.51.100.9, 203.0.113.7, 10.0.0.1"}), 403)
    assert call(asgi, broker, body=ORDER, client=proxy,
                headers={"x-forwarded-for": "203.0.113.7, 198.51.100.9, 10.0.0.1"}).status == 202
    _refused(call(asgi, broker, body=ORDER, client=proxy, headers={"x-forwarded-for": "not-an-ip"}), 403)
    _refused(call(asgi, broker, body=ORDER, client=proxy), 403)          # no header: the proxy itself


def test_client_address_reads_repeated_forwarded_for_headers_in_order():
    trusted = networks(["10.0.0.0/8"], "test")
    headers = [(b"x-forwarded-for", b"198.51.100.1"), (b"x-forwarded-for", b"198.51.100.2, 10.0.0.9")]
    assert str(client_address({"client": ("10.0.0.1", 1)}, headers, trusted)) == "198.51.100.2"
    assert str(client_address({"client": ("192.0.2.1", 1)}, headers, trusted)) == "192.0.2.1"


def test_bad_allow_list_or_proxy_entries_fail_start_up():
    with pytest.raises(ValueError, match="webhook_allow_ips"):
        make_app(pair=pair_stub(webhook_allow_ips=["10.0.0.0/33"]))
    with pytest.raises(ValueError, match="WEBHOOK_TRUSTED_PROXIES"):
        make_app(webhook_trusted_proxies=["proxy.local"])


def test_body_limits():
    broker, asgi = make_app()
    big = [{"OrderID": 1, "pad": "x" * 5000}]
    _refused(call(asgi, broker, body=big), 413)
    _refused(call(asgi, broker, body=big, headers={"content-length": "10"}), 413)   # lies about its size
    answer = call(asgi, broker, body=ORDER, hang=True)
    _refused(answer, 408)
    assert answer.headers.get(b"connection") == b"close"


@pytest.mark.parametrize("body, content_type", [
    ("{not json", "application/json"),
    ("[]", "application/json"),
    ("{}", "application/json"),
    ('{"OrderID": 1, "OrderID": 2}', "application/json"),
    ('{"OrderID": 0}', "application/json"),
    ('{"OrderID": -3}', "application/json"),
    ('{"OrderID": 1.5}', "application/json"),
    ('{"OrderID": "12a"}', "application/json"),
    ('[{"OrderID": 1}, {"Name": "nothing"}]', "application/json"),     # one object naming nothing
    ('{"OrderID": 1}', "text/plain"),
    ('{"OrderID": 1}', None),
    ("<Orders><Order><OrderID>1</OrderID>", "application/xml"),
    ("<Orders><Order><OrderID>1</OrderID><OrderID>2</OrderID></Order></Orders>", "application/xml"),
    ('<?xml version="1.0"?><!DOCTYPE Order [<!ENTITY id "5">]><Order><OrderID>&id;</OrderID></Order>',
     "application/xml"),
    ('<?xml version="1.0"?><!DOCTYPE Order SYSTEM "http://evil.example/o.dtd"><Order><OrderID>5</OrderID></Order>',
     "text/xml"),
])
def test_malformed_bodies_are_400_and_produce_nothing(body, content_type):
    broker, asgi = make_app()
    _refused(call(asgi, broker, body=body, content_type=content_type), 400)


def test_ambiguous_framing_is_refused():
    broker, asgi = make_app()
    answer = call(asgi, broker, body=ORDER, headers={"transfer-encoding": "chunked"})
    _refused(answer, 400)
    assert answer.headers.get(b"connection") == b"close"


def test_other_methods_are_405():
    broker, asgi = make_app()
    _refused(call(asgi, broker, method="GET"), 405)


def test_broker_failure_is_503_and_not_a_202():
    broker, asgi = make_app(fail=True)
    answer = call(asgi, broker, body=[ORDER, {"CustomerID": 9}])
    assert answer.status == 503 and answer.acked_before_answer


def test_the_token_never_reaches_logs_or_metrics(caplog):
    broker, asgi = make_app()
    call(asgi, broker, body=ORDER)
    call(asgi, broker, f"/webhooks/shift4shop/{PAIR}/{TOKEN}-nope", body=ORDER)
    with caplog.at_level(logging.DEBUG):
        broken = call(asgi, broker, body=ORDER, headers={"content-length": "abc"})   # int() fails: a 500
    assert broken.status == 500 and broken.published == []
    [failure] = [r for r in caplog.records if r.getMessage() == "webhook request failed"]
    assert failure.path == f"/webhooks/shift4shop/{PAIR}/<redacted>"
    assert all(TOKEN not in r.getMessage() and TOKEN not in str(r.__dict__) for r in caplog.records)
    samples = [s for m in REGISTRY.collect() if m.name == "sagebridge_webhook_requests"
               for s in m.samples if s.labels.get("storefront") == "shift4shop"]
    assert {s.labels["status"] for s in samples if s.value > 0} >= {"202", "401", "500"}
    assert all(TOKEN not in str(s.labels) for m in REGISTRY.collect() for s in m.samples)


def test_loggable_path_keeps_storefront_and_pair_only():
    assert loggable_path(f"/webhooks/shift4shop/{PAIR}/{TOKEN}") == f"/webhooks/shift4shop/{PAIR}/<redacted>"
    assert loggable_path(f"/webhooks/xcart/{PAIR}") == f"/webhooks/xcart/{PAIR}"
    assert loggable_path("/elsewhere") == "/elsewhere"


def test_routes_come_from_the_pair_files_by_what_each_block_has():
    xcart = pair_stub("xcart", webhook_secret=SecretStr("x-secret"))
    del xcart.storefront.webhook_token, xcart.storefront.webhook_allow_ips
    soap = pair_stub("threedcart")
    del soap.storefront.webhook_token, soap.storefront.webhook_allow_ips
    broker = FakeBroker(settings(), {PAIR: pair_stub(), "xc": xcart, "soap": soap})
    asgi = create_webhook_app(broker)
    assert set(asgi.routes) == {"/webhooks/xcart/xc"}
    assert call(asgi, broker, body=ORDER).status == 202
    _refused(call(asgi, broker, "/webhooks/threedcart/soap/anything", body=ORDER), 404)
    # X-Cart's signed route is untouched: unsigned gets 401
    _refused(call(asgi, broker, "/webhooks/xcart/xc", body={"event": "order.created", "order_id": 1}), 401)


def test_signed_and_token_routes_side_by_side():
    broker = FakeBroker(settings())
    asgi = create_webhook_app(broker, routes={"xc": PairRoute("xcart", "default", "s" * 32)},
                              token_routes={PAIR: TokenPairRoute("shift4shop", "default", TOKEN)})
    assert call(asgi, broker, body=ORDER).status == 202
    _refused(call(asgi, broker, "/webhooks/xcart/xc", body={"event": "order.created", "order_id": 1}), 401)
    body, ts = b'{"event":"order.created","order_id":77}', int(time.time())
    signed = {signing.TIMESTAMP_HEADER: str(ts), signing.SIGNATURE_HEADER: signing.sign("s" * 32, ts, body)}
    xcart = call(asgi, broker, "/webhooks/xcart/xc", body=body, headers=signed)
    assert xcart.status == 202 and [o.key for o in xcart.published] == ["77"]
    assert set(xcart.body) == {"accepted", "event_id"}                         # X-Cart's answer as before
    _refused(call(asgi, broker, f"/webhooks/xcart/xc/{TOKEN}", body=body, headers=signed), 404)
