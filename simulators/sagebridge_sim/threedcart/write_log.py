"""Every write operation a client sends to `POST /cart.asmx`, in arrival order, for tests and
benchmarks of the ERP -> store direction ("replaceStock always sent", "one status write per
event"). It wraps the fault middleware, so a throttled or failed write is recorded too with its HTTP
status (`ok` false), and a retry shows up as a second entry. `userKey` is never recorded.

An entry: `{seq, at, op, key, params, status, ok, error_id}`; `key` is the SKU for inventory writes
and the invoice for order writes; `error_id` the `<Error><Id>` the store answered (None on success).
"""
from __future__ import annotations

import re
import threading
import time
from collections import deque
from typing import Any

from .soap import SoapFault, parse_request

WRITE_OPS = {"updateProductInventory", "updateOrderStatus", "updateOrderShipment"}
_ERROR_ID = re.compile(rb"<Error[^>]*>\s*<Id>(\d+)</Id>")
MAX_ENTRIES = 100_000


class WriteLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=MAX_ENTRIES)
        self._seq = 0

    def record(self, op: str, params: dict[str, str], status: int, body: bytes) -> None:
        m = _ERROR_ID.search(body)
        key = params.get("productId") or params.get("invoiceNum") or ""
        with self._lock:
            self._seq += 1
            self._entries.append({
                "seq": self._seq, "at": time.time(), "op": op, "key": key,
                "params": {k: v for k, v in params.items() if k != "userKey"},
                "status": status, "error_id": int(m.group(1)) if m else None,
                "ok": status == 200 and m is None})

    def entries(self, op: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._entries if op is None or e["op"] == op]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class WriteLogMiddleware:
    """ASGI layer outside the fault middleware: buffers the request body, and for a write operation
    records the answer once it is sent."""

    def __init__(self, app, log: WriteLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != "/cart.asmx":
            return await self.app(scope, receive, send)
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        headers = dict(scope["headers"])
        try:
            op, params = parse_request(raw, (headers.get(b"soapaction") or b"").decode("latin-1"))
        except SoapFault:
            op, params = "", {}
        answer = {"status": 0, "body": b""}

        async def replay():
            return {"type": "http.request", "body": raw, "more_body": False}

        async def capture(message):
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            elif message["type"] == "http.response.body":
                answer["body"] += message.get("body", b"")
            await send(message)

        await self.app(scope, replay, capture)
        if op in WRITE_OPS:
            self.log.record(op, params, answer["status"], answer["body"])
