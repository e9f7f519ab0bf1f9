"""Client for the Sage 300 Web API (OData over HTTPS, Basic auth), OE orders.

Facts this client is built on (reference/sage300_sagepro.md §1): every request needs Basic auth and
`Content-Type: application/json`; POST to OE/OEOrders always creates a new order (no natural key),
so idempotency is our job: look the order up by OrderReference first; errors come as
`{"error": {"code": ..., "message": {"value": ...}}}` and the `code` decides the class:
- transient: TooManyRequests, InternalServerError, SessionError, DBLinkError, any 429/5xx with that
  body, timeouts; Unauthorized/Forbidden too (an operator fixes credentials; records wait rather
  than flood the DLQ);
- unknown (bounded retries): `General`, which Sage also uses for record locks (unconfirmed), and
  answers that are not Sage's error body at all;
- permanent: validation and business-rule codes (RecordInvalid, InvalidPayload, RecordDuplicate, ...).
"""
from __future__ import annotations

from typing import Any

import httpx

from sagebridge_common.connector_calls import observed_call
from sagebridge_common.http_base import retry_after_seconds
from sagebridge_common.errors import PermanentError, TransientError

_TRANSIENT_CODES = {"TooManyRequests", "InternalServerError", "SessionError", "DBLinkError",
                    "Unauthorized", "Forbidden"}
_UNKNOWN_CODES = {"General"}


class Sage300UnexpectedResponse(Exception):
    """Neither success nor a Sage error body: retried a few times, then dead-lettered."""


def odata_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class Sage300Client:
    connector = "sage300"

    def __init__(self, base_url: str, company: str, user: str, password: str, timeout: float = 30.0,
                 max_connections: int = 64) -> None:
        root = f"{base_url.rstrip('/')}/Sage300WebApi/v1.0/-/{company}/"
        self._http = httpx.Client(base_url=root, auth=(user, password), timeout=timeout,
                                  headers={"Content-Type": "application/json", "Accept": "application/json"},
                                  limits=httpx.Limits(max_connections=max_connections,
                                                      max_keepalive_connections=max_connections))

    def close(self) -> None:
        self._http.close()

    def _request(self, operation: str, method: str, path: str, **kw: Any) -> dict:
        with observed_call(self.connector, operation) as call:
            try:
                resp = self._http.request(method, path, **kw)
            except httpx.TimeoutException as e:
                raise TransientError(f"Sage 300 timed out on {operation}", reason="sage300_timeout") from e
            except httpx.TransportError as e:
                raise TransientError(f"Sage 300 unreachable: {type(e).__name__}: {e}",
                                     reason="sage300_unreachable") from e
            call.outcome = str(resp.status_code)
            if resp.status_code >= 400:
                raise self._error(resp, operation)
            try:
                return resp.json()
            except ValueError as e:
                raise Sage300UnexpectedResponse(f"Sage 300 {operation}: non-JSON success body") from e

    @staticmethod
    def _error(resp: httpx.Response, operation: str) -> Exception:
        status = resp.status_code
        try:
            err = resp.json()["error"]
            code = str(err.get("code"))
            text = str((err.get("message") or {}).get("value") or "")
        except (ValueError, KeyError, TypeError, AttributeError):
            if status == 429 or status in (502, 503, 504):
                return TransientError(f"Sage 300 {status} on {operation}", reason=f"sage300_{status}",
                                      retry_after=retry_after_seconds(resp.headers))
            return Sage300UnexpectedResponse(f"Sage 300 {status} on {operation} without an error body: "
                                             f"{resp.text[:200]!r}")
        message = f"Sage 300 {code} ({status}) on {operation}: {text}"
        reason = f"sage300_{code}"
        if code in _TRANSIENT_CODES or status == 429 or status >= 502:
            return TransientError(message, reason=reason, retry_after=retry_after_seconds(resp.headers))
        if code in _UNKNOWN_CODES:
            return Sage300UnexpectedResponse(message)
        return PermanentError(message, reason=reason)

    def ping(self) -> tuple[bool, str]:
        try:
            self._request("ping", "GET", "OE/OEOrders", params={"$top": 1})
            return True, "ok"
        except Exception as e:
            return False, str(e)[:200]

    def find_order_by_reference(self, reference: str) -> dict | None:
        feed = self._request("find_order", "GET", "OE/OEOrders",
                             params={"$filter": f"OrderReference eq {odata_literal(reference)}", "$top": 2})
        rows = feed.get("value") or []
        return rows[0] if rows else None

    def create_order(self, payload: dict) -> dict:
        return self._request("create_order", "POST", "OE/OEOrders", json=payload)
