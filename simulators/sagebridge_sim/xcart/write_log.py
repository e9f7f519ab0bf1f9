"""The simulator's write log: every write a client sends to the store's API, in arrival order.

Tests and benchmarks of the ERP -> store direction need to see what the hub wrote and in which
order ("no write older than one already made", "calls per SKU") without polling the store's state.
An ASGI layer records each POST/PUT/PATCH/DELETE on the API and on the push module's tracking
endpoint: its sequence number, time, method, path, kind, key, request body and result (status and
response body). It sits outside the fault middleware, so a throttled or faulted write is recorded
too, with its 429/503 status (`ok` false): a caller's retries show up as repeated entries.
`/_sim/...` admin writes are not API writes and are not recorded.

Kinds: product, variant, payment_status, shipping_status, category, category_product, profile,
tracking, other. `key` is the SKU for product and variant writes (from the response, else the
request body, else the stored record), the order id for status writes, the order number for
tracking, the profile id, the category id.
"""
from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter, deque
from datetime import datetime, timezone
from typing import Any

from ..faults import ADMIN_PREFIX

_WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_SFX = r"(?:\.jsonld|\.json)?"
_ROUTES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"^/api/products/(?P<pid>\d+)/variants(?:/(?P<vid>\d+){_SFX})?{_SFX}$"), "variant"),
    (re.compile(rf"^/api/products(?:/(?P<pid>\d+))?{_SFX}$"), "product"),
    (re.compile(rf"^/api/orders/(?P<oid>\d+)/payment_status{_SFX}$"), "payment_status"),
    (re.compile(rf"^/api/orders/(?P<oid>\d+)/shipping_status{_SFX}$"), "shipping_status"),
    (re.compile(rf"^/api/categories/(?P<cid>\d+)/products(?:/(?P<pid>\d+))?{_SFX}$"), "category_product"),
    (re.compile(rf"^/api/categories(?:/(?P<cid>\d+))?{_SFX}$"), "category"),
    (re.compile(rf"^/api/profiles(?:/(?P<prid>\d+))?(?:/.*)?$"), "profile"),
    (re.compile(r"^/sagebridge/tracking$"), "tracking"),
]
MAX_ENTRIES = 500_000


def classify(path: str, query: str) -> tuple[str, dict[str, str]]:
    """(kind, path ids) of a write path."""
    if path == "/" and "target=sagebridge_tracking" in query:
        return "tracking", {}
    for pattern, kind in _ROUTES:
        m = pattern.match(path)
        if m:
            return kind, {k: v for k, v in m.groupdict().items() if v is not None}
    return "other", {}


def _parse(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


class WriteLog:
    """Thread-safe, bounded (oldest dropped past `MAX_ENTRIES`), readable by sequence number."""

    def __init__(self, store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=MAX_ENTRIES)
        self._seq = 0
        self._kinds: dict[str, Counter] = {}
        self._per_sku: dict[str, Counter] = {}

    def record(self, method: str, path: str, query: str, body: bytes, status: int, response: bytes) -> None:
        kind, ids = classify(path, query)
        req, resp = _parse(body), _parse(response)
        ok = 200 <= status < 300
        key = self._key(kind, ids, req, resp)
        now = time.time()
        with self._lock:
            self._seq += 1
            self._entries.append({
                "seq": self._seq, "time": datetime.fromtimestamp(now, timezone.utc).isoformat(),
                "epoch": now, "method": method, "path": path, "query": query, "kind": kind, "key": key,
                "ids": {k: int(v) for k, v in ids.items()}, "body": req, "status": status, "ok": ok,
                "response": resp,
            })
            counts = self._kinds.setdefault(kind, Counter())
            counts["total"] += 1
            counts["ok" if ok else "failed"] += 1
            if kind in ("product", "variant") and key:
                sku = self._per_sku.setdefault(key, Counter())
                sku["total"] += 1
                sku["ok" if ok else "failed"] += 1

    def _key(self, kind: str, ids: dict[str, str], req: Any, resp: Any) -> str | None:
        for doc in (resp, req):
            if kind in ("product", "variant") and isinstance(doc, dict) and isinstance(doc.get("sku"), str):
                return doc["sku"]
        if kind == "variant" and "vid" in ids:
            v = self.store.variants.get(int(ids["vid"]))
            return v["sku"] if v else None
        if kind == "product" and "pid" in ids:
            p = self.store.products.get(int(ids["pid"]))
            return p["sku"] if p else None
        if kind == "tracking" and isinstance(req, dict):
            return str(req.get("order_number"))
        for name in ("oid", "prid", "cid"):
            if name in ids:
                return ids[name]
        return None

    def read(self, since: int = 0, kind: str | None = None, key: str | None = None,
             limit: int = 10_000) -> dict[str, Any]:
        """Entries with seq > `since` (optionally of one kind / key), oldest first, at most `limit`."""
        with self._lock:
            rows = [e for e in self._entries if e["seq"] > since and (kind is None or e["kind"] == kind)
                    and (key is None or e["key"] == key)]
            return {"writes": rows[:limit], "last_seq": self._seq, "more": len(rows) > limit}

    def summary(self) -> dict[str, Any]:
        with self._lock:
            return {"last_seq": self._seq, "kinds": {k: dict(v) for k, v in self._kinds.items()},
                    "per_sku": {k: dict(v) for k, v in self._per_sku.items()}}

    def clear(self) -> None:
        """Forget entries and counters; the sequence keeps counting so old `since` values stay valid."""
        with self._lock:
            self._entries.clear()
            self._kinds.clear()
            self._per_sku.clear()


class WriteLogMiddleware:
    """ASGI layer recording each API write with its body and the answer sent."""

    def __init__(self, app, log: WriteLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope, receive, send):
        if (scope["type"] != "http" or scope["method"] not in _WRITE_METHODS
                or scope["path"].startswith(ADMIN_PREFIX)):
            return await self.app(scope, receive, send)
        body, response, status = bytearray(), bytearray(), [0]
        while True:             # read the whole body first: a faulted request never reads it
            message = await receive()
            if message["type"] != "http.request":
                return
            body.extend(message.get("body", b""))
            if not message.get("more_body"):
                break
        replayed = [False]

        async def receive_wrapper():
            if not replayed[0]:
                replayed[0] = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            elif message["type"] == "http.response.body":
                response.extend(message.get("body", b""))
                if not message.get("more_body"):
                    self.log.record(scope["method"], scope["path"], scope.get("query_string", b"").decode(),
                                    bytes(body), status[0], bytes(response))
            await send(message)

        return await self.app(scope, receive_wrapper, send_wrapper)
