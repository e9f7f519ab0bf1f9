"""`POST /webhooks/xcart/{pair}`: the push-module endpoint, as a plain ASGI application.

The request path does as little as possible: size check, HMAC check on the raw bytes, JSON shape
check, then one produce with acks=all; 202 only once the broker has the notification. Fetching the
full order happens behind it (fetcher.py), so a slow store API never slows or fails a delivery.
Every refusal happens before anything is produced.

It is one route, so it is written against ASGI directly rather than a framework: FastAPI's routing,
dependency and middleware layers cost more CPU per delivery than everything this endpoint does
(bench/webhook_ingest.py measures it against a bare FastAPI endpoint).
"""
from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import deque
from typing import Any, Awaitable, Callable

from sagebridge_common import metrics, signing
from sagebridge_common.events import Output, new_metadata, utcnow
from sagebridge_common.topics import INGEST_NOTIFICATIONS

log = logging.getLogger(__name__)
NOTIFICATION_SCHEMA = "sagebridge.v1.StorefrontNotification"
ROUTE_PREFIX = "/webhooks/xcart/"
_EVENTS = {"order.created", "order.updated", "order.status_changed"}
_SIGNATURE_HEADER = signing.SIGNATURE_HEADER.lower().encode()
_ACK_TIMEOUT_S = 30.0

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


class Refusal(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def parse_notification(body: bytes) -> dict:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Refusal(400, "body is not valid JSON")
    if not isinstance(doc, dict):
        raise Refusal(400, "body must be a JSON object")
    event, order_id = doc.get("event"), doc.get("order_id")
    if event not in _EVENTS:
        raise Refusal(400, f"unknown event {str(event)[:40]!r}")
    if isinstance(order_id, bool) or not isinstance(order_id, (int, str)) or not str(order_id).isdigit():
        raise Refusal(400, "order_id must be a positive integer")
    return {"event": event, "order_id": str(int(order_id))}


def notification_output(note: dict, *, storefront: str, instance: str, pair_id: str) -> Output:
    now = utcnow()
    meta = new_metadata(f"notification.{note['event']}", source_system=storefront, source_instance=instance,
                        source_entity_id=note["order_id"], pair_id=pair_id, occurred_at=now)
    value = {"metadata": meta, "storefront": storefront, "entity_type": "order", "entity_id": note["order_id"],
             "event": note["event"], "received_at": now}
    return Output(INGEST_NOTIFICATIONS, note["order_id"], NOTIFICATION_SCHEMA, value)


class DeliveryBridge:
    """Hands broker acknowledgements (arriving on the producer's thread) to the event loop. Under
    load many arrive at once, so they are queued and the loop is woken once per batch rather than
    once per record (each wake-up is a syscall)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._pending: deque[tuple[asyncio.Future, Exception | None]] = deque()
        self._lock = threading.Lock()
        self._scheduled = False

    def resolve(self, fut: asyncio.Future, err: Exception | None) -> None:
        with self._lock:
            self._pending.append((fut, err))
            if self._scheduled:
                return
            self._scheduled = True
        self.loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        with self._lock:
            items = list(self._pending)
            self._pending.clear()
            self._scheduled = False
        for fut, err in items:
            if not fut.done():
                fut.set_exception(err) if err else fut.set_result(None)


async def read_body(receive: Receive, declared: int | None, limit: int) -> bytes:
    if declared is not None and declared > limit:
        raise Refusal(413, f"body over {limit} bytes")
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Refusal(400, "client disconnected")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise Refusal(413, f"body over {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def respond(send: Send, status: int, body: dict) -> None:
    payload = json.dumps(body, separators=(",", ":")).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


class WebhookApp:
    """`app` is the service's Application; its settings name the pair and hold the secret."""

    def __init__(self, app) -> None:
        self.app = app
        s = app.settings
        self.pair_id = s.pair_id
        self.instance = s.store_instance
        self.limit = s.webhook_max_body_bytes
        self.secret = s.webhook_secret.get_secret_value()
        self.counters = {status: metrics.WEBHOOK_REQUESTS.labels("xcart", str(status))
                         for status in (202, 400, 401, 404, 405, 413, 503)}
        self._bridges: dict[asyncio.AbstractEventLoop, DeliveryBridge] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return await self._lifespan(receive, send)
        if scope["type"] != "http":
            return
        status, body = await self._handle(scope, receive)
        self.counters[status].inc()
        await respond(send, status, body)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _handle(self, scope: Scope, receive: Receive) -> tuple[int, dict]:
        try:
            path = scope["path"]
            if not path.startswith(ROUTE_PREFIX) or path[len(ROUTE_PREFIX):] != self.pair_id:
                raise Refusal(404, "unknown integration pair" if path.startswith(ROUTE_PREFIX) else "not found")
            if scope["method"] != "POST":
                raise Refusal(405, "use POST")
            headers = dict(scope["headers"])
            declared = headers.get(b"content-length")
            raw = await read_body(receive, int(declared) if declared and declared.isdigit() else None, self.limit)
            signature = headers.get(_SIGNATURE_HEADER)
            if not signing.verify(self.secret, raw, signature.decode("latin-1") if signature else None):
                raise Refusal(401, "bad or missing signature")
            note = parse_notification(raw)
        except Refusal as r:
            return r.status, {"error": str(r)}
        output = notification_output(note, storefront="xcart", instance=self.instance, pair_id=self.pair_id)
        try:
            await self._publish(output)
        except Exception as e:
            log.error("notification not acknowledged by the broker", extra={"error": str(e)[:300]})
            return 503, {"error": "could not record the notification; retry later"}
        return 202, {"accepted": True, "event_id": output.value["metadata"]["event_id"]}

    async def _publish(self, output: Output) -> None:
        loop = asyncio.get_running_loop()
        bridge = self._bridges.get(loop) or self._bridges.setdefault(loop, DeliveryBridge(loop))
        fut: asyncio.Future = loop.create_future()
        self.app.publish([output], lambda err: bridge.resolve(fut, err))
        async with asyncio.timeout(_ACK_TIMEOUT_S):
            await fut


def create_webhook_app(app) -> WebhookApp:
    return WebhookApp(app)
