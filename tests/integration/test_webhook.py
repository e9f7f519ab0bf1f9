"""The push webhook on its real HTTP server (ingest's uvicorn construction, a real port) and the real
broker, probed as an attacker would: good deliveries are recorded before the 202; malformed, unsigned,
stale, slow, ambiguous or misrouted ones are refused with the right 4xx, produce nothing, and never
get a 5xx or a plain-text traceback."""
from __future__ import annotations

import json
import os
from pathlib import Path
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import httpx
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from sagebridge_common import signing
from sagebridge_common.app import Application
from sagebridge_common.topics import INGEST_NOTIFICATIONS
from sagebridge_devstack.processes import free_port, wait_for_port
from sagebridge_ingest.config import IngestSettings
from sagebridge_ingest.webhook import PairRoute, create_webhook_app
from sagebridge_ingest.webhook_http import make_server
from sagebridge_sim.xcart import push

from .conftest import create_topics, read_all, unique, wait_until

SECRET = "test-secret-" + "x" * 20
PUSH_SECRET = "push-secret-" + "y" * 20
GOOD = json.dumps({"event": "order.created", "order_id": 1234, "order_number": "00042"}).encode()
LIMITS = {"webhook_header_timeout_s": 1.0, "webhook_read_timeout_s": 1.0, "webhook_keepalive_timeout_s": 1.0}


@contextmanager
def serving(asgi_app, settings: IngestSettings):
    """ingest's own server construction (make_server), run on a thread for the test."""
    server = make_server(asgi_app, settings)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), timeout=10, message="webhook server")
    assert server.started
    try:
        yield server
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def webhook(bootstrap):
    create_topics(bootstrap, [INGEST_NOTIFICATIONS], partitions=3)
    pair, push_pair = unique("pair"), unique("pushpair")
    s = IngestSettings(kafka_bootstrap_servers=bootstrap, pair_id=pair, ops_port=0,
                       http_host="127.0.0.1", http_port=free_port(), **LIMITS)
    app = Application(s, configure_logging=False)
    routes = {pair: PairRoute("xcart", "default", SECRET), push_pair: PairRoute("xcart", "push", PUSH_SECRET)}
    with serving(create_webhook_app(app, routes), s) as server:
        base = f"http://127.0.0.1:{s.http_port}"
        yield {"url": f"{base}/webhooks/xcart/{pair}", "push_url": f"{base}/webhooks/xcart/{push_pair}",
               "base": base, "pair": pair, "push_pair": push_pair, "port": s.http_port, "server": server,
               "settings": s, "app": app, "client": httpx.Client(timeout=30), "accepted": []}
    app.close()


def notifications_for(bootstrap, serde, pair: str) -> list[dict]:
    out = []
    for m in read_all(bootstrap, INGEST_NOTIFICATIONS, idle=1.5):
        try:
            _name, value = serde.deserialize(m.value())
        except Exception:
            continue
        if value["metadata"]["pair_id"] == pair:
            out.append(value)
    return out


def signed(body: bytes, secret: str = SECRET, at: float | None = None) -> dict[str, str]:
    ts = int(time.time() if at is None else at)
    return {signing.TIMESTAMP_HEADER: str(ts), signing.SIGNATURE_HEADER: signing.sign(secret, ts, body)}


def post(webhook, body: bytes, headers: dict[str, str] | None = None, path: str | None = None) -> httpx.Response:
    r = webhook["client"].post(path or webhook["url"], content=body,
                               headers={"Content-Type": "application/json", **(signed(body) if headers is None else headers)})
    if r.status_code == 202 and path is None:
        webhook["accepted"].append(r.json()["event_id"])
    return r


def raw_exchange(port: int, data: bytes, timeout: float = 30.0) -> bytes:
    """Sends `data` on a fresh socket and reads until the server closes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def request_head(webhook, body_headers: str, extra: dict[str, str]) -> bytes:
    path = webhook["url"].split(str(webhook["port"]), 1)[1]
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json", body_headers]
    lines += [f"{k}: {v}" for k, v in extra.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_good_and_bad_deliveries(webhook):
    accepted = post(webhook, GOOD)
    assert accepted.status_code == 202
    ts = int(time.time())
    assert post(webhook, GOOD, headers={}).status_code == 401
    assert post(webhook, GOOD, headers={signing.TIMESTAMP_HEADER: str(ts),
                                        signing.SIGNATURE_HEADER: "sha256=" + "0" * 64}).status_code == 401
    assert post(webhook, GOOD, headers=signed(GOOD, secret="wrong-secret")).status_code == 401
    assert post(webhook, GOOD, headers=signed(GOOD, secret=PUSH_SECRET)).status_code == 401   # another pair's key
    assert post(webhook, b"{not json").status_code == 400
    assert post(webhook, json.dumps({"event": "order.created"}).encode()).status_code == 400
    assert post(webhook, json.dumps({"event": "nope", "order_id": 1}).encode()).status_code == 400
    big = json.dumps({"event": "order.created", "order_id": 1, "pad": "x" * (1024 * 1024)}).encode()
    assert post(webhook, big).status_code == 413
    assert post(webhook, GOOD, path=f"{webhook['base']}/webhooks/xcart/not-{webhook['pair']}").status_code == 404
    assert post(webhook, GOOD, path=f"{webhook['base']}/webhooks/shift4shop/{webhook['pair']}").status_code == 404
    assert post(webhook, GOOD, path=f"{webhook['base']}/webhooks/xcart/xcart/{webhook['pair']}").status_code == 404
    assert webhook["client"].get(webhook["url"]).status_code == 405
    assert webhook["client"].post(f"{webhook['base']}/elsewhere", content=GOOD).status_code == 404


def test_each_pair_has_its_own_route_and_secret(webhook):
    r = post(webhook, GOOD, headers=signed(GOOD, secret=PUSH_SECRET), path=webhook["push_url"])
    assert r.status_code == 202
    assert post(webhook, GOOD, headers=signed(GOOD), path=webhook["push_url"]).status_code == 401


# 300 s tolerance. The refused skews stand a minute outside it: a request that takes a second or two to
# reach the hub on a loaded machine must still be outside, and the accepted ones well inside.
@pytest.mark.parametrize("skew, status", [(-360, 401), (360, 401), (-200, 202), (200, 202)])
def test_timestamp_outside_the_tolerance_is_refused(webhook, skew, status):
    assert post(webhook, GOOD, headers=signed(GOOD, at=time.time() + skew)).status_code == status


@pytest.mark.parametrize("timestamp", ["", "soon", "1.5e9", "-1", "１７６４５４７２００", "9" * 40])
def test_missing_or_non_integer_timestamp_is_refused(webhook, timestamp):
    sig = signing.sign(SECRET, int(time.time()), GOOD)
    headers = {signing.TIMESTAMP_HEADER: timestamp.encode(), signing.SIGNATURE_HEADER: sig}   # bytes: not only ASCII
    r = post(webhook, GOOD, headers=headers)
    assert r.status_code == 401 and "error" in r.json()


DEEP = b"[" * 10_000 + b"]" * 10_000
MALFORMED = {
    "nested 10,000 deep": DEEP,
    "nested 10,000 deep inside": b'{"event":"order.created","order_id":1,"x":' + DEEP + b"}",
    "order_id 5,000 digits as text": b'{"event":"order.created","order_id":"' + b"7" * 5000 + b'"}',
    "order_id 5,000 digits as a number": b'{"event":"order.created","order_id":' + b"7" * 5000 + b"}",
    "order_id superscript two": json.dumps({"event": "order.created", "order_id": "²"}).encode(),
    "order_id Arabic-Indic digits": json.dumps({"event": "order.created", "order_id": "٤٢"}).encode(),
    "order_id 0": b'{"event":"order.created","order_id":0}',
    "order_id '0'": b'{"event":"order.created","order_id":"0"}',
    "order_id 2^63": b'{"event":"order.created","order_id":9223372036854775808}',
    "order_id '2^63'": b'{"event":"order.created","order_id":"9223372036854775808"}',
    "order_id negative": b'{"event":"order.created","order_id":-5}',
    "order_id float": b'{"event":"order.created","order_id":5.0}',
    "order_id true": b'{"event":"order.created","order_id":true}',
    "order_id NaN": b'{"event":"order.created","order_id":NaN}',
    "event list": b'{"event":[],"order_id":1}',
    "event object": b'{"event":{},"order_id":1}',
    "duplicate order_id": b'{"event":"order.created","order_id":1,"order_id":2}',
    "duplicate event": b'{"event":"order.updated","event":"order.created","order_id":1}',
    "duplicate key nested": b'{"event":"order.created","order_id":1,"x":{"a":1,"a":2}}',
    "UTF-16": json.dumps({"event": "order.created", "order_id": 1}).encode("utf-16"),
    "latin-1 byte": b'{"event":"order.created","order_id":1,"n":"\xe9"}',
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_signed_but_malformed_bodies_get_400(webhook, body):
    r = post(webhook, body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]


@pytest.mark.parametrize("order_id, entity_id", [(2 ** 63 - 1, str(2 ** 63 - 1)), ("9223372036854775807", str(2 ** 63 - 1)),
                                                 (1, "1"), ("0042", "42")])
def test_edge_order_ids_are_accepted_in_canonical_form(webhook, order_id, entity_id):
    r = post(webhook, json.dumps({"event": "order.updated", "order_id": order_id}).encode())
    assert r.status_code == 202
    webhook.setdefault("edge", {})[r.json()["event_id"]] = entity_id


def test_every_answer_has_a_counter_from_the_start(webhook):
    for status in ("202", "400", "401", "404", "405", "408", "413", "500", "503"):
        assert REGISTRY.get_sample_value("sagebridge_webhook_requests_total",
                                         {"storefront": "xcart", "status": status}) is not None, status


def test_content_length_with_transfer_encoding_is_refused(webhook):
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(GOOD), GOOD)
    head = request_head(webhook, f"Content-Length: {len(GOOD)}\r\nTransfer-Encoding: chunked", signed(GOOD))
    answer = raw_exchange(webhook["port"], head + chunked)
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert b"connection: close" in answer.lower()


def test_body_that_stalls_gets_408_and_the_connection_closed(webhook):
    head = request_head(webhook, f"Content-Length: {1024 * 1024}", signed(GOOD))
    answer = raw_exchange(webhook["port"], head + b'{"event":"')     # 10 bytes of 1 MiB, then nothing
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]


def test_idle_keep_alive_connection_is_closed(webhook):
    head = request_head(webhook, f"Content-Length: {len(GOOD)}", signed(GOOD))
    with socket.create_connection(("127.0.0.1", webhook["port"]), timeout=30) as s:
        s.sendall(head + GOOD)
        answer = b""
        while chunk := s.recv(65536):    # the server ends the idle connection after its answer
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 202 ")
    webhook["accepted"].append(json.loads(answer.split(b"\r\n\r\n", 1)[1])["event_id"])


def test_idle_and_trickling_connections_do_not_exhaust_the_server(webhook):
    """100 sockets that send nothing and 100 that send a request head a byte at a time: the server
    cuts them all (header deadline), and a normal delivery meanwhile gets its 202."""
    head = request_head(webhook, f"Content-Length: {len(GOOD)}", {"X-Padding": "p" * 400})
    socks = [socket.create_connection(("127.0.0.1", webhook["port"]), timeout=30) for _ in range(200)]
    trickling, sent = set(socks[100:]), dict.fromkeys(socks, 0)
    open_socks, answers = set(socks), {}
    delivery: dict = {}
    sender = threading.Thread(target=lambda: delivery.update(r=post(webhook, GOOD)), daemon=True)
    try:
        for step in range(300):                         # bounded: 300 rounds of 0.1 s at most
            if step == 5:
                sender.start()
            for s in trickling & open_socks:
                if sent[s] < len(head) - 4:             # never completes the head
                    try:
                        s.send(head[sent[s]:sent[s] + 1])
                        sent[s] += 1
                    except OSError:
                        pass
            readable, _, _ = select.select(list(open_socks), [], [], 0.1)
            for s in readable:
                try:
                    data = s.recv(65536)
                except OSError:
                    data = b""
                answers[s] = answers.get(s, b"") + data
                if not data:
                    open_socks.discard(s)
            if not open_socks and step > 5:
                break
        sender.join(30)
    finally:
        for s in socks:
            s.close()
    assert delivery["r"].status_code == 202
    assert not open_socks, f"{len(open_socks)} connections still open"
    assert all(answers[s].startswith(b"HTTP/1.1 408 ") for s in trickling)
    assert all(answers[s] == b"" for s in socks[:100])


def test_connections_beyond_the_cap_get_503(webhook):
    s = webhook["settings"].model_copy(update={"http_port": free_port(), "webhook_max_connections": 4,
                                               "webhook_header_timeout_s": 60.0})
    with serving(create_webhook_app(webhook["app"], {webhook["pair"]: PairRoute("xcart", "default", SECRET)}),
                 s) as server:
        idle = [socket.create_connection(("127.0.0.1", s.http_port)) for _ in range(3)]
        try:
            wait_until(lambda: len(server.server_state.connections) >= 3, timeout=10, message="idle connections")
            r = httpx.post(f"http://127.0.0.1:{s.http_port}/webhooks/xcart/{webhook['pair']}", content=GOOD,
                           headers=signed(GOOD), timeout=30)
            assert r.status_code == 503
        finally:
            for sock in idle:
                sock.close()
        wait_until(lambda: not server.server_state.connections, timeout=10, message="idle connections closed")
        r = httpx.post(f"http://127.0.0.1:{s.http_port}/webhooks/xcart/{webhook['pair']}", content=GOOD,
                       headers=signed(GOOD), timeout=30)
        assert r.status_code == 202
        webhook["accepted"].append(r.json()["event_id"])


def test_broker_that_does_not_acknowledge_gets_503(monkeypatch):
    """Nothing listens on the broker address: the delivery waits for the ack up to the (here shortened)
    ack timeout and is answered 503, which the store retries."""
    import sagebridge_ingest.webhook as webhook_module
    monkeypatch.setattr(webhook_module, "_ACK_TIMEOUT_S", 1.0)
    pair = unique("pair")
    s = IngestSettings(kafka_bootstrap_servers=f"127.0.0.1:{free_port()}", pair_id=pair,
                       ops_port=0, http_host="127.0.0.1", http_port=free_port(), **LIMITS)
    app = Application(s, configure_logging=False)
    before = REGISTRY.get_sample_value("sagebridge_webhook_requests_total", {"storefront": "xcart", "status": "503"})
    try:
        with serving(create_webhook_app(app, {pair: PairRoute("xcart", "default", SECRET)}), s):
            r = httpx.post(f"http://127.0.0.1:{s.http_port}/webhooks/xcart/{pair}", content=GOOD,
                           headers=signed(GOOD), timeout=30)
    finally:
        app.close(timeout=1)
    assert r.status_code == 503 and r.json()["error"]
    assert REGISTRY.get_sample_value("sagebridge_webhook_requests_total",
                                     {"storefront": "xcart", "status": "503"}) == before + 1


VECTOR_SECRET = "vector-secret-0123456789"
VECTOR_TIMESTAMP = 1764547200
VECTOR_BODY = b'{"event":"order.created","order_id":42,"order_number":"00042"}'
# printf '%s' '1764547200.<VECTOR_BODY>' | openssl dgst -sha256 -hmac 'vector-secret-0123456789'
VECTOR_SIGNATURE = "sha256=b850a9540b1b6c5dd329d5799f35c5635dd6d51199bfcfe51ace675c307c36eb"


def test_signature_test_vector_matches_simulator_and_ingest():
    assert push.signature(VECTOR_SECRET, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE
    headers = push.signed_headers(VECTOR_SECRET, VECTOR_BODY, VECTOR_TIMESTAMP + 0.9)
    assert headers[signing.TIMESTAMP_HEADER] == str(VECTOR_TIMESTAMP)
    assert headers[signing.SIGNATURE_HEADER] == VECTOR_SIGNATURE
    assert signing.verify(VECTOR_SECRET, str(VECTOR_TIMESTAMP), VECTOR_BODY, VECTOR_SIGNATURE,
                          now=VECTOR_TIMESTAMP + 299, tolerance=300)
    assert not signing.verify(VECTOR_SECRET, str(VECTOR_TIMESTAMP + 1), VECTOR_BODY, VECTOR_SIGNATURE,
                              now=VECTOR_TIMESTAMP, tolerance=300)


def test_simulator_push_is_accepted(webhook):
    notifier = push.PushNotifier(attempts=1)
    notifier.configure(webhook["push_url"], PUSH_SECRET)
    try:
        notifier.notify("order.created", {"id": 77, "order_number": "00077"})
        wait_until(lambda: notifier.stats["delivered"] + notifier.stats["failed"], timeout=30, message="push")
        assert notifier.stats["delivered"] == 1, notifier.stats
    finally:
        notifier.close()


def test_unexpected_errors_are_json_500s_logged_as_json(bootstrap, tmp_path):
    """The real entry point (JSON logging, uvicorn as ingest builds it) with a handler bug planted:
    the delivery gets a JSON 500, the traceback is inside a JSON log line, uvicorn's own warnings
    are JSON too, and the 500 is counted."""
    http_port, ops_port, pair = free_port(), free_port(), unique("pair")
    shipped = Path(__file__).resolve().parents[2] / "pairs" / "xcart-sage300.yaml"
    (tmp_path / "pairs").mkdir()
    (tmp_path / "pairs" / "pair.yaml").write_text(shipped.read_text().replace("pair: xcart-sage300", f"pair: {pair}"))
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "PAIR_ID": pair, "WEBHOOK_SECRET": SECRET,
           "PAIRS_PATH": str(tmp_path / "pairs"), "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(http_port), "OPS_PORT": str(ops_port),
           "POLL_ENABLED": "false", "FETCH_ENABLED": "false"}
    planted = ("import sagebridge_ingest.webhook as w\n"
               "def bug(body):\n    raise ZeroDivisionError('planted handler bug')\n"
               "w.parse_notification = bug\n"
               "from sagebridge_ingest.main import main\nmain()\n")
    stderr_path = tmp_path / "stderr"
    with open(stderr_path, "wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-c", planted], env=env, stderr=stderr, stdout=subprocess.DEVNULL)
    try:
        wait_for_port(http_port, timeout=60)
        r = httpx.post(f"http://127.0.0.1:{http_port}/webhooks/xcart/{pair}", content=GOOD,
                       headers=signed(GOOD), timeout=30)
        assert r.status_code == 500 and r.json()["error"]
        assert raw_exchange(http_port, b"NOT HTTP AT ALL\r\n\r\n").startswith(b"HTTP/1.1 400 ")
        wait_until(lambda: b"Invalid HTTP request" in stderr_path.read_bytes(), timeout=30, message="uvicorn warning")
        metrics_text = httpx.get(f"http://127.0.0.1:{ops_port}/metrics", timeout=10).text
        counts = {(s.labels["storefront"], s.labels["status"]): s.value
                  for family in text_string_to_metric_families(metrics_text) for s in family.samples
                  if s.name == "sagebridge_webhook_requests_total"}
        assert counts[("xcart", "500")] == 1 and counts[("xcart", "503")] == 0
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    lines = [l for l in stderr_path.read_text().splitlines() if l.strip()]
    entries = [json.loads(l) for l in lines]      # every line is JSON: no plain-text traceback
    assert any("ZeroDivisionError: planted handler bug" in e.get("exc", "") for e in entries)
    assert any(e["logger"].startswith("uvicorn") and "Invalid HTTP request" in e["msg"] for e in entries)


bodies = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(str.encode),
    st.fixed_dictionaries({"event": st.sampled_from(["order.created", "order.updated", "x", ""]),
                           "order_id": st.one_of(st.integers(-5, 10**12), st.text(max_size=8), st.none(),
                                                 st.booleans(), st.floats(allow_nan=False))},
                          optional={"extra": st.text(max_size=20)}).map(lambda d: json.dumps(d).encode()),
    st.lists(st.integers(), max_size=3).map(lambda d: json.dumps(d).encode()),
)


@hsettings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, signed_as=st.sampled_from(["valid", "garbage", "stale", None]))
def test_fuzz_never_5xx_and_only_202_produces(webhook, body, signed_as):
    headers = {"valid": signed(body), "garbage": {signing.TIMESTAMP_HEADER: str(int(time.time())),
                                                  signing.SIGNATURE_HEADER: "sha256=deadbeef"},
               "stale": signed(body, at=time.time() - 3600), None: {}}[signed_as]
    r = post(webhook, body, headers=headers)
    assert r.status_code in (202, 400, 401, 413), r.text
    if r.status_code != 202:
        assert "error" in r.json()


def test_produced_exactly_the_accepted(webhook, bootstrap, serde):
    """Runs last (file order): the topic holds exactly the deliveries that got a 202, nothing for
    the refused ones, with the order ids in canonical form."""
    recorded = {n["metadata"]["event_id"]: n for n in notifications_for(bootstrap, serde, webhook["pair"])}
    assert set(recorded) == set(webhook["accepted"])
    assert all(recorded[e]["entity_id"] == want for e, want in webhook.get("edge", {}).items())
    first = recorded[webhook["accepted"][0]]
    assert first["entity_id"] == "1234" and first["event"] == "order.created"
