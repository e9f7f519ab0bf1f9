"""Webhook subscriptions (`GET/POST /Webhooks`, `GET /Webhooks/Events`), shift4shop.md §3 (H for
the REST management shapes).

POST body: `Name` (≤80, required), `Url` (≤1000, required, http/https), `EventType` (int, required),
`Format` ("JSON" | "XML"; default JSON), `Enabled` (bool, required). GET rows: `Id, Name, Url,
EventType, DateCreated, DateUpdated, Format, Enabled`.

ASSUMPTION (§3 "Not confirmed: the numeric EventType codes"): the simulator numbers the seven known
events 1..7 in the order below; `EVENT_TYPES` can be replaced (`create_app(event_types=...)`), and a
client should read them from `GET /Webhooks/Events` rather than hard-code them, which is what this
table is for.
"""
from __future__ import annotations

import itertools
import threading
from typing import Any, Callable

from .query import Filters
from .values import BOOL, INT, STR, FieldError, apply_fields

# store event -> (EventType code, EventName)
EVENT_TYPES: dict[str, tuple[int, str]] = {
    "order.new": (1, "Order New"),
    "order.status": (2, "Order Status Change"),
    "customer.new": (3, "Customer New"),
    "product.new": (4, "Product New"),
    "product.changed": (5, "Product Changed"),
    "product.deleted": (6, "Product Deleted"),
    "product.stock": (7, "Product Stock Changed"),
}
_WRITABLE = {"Name": STR, "Url": STR, "EventType": INT, "Format": STR, "Enabled": BOOL}


class WebhookRegistry:
    def __init__(self, now: Callable[[], float], event_types: dict[str, tuple[int, str]] | None = None) -> None:
        self._now = now
        self.event_types = dict(event_types or EVENT_TYPES)
        self._lock = threading.Lock()
        self._hooks: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(1)

    def events(self) -> list[dict[str, Any]]:
        """`GET /Webhooks/Events` rows `{EventType, EventName}` (§3)."""
        return [{"EventType": code, "EventName": name} for code, name in sorted(self.event_types.values())]

    def code_of(self, event: str) -> int | None:
        found = self.event_types.get(event)
        return found[0] if found else None

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        """FieldError for a missing or invalid member."""
        for required in ("Name", "Url", "EventType", "Enabled"):
            if body.get(required) in (None, ""):
                raise FieldError(required, body.get(required, ""))
        hook: dict[str, Any] = {"Format": "JSON"}
        apply_fields(hook, body, _WRITABLE)
        if len(hook["Name"]) > 80:
            raise FieldError("Name", hook["Name"])
        if len(hook["Url"]) > 1000 or not hook["Url"].lower().startswith(("http://", "https://")):
            raise FieldError("Url", hook["Url"])
        fmt = hook["Format"].strip().upper()
        if fmt not in ("JSON", "XML"):
            raise FieldError("Format", hook["Format"])
        if hook["EventType"] not in {code for code, _ in self.event_types.values()}:
            raise FieldError("EventType", hook["EventType"])
        now = self._now()
        with self._lock:
            hid = next(self._ids)
            row = {"Id": hid, "Name": hook["Name"], "Url": hook["Url"], "EventType": hook["EventType"],
                   "DateCreated": now, "DateUpdated": now, "Format": fmt, "Enabled": hook["Enabled"]}
            self._hooks[hid] = row
            return dict(row)

    def list(self, filters: Filters | None = None) -> list[dict[str, Any]]:
        with self._lock:
            rows = [dict(h) for _, h in sorted(self._hooks.items())]
        return [r for r in rows if filters is None or filters.match(r)]

    def targets(self, event: str) -> list[dict[str, Any]]:
        """Enabled hooks subscribed to `event`."""
        code = self.code_of(event)
        return [h for h in self.list() if h["Enabled"] and h["EventType"] == code]


def webhook_filters(params, clock) -> Filters:
    """GET /Webhooks filters (§3: name, url, enabled, format)."""
    f = (Filters(params, clock)
         .text_eq("name", lambda r: r["Name"])
         .text_eq("url", lambda r: r["Url"])
         .text_eq("format", lambda r: r["Format"]))
    raw = f.params.get("enabled")
    if raw is not None and raw.strip().lower() in ("true", "false", "1", "0"):
        want = raw.strip().lower() in ("true", "1")
        f.predicates.append(lambda r: r["Enabled"] is want)
    return f
