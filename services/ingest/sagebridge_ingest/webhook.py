"""`POST /webhooks/xcart/{pair}`: the push-module endpoint.

The request path does as little as possible: size check, HMAC check on the raw bytes, JSON shape
check, then one produce with acks=all; 202 only once the broker has the notification. Fetching the
full order happens behind it (fetcher.py), so a slow store API never slows or fails a delivery.
Every refusal happens before anything is produced.
"""
from __future__ import annotations

import asyncio
import json
import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from sagebridge_common import metrics, signing
from sagebridge_common.events import Output, new_metadata, utcnow
from sagebridge_common.topics import INGEST_NOTIFICATIONS

log = logging.getLogger(__name__)
NOTIFICATION_SCHEMA = "sagebridge.v1.StorefrontNotification"
_EVENTS = {"order.created", "order.updated", "order.status_changed"}


class Refusal(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Refusal(413, f"body over {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refusal(413, f"body over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


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


def create_webhook_app(app) -> FastAPI:
    """`app` is the service's Application; its settings name the pair and hold the secret."""
    s = app.settings
    secret = s.webhook_secret.get_secret_value()
    api = FastAPI(title="Sagebridge ingest", docs_url=None, redoc_url=None)

    async def publish(output: Output) -> None:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future = loop.create_future()

        def done(err):
            loop.call_soon_threadsafe(lambda: fut.done() or (fut.set_exception(err) if err else fut.set_result(None)))

        app.publish([output], done)
        await asyncio.wait_for(fut, timeout=30)

    @api.post("/webhooks/xcart/{pair}")
    async def xcart_webhook(pair: str, request: Request):
        status, body = await _handle(pair, request)
        metrics.WEBHOOK_REQUESTS.labels("xcart", str(status)).inc()
        return JSONResponse(body, status_code=status)

    async def _handle(pair: str, request: Request) -> tuple[int, dict]:
        try:
            if pair != s.pair_id:
                raise Refusal(404, "unknown integration pair")
            raw = await read_limited(request, s.webhook_max_body_bytes)
            if not signing.verify(secret, raw, request.headers.get(signing.SIGNATURE_HEADER)):
                raise Refusal(401, "bad or missing signature")
            note = parse_notification(raw)
        except Refusal as r:
            return r.status, {"error": str(r)}
        output = notification_output(note, storefront="xcart", instance=s.store_instance, pair_id=s.pair_id)
        try:
            await publish(output)
        except Exception as e:
            log.error("notification not acknowledged by the broker", extra={"error": str(e)[:300]})
            return 503, {"error": "could not record the notification; retry later"}
        return 202, {"accepted": True, "event_id": output.value["metadata"]["event_id"]}

    return api
