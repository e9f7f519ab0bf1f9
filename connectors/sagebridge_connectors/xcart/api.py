"""Client for the X-Cart 5.5 REST API (API Platform): the calls ingest needs, orders with their
payment transactions and customer profiles with their addresses, on the shared `HttpTarget` (concurrency cap, call metrics, status table).

Errors: 401/403 (a wrong or read-only token) and 429/5xx are transient, with the store's
Retry-After; 404 is a missing record (permanent); a body that is not JSON is a damaged record
(permanent: retrying reads the same bytes). JSON is parsed with plain floats on purpose: ingest
republishes the record as JSON text, and Python's shortest float repr reproduces the number the
store sent; transform parses that text straight into Decimal.
"""
from __future__ import annotations

from typing import Any

import httpx

from sagebridge_common.errors import PermanentError
from sagebridge_common.http_base import HttpTarget, status_error

CONNECTOR = "xcart"


def _error_for(resp: httpx.Response, operation: str, write: bool):
    if resp.status_code == 404:
        return PermanentError(f"X-Cart has no such record ({operation})", reason="xcart_not_found")
    if resp.status_code in (401, 403):     # an operator fixes the token; records wait instead of the DLQ
        return status_error(CONNECTOR, operation, resp, write=write, reason="xcart_auth",
                            detail=f"X-Cart refused the API token: {resp.text[:200]}")
    return None


def php_time(unix: int) -> str:
    """A date filter value X-Cart reads: API Platform's DateFilter passes it to PHP's `\\DateTime`
    constructor ("any date format supported by the \\DateTime constructor", api-platform.com
    DateFilter reference) and silently drops a filter it cannot parse. `@<unix>` is PHP's
    Unix-timestamp format (php.net, Supported Date and Time Formats); bare digits are not."""
    return f"@{int(unix)}"


class XCartClient:
    connector = CONNECTOR

    def __init__(self, base_url: str, token: str, timeout: float = 10.0, *, max_concurrency: int = 4,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._http = HttpTarget(CONNECTOR, base_url.rstrip("/"), timeout=timeout, max_concurrency=max_concurrency,
                                headers={"X-Auth-Token": token, "Accept": "application/json"},
                                transport=transport, error_for=_error_for)

    def close(self) -> None:
        self._http.close()

    def _get(self, operation: str, path: str, params: dict[str, Any] | None = None) -> Any:
        resp = self._http.request(operation, "GET", path, params=params)
        try:
            return resp.json()
        except ValueError as e:
            raise PermanentError(f"X-Cart answered {path} with a body that is not JSON: {resp.text[:120]!r}",
                                 reason="xcart_bad_json") from e

    def ping(self) -> tuple[bool, str]:
        try:
            self._get("ping", "/api/orders", {"itemsPerPage": 1})
            return True, "ok"
        except Exception as e:
            return False, str(e)[:200]

    def list_orders(self, *, renewed: dict[str, int] | None = None, descending: bool = False,
                    page: int = 1, size: int = 100) -> list[dict]:
        """One page of `GET /api/orders` sorted by lastRenewDate; `renewed` maps a DateFilter
        operator (after, before, strictly_after, strictly_before; after/before are inclusive) to
        unix seconds."""
        params: dict[str, Any] = {f"lastRenewDate[{op}]": php_time(v) for op, v in (renewed or {}).items()}
        params |= {"order[lastRenewDate]": "desc" if descending else "asc", "itemsPerPage": size, "page": page}
        return self._get("list_orders", "/api/orders", params)

    def order(self, order_id: int | str) -> dict:
        return self._get("get_order", f"/api/orders/{order_id}")

    def payment_transactions(self, order_id: int | str) -> list[dict]:
        return self._get("get_payment_transactions", f"/api/orders/{order_id}/payment_transactions")

    def full_order(self, order_id: int | str, order: dict | None = None) -> dict:
        """The authoritative record ingest publishes: the order plus its payment transactions
        (5.5 keeps the payment method only there). `order`: a row already read (a listing)."""
        return {"order": order if order is not None else self.order(order_id),
                "payment_transactions": self.payment_transactions(order_id)}

    def list_profiles(self, *, added: dict[str, int] | None = None, login: str | None = None,
                      descending: bool = False, page: int = 1, size: int = 100) -> list[dict]:
        """One page of `GET /api/profiles` sorted by `added`; `added` maps a DateFilter operator to
        unix seconds as in `list_orders`, `login` is X-Cart's partial login (e-mail) filter."""
        params: dict[str, Any] = {f"added[{op}]": php_time(v) for op, v in (added or {}).items()}
        if login is not None:
            params["login"] = login
        params |= {"order[added]": "desc" if descending else "asc", "itemsPerPage": size, "page": page}
        return self._get("list_profiles", "/api/profiles", params)

    def profile(self, profile_id: int | str) -> dict:
        return self._get("get_profile", f"/api/profiles/{profile_id}")

    def profile_addresses(self, profile_id: int | str, size: int = 100) -> list[dict]:
        """Every address of the profile (`GET /api/profiles/{id}/addresses`, paged to the end)."""
        out: list[dict] = []
        page = 1
        while True:
            rows = self._get("get_profile_addresses", f"/api/profiles/{profile_id}/addresses",
                             {"itemsPerPage": size, "page": page})
            out.extend(rows)
            if len(rows) < size:
                return out
            page += 1

    def full_profile(self, profile_id: int | str) -> dict:
        """The record ingest publishes for a customer: the profile and its address book."""
        return {"profile": self.profile(profile_id), "addresses": self.profile_addresses(profile_id)}
