"""Delivers webhook notifications to the subscribed URLs from a background thread.

What the real store sends is not confirmed (shift4shop.md §3 "Not confirmed: ... the delivered body
shape, retries, and any signature"). The simulator follows the reference's working assumption:
- the body is the object array the REST GET returns for the entity (`[Order]`, `[Customer]`,
  `[Product]`), in the hook's Format: JSON, or XML whose element names are the JSON keys, under
  `<Orders><Order>...`, `<Customers><Customer>...`, `<Products><Product>...`; list members are named by
  dropping the `List` suffix (`<OrderItemList><OrderItem>`); booleans `true`/`false`;
- no signature or secret header (none exists in any source, §3);
- a failed delivery (network error, 429, 5xx) is retried `attempts` times in all with backoff, then
  dropped (retry policy unknown; configurable).
Test controls (`/_sim/webhooks`): `enabled` false drops notifications instead of queueing them (an
order placed then is only found by polling); `repeat` N sends every notification N times (duplicate
deliveries, which the hub must dedupe).
"""
from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from xml.sax.saxutils import escape

import httpx

from .webhooks import WebhookRegistry
from .wire import to_json

log = logging.getLogger(__name__)

_STOP = object()
_ROOTS = {"order": ("Orders", "Order"), "customer": ("Customers", "Customer"), "product": ("Products", "Product")}


def entity_of(event: str) -> str:
    return event.split(".", 1)[0]


def xml_body(entity: str, objects: list[dict[str, Any]]) -> bytes:
    root, member = _ROOTS[entity]
    parts = ['<?xml version="1.0" encoding="utf-8"?>', f"<{root}>"]
    for obj in objects:
        parts.append(_element(member, obj))
    parts.append(f"</{root}>")
    return "".join(parts).encode()


def _element(name: str, value: Any) -> str:
    if isinstance(value, dict):
        return f"<{name}>" + "".join(_element(k, v) for k, v in value.items()) + f"</{name}>"
    if isinstance(value, list):
        child = name[:-4] if name.endswith("List") and len(name) > 4 else "Item"
        return f"<{name}>" + "".join(_element(child, v) for v in value) + f"</{name}>"
    if value is None:
        return f"<{name} />"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, Decimal):
        text = str(value)
    else:
        text = str(value)
    return f"<{name}>{escape(text)}</{name}>"


def json_body(objects: list[dict[str, Any]]) -> bytes:
    return json.dumps(to_json(objects)).encode()


def redact(url: str) -> str:
    """The URL without its last path segment, for logs: the hub's webhook URL ends in a secret token
    (issue 8 contract: `/webhooks/shift4shop/{pair}/{webhook_token}`)."""
    split = urlsplit(url)
    head, _, last = split.path.rpartition("/")
    return urlunsplit((split.scheme, split.netloc, f"{head}/***" if last else split.path, "", ""))


@dataclass(frozen=True)
class _Delivery:
    event: str
    hook_id: int
    name: str
    url: str
    fmt: str
    body: bytes


class WebhookEmitter:
    """Store listener (`notify(event, snapshot)`) feeding one daemon worker thread."""

    def __init__(self, registry: WebhookRegistry, attempts: int = 3, backoff_s: float = 0.2,
                 timeout_s: float = 5.0, max_queue: int = 100_000) -> None:
        self.registry = registry
        self.attempts, self.backoff_s, self.timeout_s = attempts, backoff_s, timeout_s
        self.enabled = True
        self.repeat = 1
        self._queue: queue.Queue = queue.Queue(maxsize=max_queue)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._log: deque[dict[str, Any]] = deque(maxlen=10_000)
        self._seq = 0
        self.stats = {"queued": 0, "delivered": 0, "failed": 0, "suppressed": 0, "attempts": 0, "dropped": 0}

    def configure(self, enabled: bool | None = None, repeat: int | None = None, attempts: int | None = None) -> dict:
        with self._lock:
            if enabled is not None:
                self.enabled = enabled
            if repeat is not None:
                if repeat < 1:
                    raise ValueError("repeat must be >= 1")
                self.repeat = repeat
            if attempts is not None:
                if attempts < 1:
                    raise ValueError("attempts must be >= 1")
                self.attempts = attempts
        return self.snapshot()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"enabled": self.enabled, "repeat": self.repeat, "max_attempts": self.attempts,
                    "pending": self._queue.qsize(), **self.stats}

    def deliveries(self, since: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            return [d for d in self._log if d["seq"] > since]

    def notify(self, event: str, snapshot: dict[str, Any]) -> None:
        """Never blocks the store: queue full drops (and counts) the notification."""
        targets = self.registry.targets(event)
        if not targets:
            return
        if not self.enabled:
            self._count("suppressed", len(targets))
            return
        entity = entity_of(event)
        for hook in targets:
            body = xml_body(entity, [snapshot]) if hook["Format"] == "XML" else json_body([snapshot])
            for _ in range(self.repeat):
                self._enqueue(_Delivery(event, hook["Id"], hook["Name"], hook["Url"], hook["Format"], body))

    def _enqueue(self, d: _Delivery) -> None:
        self._ensure_worker()
        try:
            self._queue.put_nowait(d)
            self._count("queued")
        except queue.Full:
            self._count("dropped")
            log.warning("webhook queue full; dropped %s to %s", d.event, redact(d.url))

    def _ensure_worker(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="shift4shop-webhooks", daemon=True)
                self._thread.start()

    def close(self, timeout: float = 2.0) -> None:
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._queue.put(_STOP)
            thread.join(timeout)

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.stats[key] += n

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout_s) as client:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    return
                self._deliver(client, item)

    def _deliver(self, client: httpx.Client, d: _Delivery) -> None:
        ctype = "application/xml; charset=utf-8" if d.fmt == "XML" else "application/json; charset=utf-8"
        status, attempt = 0, 0
        for attempt in range(1, self.attempts + 1):
            self._count("attempts")
            try:
                status = client.post(d.url, content=d.body, headers={"Content-Type": ctype}).status_code
            except httpx.HTTPError as e:
                log.info("webhook %s to %s failed: %s", d.event, redact(d.url), type(e).__name__)
                status = 0
            if 200 <= status < 300 or (400 <= status < 500 and status != 429):
                break
            if attempt < self.attempts:
                time.sleep(self.backoff_s * (3 ** (attempt - 1)))
        ok = 200 <= status < 300
        self._count("delivered" if ok else "failed")
        with self._lock:
            self._seq += 1
            self._log.append({"seq": self._seq, "event": d.event, "hook_id": d.hook_id, "name": d.name,
                              "url": redact(d.url),
                              "format": d.fmt, "status": status, "attempts": attempt, "ok": ok,
                              "time": time.time(), "bytes": len(d.body)})
