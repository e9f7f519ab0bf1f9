"""Client for the X-Cart 5.5 REST API (API Platform), the part ingest needs: orders and their
payment transactions.

Errors are classified where they are understood: 401/403 mean a wrong or read-only token (a
configuration fault no retry fixes), 404 a missing record, 429/5xx/timeouts are transient and carry
the server's Retry-After. JSON is parsed with plain floats on purpose: ingest republishes the record
as JSON text, and Python's shortest float repr reproduces the number the store sent; transform
parses that text straight into Decimal.
"""
from __future__ import annotations

import json
import time
from typing import Any, Iterator

import httpx

from sagebridge_common import metrics
from sagebridge_common.errors import PermanentError, TransientError

MAX_PAGE_SIZE = 100  # X-Cart's itemsPerPage maximum


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class XCartClient:
    connector = "xcart"

    def __init__(self, base_url: str, token: str, timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport,
                                  headers={"X-Auth-Token": token, "Accept": "application/json"})

    def close(self) -> None:
        self._http.close()

    def _get(self, operation: str, path: str, params: dict[str, Any] | None = None) -> Any:
        started = time.monotonic()
        outcome = "error"
        try:
            try:
                resp = self._http.get(path, params=params)
            except httpx.TransportError as e:
                raise TransientError(f"X-Cart unreachable: {type(e).__name__}: {e}", reason="xcart_unreachable") from e
            outcome = str(resp.status_code)
            self._raise_for_status(resp, path)
            return resp.json()
        finally:
            metrics.CONNECTOR_REQUESTS.labels(self.connector, operation, outcome).inc()
            metrics.CONNECTOR_SECONDS.labels(self.connector, operation).observe(time.monotonic() - started)

    @staticmethod
    def _raise_for_status(resp: httpx.Response, path: str) -> None:
        code = resp.status_code
        if code < 400:
            return
        text = resp.text[:300]
        if code == 429 or code >= 500:
            raise TransientError(f"X-Cart {code} on {path}: {text}", reason=f"xcart_{code}",
                                 retry_after=_retry_after(resp))
        if code in (401, 403):
            raise PermanentError(f"X-Cart refused the API token ({code}): {text}", reason="xcart_auth")
        if code == 404:
            raise PermanentError(f"X-Cart has no {path}", reason="xcart_not_found")
        raise PermanentError(f"X-Cart {code} on {path}: {text}", reason=f"xcart_{code}")

    def ping(self) -> tuple[bool, str]:
        try:
            self._get("ping", "/api/orders", {"itemsPerPage": 1})
            return True, "ok"
        except Exception as e:
            return False, str(e)[:200]

    def orders_renewed_since(self, since_unix: int, page_size: int = MAX_PAGE_SIZE) -> Iterator[dict]:
        """Orders whose lastRenewDate >= since, oldest first, page by page. Inclusive on purpose:
        lastRenewDate has one-second resolution, so orders renewed in the watermark's own second
        after the last poll would be lost by a strict filter; the poller drops the ones it has seen."""
        page = 1
        size = min(page_size, MAX_PAGE_SIZE)
        while True:
            rows = self._get("list_orders", "/api/orders", {
                "lastRenewDate[after]": since_unix, "order[lastRenewDate]": "asc",
                "itemsPerPage": size, "page": page})
            for row in rows:
                if row.get("order_number"):   # carts share the table; they have no order number
                    yield row
            if len(rows) < size:
                return
            page += 1

    def order(self, order_id: int | str) -> dict:
        return self._get("get_order", f"/api/orders/{order_id}")

    def payment_transactions(self, order_id: int | str) -> list[dict]:
        return self._get("get_payment_transactions", f"/api/orders/{order_id}/payment_transactions")

    def full_order(self, order_id: int | str) -> dict:
        """The authoritative record ingest publishes: the order plus its payment transactions
        (5.5 keeps the payment method only there)."""
        return {"order": self.order(order_id), "payment_transactions": self.payment_transactions(order_id)}
