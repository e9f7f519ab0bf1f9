"""Client for the X-Cart 5.5 REST API (API Platform), the part ingest needs: orders and their
payment transactions.

Errors are classified where they are understood: 401/403 mean a wrong or read-only token (held as
transient: an operator fixes the token, and the DLQ is not flooded meanwhile), 404 a missing record, 429/5xx/timeouts are transient and carry
the server's Retry-After. JSON is parsed with plain floats on purpose: ingest republishes the record
as JSON text, and Python's shortest float repr reproduces the number the store sent; transform
parses that text straight into Decimal.
"""
from __future__ import annotations

from typing import Any, Iterator

import httpx

from sagebridge_common.connector_calls import observed_call
from sagebridge_common.http_base import retry_after_seconds
from sagebridge_common.errors import PermanentError, TransientError
from sagebridge_common.times import parse_iso8601

MAX_PAGE_SIZE = 100  # X-Cart's itemsPerPage maximum


class XCartClient:
    connector = "xcart"

    def __init__(self, base_url: str, token: str, timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None, last_renew_filter: bool = True) -> None:
        """`last_renew_filter=False` is for 5.5.0, whose source has no `lastRenewDate[...]` filter
        (X-Cart's 5.5.1 "Retrieve a list of orders" docs have it; for 5.5.0 it is unconfirmed): the client then
        walks the orders newest first and stops at the watermark."""
        self.last_renew_filter = last_renew_filter
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport,
                                  headers={"X-Auth-Token": token, "Accept": "application/json"})

    def close(self) -> None:
        self._http.close()

    def _get(self, operation: str, path: str, params: dict[str, Any] | None = None) -> Any:
        with observed_call(self.connector, operation) as call:
            try:
                resp = self._http.get(path, params=params)
            except httpx.TransportError as e:
                raise TransientError(f"X-Cart unreachable: {type(e).__name__}: {e}", reason="xcart_unreachable") from e
            call.outcome = str(resp.status_code)
            self._raise_for_status(resp, path)
            return resp.json()

    @staticmethod
    def _raise_for_status(resp: httpx.Response, path: str) -> None:
        code = resp.status_code
        if code < 400:
            return
        text = resp.text[:300]
        if code == 429 or code >= 500:
            raise TransientError(f"X-Cart {code} on {path}: {text}", reason=f"xcart_{code}",
                                 retry_after=retry_after_seconds(resp.headers))
        if code in (401, 403):   # an operator fixes the token; records wait instead of flooding the DLQ
            raise TransientError(f"X-Cart refused the API token ({code}): {text}", reason="xcart_auth")
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
        size = min(page_size, MAX_PAGE_SIZE)
        if not self.last_renew_filter:
            yield from self._renewed_since_without_filter(since_unix, size)
            return
        page = 1
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

    def _renewed_since_without_filter(self, since_unix: int, size: int) -> Iterator[dict]:
        found: list[tuple[float, int, dict]] = []
        page = 1
        while True:
            rows = self._get("list_orders", "/api/orders", {"order[lastRenewDate]": "desc",
                                                            "itemsPerPage": size, "page": page})
            reached = False
            for row in rows:
                renewed = parse_iso8601(row["update_date"]).timestamp()
                if renewed < since_unix:
                    reached = True
                    break
                found.append((renewed, int(row["id"]), row))
            if reached or len(rows) < size:
                break
            page += 1
        # oldest first, as with the server-side filter; ties within a second by id
        yield from (row for _r, _i, row in sorted(found, key=lambda t: t[:2]) if row.get("order_number"))

    def order(self, order_id: int | str) -> dict:
        return self._get("get_order", f"/api/orders/{order_id}")

    def payment_transactions(self, order_id: int | str) -> list[dict]:
        return self._get("get_payment_transactions", f"/api/orders/{order_id}/payment_transactions")

    def full_order(self, order_id: int | str) -> dict:
        """The authoritative record ingest publishes: the order plus its payment transactions
        (5.5 keeps the payment method only there)."""
        return {"order": self.order(order_id), "payment_transactions": self.payment_transactions(order_id)}
