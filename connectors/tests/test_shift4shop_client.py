"""The Shift4Shop REST client over httpx.MockTransport: headers, error classes, Retry-After and the
rate limiter, the `{Key, Value, Status, Message}` arrays (shift4shop.md §1.2, §1.4, §1.5), and the
`storefront:` block's validation."""
from __future__ import annotations

import logging

import httpx
import pytest
from pydantic import ValidationError

from sagebridge_common.errors import OutcomeUnknownError, PermanentError, TransientError
from sagebridge_common.rate_limit import TokenBucket
from sagebridge_connectors.shift4shop.api import Shift4ShopClient, item_results
from sagebridge_connectors.shift4shop.config import Shift4ShopStorefrontConfig

SECRET_KEY, SECRET_TOKEN = "private-key-value-123", "merchant-token-value-456"


def cfg(**kw) -> Shift4ShopStorefrontConfig:
    base = {"kind": "shift4shop", "api_url": "https://s4s.test/3dCartWebAPI/v1/", "secure_url": "https://shop.test",
            "private_key": SECRET_KEY, "token": SECRET_TOKEN, "rate_limit_per_s": 1000, "rate_limit_burst": 1000}
    return Shift4ShopStorefrontConfig(**(base | kw))


def client(handler, **kw) -> Shift4ShopClient:
    return Shift4ShopClient(cfg(**kw), transport=httpx.MockTransport(handler))


def answer(status: int, body=None, headers=None):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body if body is not None else [], headers=headers)
    return handler


def test_every_call_carries_the_three_headers_and_json():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, json=[{"OrderID": 1}])
    client(handler).get_list("list_orders", "/Orders", {"limit": 1, "offset": 1})
    h = seen[0].headers
    assert (h["SecureURL"], h["PrivateKey"], h["Token"]) == ("https://shop.test", SECRET_KEY, SECRET_TOKEN)
    assert h["Accept"] == "application/json"
    assert str(seen[0].url).startswith("https://s4s.test/3dCartWebAPI/v1/Orders?")


def test_a_404_on_a_list_is_an_empty_page_and_so_is_an_offset_past_the_end():
    assert client(answer(404)).get_list("list", "/Orders") == []
    past = [{"Key": "Error", "Value": "", "Status": "400", "Message": "Offset amount exceeds the total number of records"}]
    assert client(answer(400, past)).get_list("list", "/Orders", {"offset": 501}) == []


@pytest.mark.parametrize("status", [429, 503, 500, 502])
def test_throttle_and_server_errors_are_transient_with_retry_after(status):
    with pytest.raises(TransientError) as e:
        client(answer(status, headers={"Retry-After": "7"})).put("put", "/Products", [])
    assert e.value.retry_after == 7.0
    assert not isinstance(e.value, OutcomeUnknownError)      # our PUTs set states: re-sending is safe


def test_a_transport_failure_is_transient():
    def boom(request):
        raise httpx.ConnectError("refused", request=request)
    with pytest.raises(TransientError):
        client(boom).get_list("list", "/Orders")


@pytest.mark.parametrize("status,reason", [(401, "shift4shop_auth"), (403, "shift4shop_auth"),
                                           (400, "shift4shop_refused")])
def test_auth_and_bad_request_are_permanent_with_the_store_message(status, reason):
    body = [{"Key": "Error", "Value": "", "Status": str(status), "Message": "Invalid token for this store"}]
    with pytest.raises(PermanentError) as e:
        client(answer(status, body)).get("get", "/Orders/1")
    assert e.value.reason == reason and "Invalid token for this store" in str(e.value)


def test_secrets_are_never_in_errors_or_logs(caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(PermanentError) as e:
        client(answer(401, [{"Key": "Error", "Value": "", "Status": "401", "Message": "Unauthorized"}])).get("g", "/Orders")
    text = str(e.value) + caplog.text
    assert SECRET_KEY not in text and SECRET_TOKEN not in text
    assert SECRET_KEY not in repr(cfg()) and SECRET_TOKEN not in str(cfg().model_dump())


def test_retry_after_holds_the_shared_bucket():
    now = [100.0]
    slept = []
    bucket = TokenBucket(1000, 1000, clock=lambda: now[0], sleep=lambda s: slept.append(s))
    c = Shift4ShopClient(cfg(), transport=httpx.MockTransport(answer(429, headers={"Retry-After": "3"})), bucket=bucket)
    with pytest.raises(TransientError):
        c.get_list("list", "/Orders")
    c._http._http._transport = httpx.MockTransport(answer(200, [{"OrderID": 1}]))
    assert c.get_list("list", "/Orders") == [{"OrderID": 1}]
    assert slept and slept[0] == pytest.approx(3.0, abs=0.01)


def test_the_rate_limiter_is_in_front_of_every_call():
    now = [0.0]
    slept = []

    def sleep(s):
        slept.append(s)
        now[0] += s
    bucket = TokenBucket(5, 2, clock=lambda: now[0], sleep=sleep)
    c = Shift4ShopClient(cfg(), transport=httpx.MockTransport(answer(200, [])), bucket=bucket)
    for _ in range(4):
        c.get_list("list", "/Orders")
    assert len(slept) == 2 and sum(slept) == pytest.approx(0.4)     # 2 burst, then 1/5 s each


def test_item_results_are_parsed_per_item():
    rs = item_results([{"Key": "CatalogID", "Value": "12", "Status": "200", "Message": "updated successfully"},
                       {"Key": "CatalogID", "Value": "13", "Status": "404", "Message": "not found"}])
    assert [(r.value, r.status, r.ok) for r in rs] == [("12", 200, True), ("13", 404, False)]


def test_config_validates_sizes_and_cidrs():
    assert cfg(webhook_allow_ips=["10.0.0.0/8", "2001:db8::1"]).webhook_allow_ips
    assert cfg().api_url == "https://s4s.test/3dCartWebAPI/v1"
    for bad in ({"batch_size": 101}, {"batch_size": 0}, {"page_size": 201}, {"page_size": 0},
                {"webhook_allow_ips": ["10.0.0.300/8"]}, {"unknown_key": 1}):
        with pytest.raises(ValidationError):
            cfg(**bad)
    assert cfg(start_at="").start_at is None
