"""The shared HTTP base: how a lost answer, a status and Retry-After become the runtime's errors."""
from __future__ import annotations

import threading
import time
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from sagebridge_common.errors import OutcomeUnknownError, PermanentError, TransientError, classify
from sagebridge_common.http_base import HttpTarget, retry_after_seconds, status_error


def target(handler, **kw) -> HttpTarget:
    return HttpTarget("t", "http://target.test", timeout=1, transport=httpx.MockTransport(handler), **kw)


def raising(exc: Exception):
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc
    return handler


@pytest.mark.parametrize("exc,write,expected", [
    (httpx.ConnectError("refused"), True, "transient"),          # never reached the target
    (httpx.ConnectTimeout("slow"), True, "transient"),
    (httpx.ReadTimeout("no answer"), True, "outcome_unknown"),   # sent: it may have been applied
    (httpx.RemoteProtocolError("dropped"), True, "outcome_unknown"),
    (httpx.ReadTimeout("no answer"), False, "transient"),        # a read is safe to repeat
    (httpx.RemoteProtocolError("dropped"), False, "transient"),
])
def test_transport_failures(exc, write, expected):
    with pytest.raises(Exception) as e:
        target(raising(exc)).request("op", "POST" if write else "GET", "/x")
    assert classify(e.value) == expected


@pytest.mark.parametrize("status,method,expected", [
    (429, "POST", "transient"), (503, "POST", "transient"), (500, "POST", "outcome_unknown"),
    (504, "POST", "outcome_unknown"), (524, "POST", "outcome_unknown"), (500, "GET", "transient"),
    (599, "POST", "outcome_unknown"), (401, "GET", "transient"), (404, "GET", "permanent"),
    (422, "POST", "permanent"),
])
def test_status_table(status, method, expected):
    with pytest.raises(Exception) as e:
        target(lambda r: httpx.Response(status, text="nope")).request("op", method, "/x")
    assert classify(e.value) == expected
    assert e.value.reason == f"t_{status}"


def test_a_connector_parses_its_own_error_body_first():
    def error_for(resp, operation, write):
        return PermanentError("custom", reason="t_custom") if resp.json().get("code") == "Bad" else None
    t = target(lambda r: httpx.Response(500, json={"code": "Bad"}), error_for=error_for)
    with pytest.raises(PermanentError, match="custom"):
        t.request("op", "POST", "/x")
    t2 = target(lambda r: httpx.Response(500, json={"code": "Other"}), error_for=error_for)
    with pytest.raises(OutcomeUnknownError):
        t2.request("op", "POST", "/x")


def test_retry_after_in_both_forms():
    assert retry_after_seconds({"Retry-After": "7"}) == 7.0
    now = time.time()
    when = datetime.fromtimestamp(now, timezone.utc) + timedelta(seconds=30)
    assert retry_after_seconds({"Retry-After": format_datetime(when, usegmt=True)}, now=now) == pytest.approx(30, abs=1)
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    assert retry_after_seconds({}) is None
    err = status_error("t", "op", httpx.Response(429, headers={"Retry-After": "3"}), write=True)
    assert isinstance(err, TransientError) and err.retry_after == 3.0


def test_concurrency_is_capped_per_target():
    running, peak, lock = [0], [0], threading.Lock()

    def slow(request):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return httpx.Response(200, json={})

    t = target(slow, max_concurrency=2)
    threads = [threading.Thread(target=t.request, args=("op", "GET", "/x")) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert peak[0] == 2
