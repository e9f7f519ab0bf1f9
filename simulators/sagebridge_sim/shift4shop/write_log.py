"""The simulator's write log: every PUT/POST/DELETE a client sends to the Shift4Shop API, in order.

Tests and benchmarks count calls and check what was written ("one PUT /Products per 100 SKUs", "the
status write came before the tracking write") without reading store state. The ASGI layer is the
X-Cart simulator's `WriteLogMiddleware` (reused: it is generic, it hands method, path, query, request
and response bytes to `record`); it sits outside the fault middleware, so a throttled write is
logged too with its 429 (`ok` false) and a client's retries show as repeated entries. `/_sim/` admin
writes are not API writes and are not logged.

Kinds (from the path, version segment dropped): order, orders_batch, shipment, product,
products_batch, advanced_options, customer (one, by id), customers (POST or batch PUT), webhook,
other. `items` counts the records of an array body, so a benchmark can sum SKUs written per call.
"""
from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter, deque
from datetime import datetime, timezone
from typing import Any

_BASE = re.compile(r"^/3dCartWebAPI/v[12]", re.IGNORECASE)
_ROUTES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^/Orders/\d+/Shipments(?:/\d+)?$"), "shipment"),
    (re.compile(r"^/Orders/\d+$"), "order"),
    (re.compile(r"^/Orders$"), "orders_batch"),
    (re.compile(r"^/Products/\d+/AdvancedOptions$"), "advanced_options"),
    (re.compile(r"^/Products/\d+$"), "product"),
    (re.compile(r"^/Products$"), "products_batch"),
    (re.compile(r"^/Customers/\d+$"), "customer"),
    (re.compile(r"^/Customers$"), "customers"),
    (re.compile(r"^/Webhooks$"), "webhook"),
]
MAX_ENTRIES = 500_000


def classify(path: str) -> str:
    rel = _BASE.sub("", path)
    for pattern, kind in _ROUTES:
        if pattern.match(rel):
            return kind
    return "other"


def _parse(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


class ShopWriteLog:
    """Thread-safe, bounded; `record` matches `xcart.write_log.WriteLogMiddleware`'s call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=MAX_ENTRIES)
        self._seq = 0
        self._kinds: dict[str, Counter] = {}

    def record(self, method: str, path: str, query: str, body: bytes, status: int, response: bytes) -> None:
        kind, req = classify(path), _parse(body)
        ok = 200 <= status < 300
        now = time.time()
        with self._lock:
            self._seq += 1
            self._entries.append({
                "seq": self._seq, "time": datetime.fromtimestamp(now, timezone.utc).isoformat(), "epoch": now,
                "method": method, "path": path, "query": query, "kind": kind, "body": req,
                "items": len(req) if isinstance(req, list) else 1, "status": status, "ok": ok,
                "response": _parse(response)})
            counts = self._kinds.setdefault(kind, Counter())
            counts["calls"] += 1
            counts["ok" if ok else "failed"] += 1

    def read(self, since: int = 0, kind: str | None = None, limit: int = 10_000) -> dict[str, Any]:
        with self._lock:
            rows = [e for e in self._entries if e["seq"] > since and (kind is None or e["kind"] == kind)]
            return {"writes": rows[:limit], "last_seq": self._seq, "more": len(rows) > limit}

    def summary(self) -> dict[str, Any]:
        with self._lock:
            return {"last_seq": self._seq, "kinds": {k: dict(v) for k, v in self._kinds.items()}}

    def clear(self) -> None:
        """Forget entries and counters; the sequence keeps counting so old `since` values stay valid."""
        with self._lock:
            self._entries.clear()
            self._kinds.clear()
