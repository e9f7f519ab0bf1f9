"""The X-Cart push webhook on a real HTTP server and the real broker: good deliveries are recorded
before the 202, bad ones are refused with the right 4xx and produce nothing."""
from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from sagebridge_common import signing
from sagebridge_common.app import Application
from sagebridge_common.topics import INGEST_NOTIFICATIONS
from sagebridge_ingest.config import IngestSettings
from sagebridge_ingest.webhook import create_webhook_app
from sagebridge_sim.serve import BackgroundServer

from .conftest import create_topics, read_all, unique

SECRET = "test-secret-" + "x" * 20


@pytest.fixture(scope="module")
def webhook(bootstrap):
    create_topics(bootstrap, [INGEST_NOTIFICATIONS], partitions=3)
    pair = unique("pair")
    s = IngestSettings(kafka_bootstrap_servers=bootstrap, pair_id=pair, webhook_secret=SECRET, ops_port=0)
    app = Application(s, configure_logging=False)
    with BackgroundServer(create_webhook_app(app)) as server:
        yield {"url": f"{server.url}/webhooks/xcart/{pair}", "base": server.url, "pair": pair,
               "client": httpx.Client(timeout=30)}
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


def post(webhook, body: bytes, signature: str | None = "valid", path: str | None = None):
    headers = {"Content-Type": "application/json"}
    if signature == "valid":
        headers[signing.SIGNATURE_HEADER] = signing.sign(SECRET, body)
    elif signature is not None:
        headers[signing.SIGNATURE_HEADER] = signature
    return webhook["client"].post(path or webhook["url"], content=body, headers=headers)


def test_good_and_bad_deliveries(webhook, bootstrap, serde):
    good = json.dumps({"event": "order.created", "order_id": 1234, "order_number": "00042"}).encode()
    accepted = post(webhook, good)
    assert accepted.status_code == 202
    event_id = accepted.json()["event_id"]

    assert post(webhook, good, signature=None).status_code == 401
    assert post(webhook, good, signature="sha256=" + "0" * 64).status_code == 401
    assert post(webhook, good, signature=signing.sign("wrong-secret", good)).status_code == 401
    assert post(webhook, b"{not json").status_code == 400
    assert post(webhook, json.dumps({"event": "order.created"}).encode()).status_code == 400
    assert post(webhook, json.dumps({"event": "nope", "order_id": 1}).encode()).status_code == 400
    big = json.dumps({"event": "order.created", "order_id": 1, "pad": "x" * (1024 * 1024)}).encode()
    assert post(webhook, big).status_code == 413
    other_pair = f"{webhook['base']}/webhooks/xcart/not-{webhook['pair']}"
    assert post(webhook, good, path=other_pair).status_code == 404
    assert webhook["client"].get(webhook["url"]).status_code == 405
    assert webhook["client"].post(f"{webhook['base']}/elsewhere", content=good).status_code == 404

    recorded = notifications_for(bootstrap, serde, webhook["pair"])
    assert [n["metadata"]["event_id"] for n in recorded] == [event_id]
    assert recorded[0]["entity_id"] == "1234" and recorded[0]["event"] == "order.created"


def test_oversize_body_without_content_length_is_refused(webhook):
    def chunks():
        for _ in range(20):
            yield b"x" * (64 * 1024)
    r = webhook["client"].post(webhook["url"], content=chunks(),
                               headers={signing.SIGNATURE_HEADER: "sha256=" + "0" * 64})
    assert r.status_code == 413


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
@given(body=bodies, signed=st.sampled_from(["valid", "garbage", None]))
def test_fuzz_never_5xx_and_only_202_produces(webhook, body, signed):
    sig = "sha256=deadbeef" if signed == "garbage" else signed
    r = post(webhook, body, signature=sig)
    assert r.status_code < 500, r.text
    assert r.status_code in (202, 400, 401, 413)
    if r.status_code == 202:
        webhook.setdefault("fuzz_accepted", []).append(r.json()["event_id"])
    else:
        assert "error" in r.json()


def test_fuzz_produced_exactly_the_accepted(webhook, bootstrap, serde):
    """Runs after the fuzz test (file order): the topic holds the good delivery of the first test
    plus exactly the fuzz bodies that got a 202, nothing for the refused ones."""
    accepted = set(webhook.get("fuzz_accepted", []))
    recorded = {n["metadata"]["event_id"] for n in notifications_for(bootstrap, serde, webhook["pair"])}
    assert accepted <= recorded
    assert len(recorded) == len(accepted) + 1
