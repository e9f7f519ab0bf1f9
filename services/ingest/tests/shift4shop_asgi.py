"""Driving ingest's webhook ASGI application directly, with no broker and no HTTP server.

`FakeBroker` stands in for the Application: it encodes every output with the real schema
catalogue (so a notification the real producer would refuse fails here too), records what was
published, and acknowledges from another thread a moment later, as the producer's delivery thread
does; `acked_before_answer` tells whether the answer waited for that acknowledgement."""
from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from types import SimpleNamespace

from pydantic import SecretStr

from sagebridge_common.avro_serde import serde_from_settings
from sagebridge_common.app import DeliveryError
from sagebridge_ingest.config import IngestSettings
from sagebridge_ingest.webhook import create_webhook_app

PAIR = "s4s-pair"
TOKEN = "tok-" + "Q" * 28
PATH = f"/webhooks/shift4shop/{PAIR}/{TOKEN}"
PEER = ("203.0.113.7", 40123)


class FakeBroker:
    def __init__(self, settings: IngestSettings, pairs: dict | None = None, *, fail: bool = False) -> None:
        self.settings, self.pairs, self.fail = settings, pairs or {}, fail
        self.serde = serde_from_settings(settings)
        self.published: list = []
        self.acked = threading.Event()

    def publish(self, outputs, on_done=None) -> None:
        for o in outputs:
            self.serde.serialize(o.schema, o.value)
        self.published.extend(outputs)

        def ack() -> None:
            self.acked.set()
            on_done(DeliveryError("broker down") if self.fail else None)
        threading.Timer(0.02, ack).start()


@dataclass
class Answer:
    status: int
    body: dict
    headers: dict
    acked_before_answer: bool = False
    published: list = field(default_factory=list)


def settings(**over) -> IngestSettings:
    base = {"kafka_bootstrap_servers": "127.0.0.1:9", "ops_port": 0, "webhook_read_timeout_s": 0.3,
            "webhook_max_body_bytes": 4096}
    return IngestSettings(**{**base, **over})


def pair_stub(kind: str = "shift4shop", **block) -> SimpleNamespace:
    """A pair whose storefront block has what ingest reads of a Shift4Shop block (kind, instance,
    webhook_token, webhook_allow_ips); the real connector model is not needed for that."""
    defaults = {"kind": kind, "instance": "default", "webhook_token": SecretStr(TOKEN), "webhook_allow_ips": []}
    return SimpleNamespace(storefront=SimpleNamespace(**{**defaults, **block}))


def make_app(*, pair: SimpleNamespace | None = None, fail: bool = False, **settings_over):
    broker = FakeBroker(settings(**settings_over), {PAIR: pair or pair_stub()}, fail=fail)
    return broker, create_webhook_app(broker)


async def _call(asgi, broker: FakeBroker, path: str, body: bytes, method: str, headers: dict[str, str],
                client, hang: bool) -> Answer:
    head = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    if not hang and "content-length" not in {k.lower() for k in headers}:
        head.append((b"content-length", str(len(body)).encode()))
    scope = {"type": "http", "method": method, "path": path, "headers": head, "client": client}
    messages = [] if hang else [{"type": "http.request", "body": body, "more_body": False}]
    never: asyncio.Future = asyncio.get_running_loop().create_future()

    async def receive() -> dict:
        return messages.pop(0) if messages else await never

    sent: list[dict] = []
    acked_at_answer: list[bool] = []

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            acked_at_answer.append(broker.acked.is_set())
        sent.append(message)

    before = len(broker.published)
    await asgi(scope, receive, send)
    return Answer(sent[0]["status"], json.loads(sent[1]["body"]), dict(sent[0]["headers"]), acked_at_answer[0],
                  broker.published[before:])


def call(asgi, broker: FakeBroker, path: str = PATH, body: bytes | str | object = b"", *, method: str = "POST",
         content_type: str | None = "application/json", headers: dict[str, str] | None = None,
         client=PEER, hang: bool = False) -> Answer:
    """One request; `body` may be bytes, str, or a JSON value (encoded)."""
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    raw = body.encode() if isinstance(body, str) else body
    h = {"content-type": content_type} if content_type else {}
    return asyncio.run(_call(asgi, broker, path, raw, method, {**h, **(headers or {})}, client, hang))
