"""The Sagebridge push module for X-Cart, as the simulator runs it.

X-Cart has no native webhooks (none in its docs at developer.x-cart.com), so merchants who want low latency install our
small module, which POSTs a signed notification when an order is placed (`order.created`), its
payment or shipping status changes (`order.payment_status_changed`, `order.shipping_status_changed`),
a tracking number is added (`order.tracking_added`), another save of the order (`order.updated`),
and when a customer registers or changes their profile (`customer.created`, `customer.updated`).
Order events carry `order_id` and `order_number`, customer events `profile_id` and `login`; both
carry `occurred_at`. The notification is only a hint: ingest always fetches the record from the API. Delivery happens on a worker thread fed by a
queue so placing an order never waits on the receiver; failed deliveries are retried a few times
with backoff and then logged and dropped (X-Cart keeps no outbox), which is exactly why the hub
must also poll `lastRenewDate`.

The signature is written here from the documented scheme (README, "The X-Cart push webhook"), not
imported from the hub: the push module is a separate PHP program, and a simulator that shared the
hub's code would agree with any scheme, right or wrong. Each attempt is signed afresh with the
current time, as Stripe's retries are, so a delayed retry is not refused as a replay.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import httpx

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Sagebridge-Signature"
TIMESTAMP_HEADER = "X-Sagebridge-Timestamp"

_STOP = object()


@dataclass(frozen=True)
class _Delivery:
    url: str
    secret: str
    body: bytes


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`sha256=` + hex HMAC-SHA256, keyed with the pair's secret, of `<timestamp>.<raw body>`."""
    return "sha256=" + hmac.new(secret.encode(), b"%d." % timestamp + body, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, now: float) -> dict[str, str]:
    """`now` is the wall clock, not the simulated one: the receiver checks it against its own clock."""
    ts = int(now)
    return {"Content-Type": "application/json", TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: signature(secret, ts, body)}


def event_body(event: str, snapshot: dict[str, Any], occurred_at: float) -> bytes:
    """The exact bytes that are signed and sent (compact JSON). `snapshot`: the order JSON, or for
    `customer.*` the profile record `{"profile", "addresses"}`."""
    if event.startswith("customer."):
        payload: dict[str, Any] = {"event": event, "profile_id": snapshot["profile"]["id"],
                                   "login": snapshot["profile"]["login"]}
    else:
        payload = {"event": event, "order_id": snapshot["id"], "order_number": snapshot["order_number"]}
        if event == "order.tracking_added":
            payload |= {"tracking_number": snapshot["tracking_number"], "carrier": snapshot["carrier"]}
    payload["occurred_at"] = datetime.fromtimestamp(occurred_at, timezone.utc).isoformat(timespec="milliseconds")
    return json.dumps(payload, separators=(",", ":")).encode()


class PushNotifier:
    """Queue + one daemon worker. `notify` matches `XCartStore.add_listener`'s callback signature."""

    def __init__(self, attempts: int = 4, backoff_s: float = 0.2, timeout_s: float = 5.0,
                 max_queue: int = 100_000, clock=time.time) -> None:
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self._clock = clock
        self._queue: queue.Queue = queue.Queue(maxsize=max_queue)
        self._lock = threading.Lock()
        self._target: tuple[str, str] | None = None
        self._thread: threading.Thread | None = None
        self.stats = {"queued": 0, "delivered": 0, "failed": 0, "dropped_queue_full": 0, "attempts": 0}

    @property
    def enabled(self) -> bool:
        return self._target is not None

    def configure(self, url: str, secret: str) -> None:
        """Enables pushing to `url`, signing with `secret`; starts the worker on first use."""
        with self._lock:
            self._target = (url, secret)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="xcart-push", daemon=True)
                self._thread.start()

    def disable(self) -> None:
        """Stops new notifications; ones already queued are still attempted (they were 'sent')."""
        with self._lock:
            self._target = None

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            url = self._target[0] if self._target else None
            return {"enabled": url is not None, "url": url, "pending": self._queue.qsize(), **self.stats}

    def notify(self, event: str, snapshot: dict[str, Any]) -> None:
        """Called by the store after a save. Never blocks: a full queue drops the event."""
        target = self._target
        if target is None:
            return
        delivery = _Delivery(target[0], target[1], event_body(event, snapshot, self._clock()))
        try:
            self._queue.put_nowait(delivery)
            self._count("queued")
        except queue.Full:
            self._count("dropped_queue_full")
            log.warning("push queue full; dropped %s", delivery.body[:120])

    def close(self, timeout: float = 2.0) -> None:
        """Stops the worker (used on app shutdown)."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._queue.put(_STOP)
            thread.join(timeout)

    def _count(self, key: str) -> None:
        with self._lock:
            self.stats[key] += 1

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout_s) as client:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    return
                self._deliver(client, item)

    def _deliver(self, client: httpx.Client, d: _Delivery) -> None:
        for attempt in range(1, self.attempts + 1):
            self._count("attempts")
            outcome = self._post_once(client, d, signed_headers(d.secret, d.body, time.time()))
            if outcome == "ok":
                self._count("delivered")
                return
            if outcome == "fatal" or attempt == self.attempts:
                break
            time.sleep(self.backoff_s * (3 ** (attempt - 1)))
        self._count("failed")
        log.warning("push to %s failed; dropped %s", d.url, d.body[:200])

    @staticmethod
    def _post_once(client: httpx.Client, d: _Delivery, headers: dict[str, str]) -> str:
        """'ok', 'retry' (network error, 429, 5xx) or 'fatal' (other 4xx: retrying will not help)."""
        try:
            resp = client.post(d.url, content=d.body, headers=headers)
        except httpx.HTTPError as e:
            log.info("push attempt to %s failed: %s", d.url, e)
            return "retry"
        if resp.status_code < 300:
            return "ok"
        if resp.status_code == 429 or resp.status_code >= 500:
            return "retry"
        return "fatal"
