"""`POST /webhooks/{storefront}/{pair}`: the push-module endpoint, as a plain ASGI application.

(Stores that sign nothing, Shift4Shop, are served by the same application on
`/webhooks/{storefront}/{pair}/{webhook_token}`: webhook_token_route.py.)

The request path does as little as possible: route lookup, size and time limits, timestamped HMAC
check on the raw bytes, strict JSON shape check, then one produce with acks=all; 202 only once the
broker has the notification. Fetching the full order happens behind it (fetcher.py), so a slow store
API never slows or fails a delivery. Every refusal happens before anything is produced, and an
unexpected exception is logged through the JSON logger and answered 500 with a JSON body.

It is one route per pair, so it is written against ASGI directly rather than a framework: FastAPI's
routing, dependency and middleware layers cost more CPU per delivery than everything this endpoint
does (bench/webhook_ingest.py measures it against a bare FastAPI endpoint). Everything a route needs
(its path, key, counters) is computed once, so a request costs one dict lookup to route.
"""
from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Mapping

from sagebridge_common import metrics, signing
from sagebridge_common.events import Output, new_metadata, utcnow
from sagebridge_common.topics import INGEST_NOTIFICATIONS

from .webhook_parse import Refusal, parse_notification
from .webhook_token_route import (TokenPairRoute, TokenRoute, TokenRoutes, check_caller, loggable_path, networks,
                                  parse_body, token_routes_from_pairs)

log = logging.getLogger(__name__)
NOTIFICATION_SCHEMA = "sagebridge.v1.StorefrontNotification"
ROUTE_PREFIX = "/webhooks/"
STATUSES = (202, 400, 401, 404, 405, 408, 413, 500, 503)
UNROUTED = "unrouted"        # the metric's storefront label for paths that name no pair we serve
_SIGNATURE_HEADER = signing.SIGNATURE_HEADER.lower().encode()
_TIMESTAMP_HEADER = signing.TIMESTAMP_HEADER.lower().encode()
_ACK_TIMEOUT_S = 30.0

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


@dataclass(frozen=True)
class PairRoute:
    """What one integration pair's push module is: its storefront kind, store instance and secret."""
    storefront: str
    instance: str
    secret: str


@dataclass(frozen=True)
class _Route:
    pair_id: str
    storefront: str
    instance: str
    secret: str
    counters: Mapping[int, Any]


def entity_key(entity_type: str, entity_id: str) -> str:
    """The Kafka key of a record about one store entity: the order id as before, `profile:<id>` for
    a profile, so a profile and an order with the same number are never taken for one another."""
    return entity_id if entity_type == "order" else f"{entity_type}:{entity_id}"


def notification_output(note: dict, *, storefront: str, instance: str, pair_id: str) -> Output:
    """`note`: `parse_notification`'s `{"event", "entity_type", "entity_id"}`."""
    now = utcnow()
    entity_type, entity_id = note["entity_type"], note["entity_id"]
    meta = new_metadata(f"notification.{note['event']}", source_system=storefront, source_instance=instance,
                        source_entity_id=entity_id, pair_id=pair_id, occurred_at=now)
    value = {"metadata": meta, "storefront": storefront, "entity_type": entity_type, "entity_id": entity_id,
             "event": note["event"], "received_at": now}
    return Output(INGEST_NOTIFICATIONS, entity_key(entity_type, entity_id), NOTIFICATION_SCHEMA, value)


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


class Deadlines:
    """Cancels tasks whose deadline has passed. One timer per loop checks them a few times a second
    while any are pending, so a request pays a dict insert and delete instead of a timer of its own
    (`asyncio.timeout` costs several microseconds per use, a visible share of this endpoint, which
    bounds both the body read and the broker's ack)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, interval: float = 0.25) -> None:
        self.loop = loop
        self.interval = interval
        self._due: dict[asyncio.Task, float] = {}
        self._expired: set[asyncio.Task] = set()
        self._sweeping = False

    def start(self, task: asyncio.Task, timeout: float) -> None:
        self._due[task] = self.loop.time() + timeout
        if not self._sweeping:
            self._sweeping = True
            self.loop.call_later(min(self.interval, timeout), self._sweep)

    def finish(self, task: asyncio.Task) -> bool:
        """Stops watching `task`; True when its deadline passed and it was cancelled for that."""
        self._due.pop(task, None)
        if task in self._expired:
            self._expired.discard(task)
            return True
        return False

    def _sweep(self) -> None:
        now = self.loop.time()
        for task, at in list(self._due.items()):
            if at <= now:
                del self._due[task]
                self._expired.add(task)
                task.cancel()
        self._sweeping = bool(self._due)
        if self._sweeping:
            self.loop.call_later(self.interval, self._sweep)


async def read_body(receive: Receive, declared: int | None, limit: int) -> bytes:
    if declared is not None and declared > limit:
        raise Refusal(413, f"body over {limit} bytes")
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Refusal(400, "client disconnected", close=True)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise Refusal(413, f"body over {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


_JSON = (b"content-type", b"application/json")
_CLOSE = (b"connection", b"close")


async def respond(send: Send, status: int, body: dict | bytes, close: bool = False) -> None:
    payload = body if type(body) is bytes else json.dumps(body, separators=(",", ":")).encode()
    headers = [_JSON, (b"content-length", str(len(payload)).encode())]
    if close:
        headers.append(_CLOSE)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class WebhookApp:
    """Serves `routes` (pair id -> PairRoute, signed) and `token_routes` (pair id -> TokenPairRoute,
    the secret in the URL: webhook_token_route.py) for `app`, the service's Application, which produces.

    Limits (from `app.settings`): bodies over `webhook_max_body_bytes` get 413, a body not received
    within `webhook_read_timeout_s` of the request head gets 408, a timestamp further than
    `webhook_timestamp_tolerance_s` from our clock gets 401."""

    def __init__(self, app, routes: Mapping[str, PairRoute],
                 token_routes: Mapping[str, TokenPairRoute] | None = None) -> None:
        self.app = app
        s = app.settings
        self.limit = s.webhook_max_body_bytes
        self.read_timeout = s.webhook_read_timeout_s
        self.tolerance = s.webhook_timestamp_tolerance_s
        self.routes = {f"{ROUTE_PREFIX}{r.storefront}/{pair}": _Route(pair, r.storefront, r.instance, r.secret,
                                                                     self._counters(r.storefront, STATUSES))
                       for pair, r in routes.items()}
        self.unrouted = self._counters(UNROUTED, (404, 500))
        self.token_routes = TokenRoutes(token_routes or {})
        self.trusted_proxies = networks(getattr(s, "webhook_trusted_proxies", ()), "WEBHOOK_TRUSTED_PROXIES")
        self._bridges: dict[asyncio.AbstractEventLoop, DeliveryBridge] = {}
        self._deadlines: dict[asyncio.AbstractEventLoop, Deadlines] = {}

    @staticmethod
    def _counters(storefront: str, statuses: tuple[int, ...]) -> dict[int, Any]:
        """Created up front so every possible answer shows in /metrics from the start, at 0."""
        return {status: metrics.WEBHOOK_REQUESTS.labels(storefront, str(status)) for status in statuses}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return await self._lifespan(receive, send)
        if scope["type"] != "http":
            return
        route = self.routes.get(scope["path"])
        tokened = self.token_routes.match(scope["path"]) if route is None and self.token_routes else None
        try:
            if tokened:
                status, body, close = await self._handle_tokened(*tokened, scope, receive)
            else:
                status, body, close = await self._handle(route, scope, receive)
        except Exception:
            log.exception("webhook request failed", extra={"path": loggable_path(scope.get("path", ""))})
            status, body, close = 500, {"error": "internal error"}, True
        (route.counters if route else tokened[0].counters if tokened else self.unrouted)[status].inc()
        await respond(send, status, body, close)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _handle(self, route: _Route | None, scope: Scope, receive: Receive) -> tuple[int, dict | bytes, bool]:
        try:
            note = await self._accept(route, scope, receive)
        except Refusal as r:
            return r.status, {"error": str(r)}, r.close
        output = notification_output(note, storefront=route.storefront, instance=route.instance,
                                     pair_id=route.pair_id)
        try:
            await self._publish([output])
        except Exception as e:
            log.error("notification not acknowledged by the broker", extra={"error": str(e)[:300]})
            return 503, {"error": "could not record the notification; retry later"}, False
        return 202, b'{"accepted":true,"event_id":"%s"}' % output.value["metadata"]["event_id"].encode(), False

    async def _accept(self, route: _Route | None, scope: Scope, receive: Receive) -> dict:
        """The notification, or a Refusal; nothing here produces."""
        if route is None:
            raise Refusal(404, "no such webhook (unknown storefront or integration pair)")
        if scope["method"] != "POST":
            raise Refusal(405, "use POST")
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and b"transfer-encoding" in headers:
            # RFC 9112 §6.1: such a message may be rejected and must not be forwarded; the framing is
            # ambiguous (request smuggling), so the connection is not reused either.
            raise Refusal(400, "both Content-Length and Transfer-Encoding", close=True)
        try:
            raw = await self._bounded(read_body(receive, int(declared) if declared else None, self.limit),
                                      self.read_timeout)
        except TimeoutError:
            raise Refusal(408, f"body not received within {self.read_timeout:g}s", close=True) from None
        timestamp, signature = headers.get(_TIMESTAMP_HEADER), headers.get(_SIGNATURE_HEADER)
        problem = signing.refusal(route.secret, timestamp.decode("latin-1") if timestamp else None, raw,
                                  signature.decode("latin-1") if signature else None, time.time(), self.tolerance)
        if problem:
            raise Refusal(401, problem)
        return parse_notification(raw)

    async def _read(self, receive: Receive, declared: bytes | None) -> bytes:
        """The body for a token route (X-Cart's route inlines the same, see _accept)."""
        try:
            return await self._bounded(read_body(receive, int(declared) if declared else None, self.limit),
                                       self.read_timeout)
        except TimeoutError:
            raise Refusal(408, f"body not received within {self.read_timeout:g}s", close=True) from None

    async def _handle_tokened(self, route: TokenRoute, token: str, scope: Scope,
                              receive: Receive) -> tuple[int, dict | bytes, bool]:
        """A token route's delivery: every entity it names recorded, or nothing (see
        webhook_token_route.py for the checks and their order)."""
        try:
            notes = await self._accept_tokened(route, token, scope, receive)
        except Refusal as r:
            return r.status, {"error": str(r)}, r.close
        outputs = [notification_output(n, storefront=route.storefront, instance=route.instance,
                                       pair_id=route.pair_id) for n in notes]
        try:
            await self._publish(outputs)
        except Exception as e:
            log.error("notifications not acknowledged by the broker", extra={"error": str(e)[:300]})
            return 503, {"error": "could not record the notifications; retry later"}, False
        return 202, {"accepted": True, "event_ids": [o.value["metadata"]["event_id"] for o in outputs]}, False

    async def _accept_tokened(self, route: TokenRoute, token: str, scope: Scope, receive: Receive) -> list[dict]:
        if scope["method"] != "POST":
            raise Refusal(405, "use POST")
        headers = scope["headers"]
        check_caller(route, token, scope, headers, self.trusted_proxies)
        declared = next((v for k, v in headers if k == b"content-length"), None)
        if declared is not None and any(k == b"transfer-encoding" for k, _ in headers):
            raise Refusal(400, "both Content-Length and Transfer-Encoding", close=True)   # as in _accept
        return parse_body(await self._read(receive, declared), headers)

    async def _bounded(self, awaitable: Awaitable, timeout: float) -> Any:
        """`await awaitable`, or TimeoutError after `timeout` seconds (see Deadlines for why not
        asyncio.timeout)."""
        task = asyncio.current_task()
        loop = task.get_loop()
        deadlines = self._deadlines.get(loop) or self._deadlines.setdefault(loop, Deadlines(loop))
        deadlines.start(task, timeout)
        try:
            return await awaitable
        except asyncio.CancelledError:
            if not deadlines.finish(task) or task.uncancel() > 0:   # someone else cancels too (shutdown)
                raise
            raise TimeoutError(f"not done within {timeout:g}s") from None
        finally:
            deadlines.finish(task)

    async def _publish(self, outputs: list[Output]) -> None:
        """Returns once the broker acknowledged every one of `outputs` (raises otherwise)."""
        loop = asyncio.get_running_loop()
        bridge = self._bridges.get(loop) or self._bridges.setdefault(loop, DeliveryBridge(loop))
        fut: asyncio.Future = loop.create_future()
        self.app.publish(outputs, lambda err: bridge.resolve(fut, err))
        await self._bounded(fut, _ACK_TIMEOUT_S)


def routes_from_pairs(pairs: Mapping) -> dict[str, PairRoute]:
    """One signed route per served pair whose `storefront:` block has a `webhook_secret` (X-Cart's
    push module: kind, instance, secret); token-authenticated stores get theirs from
    `token_routes_from_pairs`."""
    return {pid: PairRoute(pair.storefront.kind, pair.storefront.instance,
                           pair.storefront.webhook_secret.get_secret_value())
            for pid, pair in pairs.items() if getattr(pair.storefront, "webhook_secret", None) is not None}


def create_webhook_app(app, routes: Mapping[str, PairRoute] | None = None,
                       token_routes: Mapping[str, TokenPairRoute] | None = None) -> WebhookApp:
    """Routes from `app.pairs` unless given (tests give them); giving `routes` alone serves no
    token routes."""
    if routes is None and token_routes is None:
        routes, token_routes = routes_from_pairs(app.pairs), token_routes_from_pairs(app.pairs)
    return WebhookApp(app, routes or {}, token_routes)
