"""Client for the Shift4Shop (3dcart) REST API, `/3dCartWebAPI/v1` (shift4shop.md §1).

Every call carries the three headers of §1.2 (`SecureURL`, `PrivateKey`, `Token`; never logged:
httpx logs no headers, and error messages here quote only bodies) and first takes a token from
the store's bucket (`rate_limit.TokenBucket`); a Retry-After also holds the bucket, so the other
workers do not spend calls the store would refuse (§1.5: limits not confirmed, so rate and burst
are configurable).

Errors (§1.5): 429, 503, other 5xx and transport failures are transient (Retry-After honoured);
401/403 (wrong keys, app not authorised) and 400 (a value the store refuses) are permanent; the
body's `{Key, Value, Status, Message}` array becomes the message. Every write this connector makes
is a PUT that sets a state, so a write whose answer was lost is re-sent safely: it is a plain
`TransientError`, not an outcome-unknown one. A 404 on a list is an empty page (§1.3: "Empty
result -> HTTP 404"), as is the "Offset amount exceeds the total number of records" refusal.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from sagebridge_common.errors import PermanentError, SagebridgeError, TransientError
from sagebridge_common.http_base import HttpTarget, status_error
from sagebridge_common.rate_limit import TokenBucket

from .config import Shift4ShopStorefrontConfig

CONNECTOR = "shift4shop"
OFFSET_PAST_END = "offset amount exceeds"


@dataclass(frozen=True)
class ItemResult:
    """One `{Key, Value, Status, Message}` element of a write's answer (§1.4)."""
    key: str
    value: str
    status: int
    message: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def item_results(body: Any) -> list[ItemResult]:
    """The result array of a PUT/POST (a single object is read as an array of one)."""
    rows = body if isinstance(body, list) else [body] if isinstance(body, dict) else []
    out = []
    for r in rows:
        if not isinstance(r, dict):
            continue
        try:
            status = int(str(r.get("Status", "0")).strip() or 0)
        except ValueError:
            status = 0
        out.append(ItemResult(str(r.get("Key", "")), str(r.get("Value", "")), status, str(r.get("Message", ""))))
    return out


def error_text(resp: httpx.Response) -> str:
    """The messages of an error body, or its first bytes when it is not the documented array."""
    try:
        items = item_results(resp.json())
    except ValueError:
        items = []
    if items:
        return "; ".join(f"{i.key}={i.value}: {i.message}" if i.key else i.message for i in items)[:300]
    return resp.text[:300]


def _error_for(resp: httpx.Response, operation: str, write: bool) -> SagebridgeError | None:
    status = resp.status_code
    detail = error_text(resp)
    if status in (401, 403):
        return PermanentError(f"Shift4Shop refused the credentials ({status}) on {operation}: {detail}",
                              reason="shift4shop_auth")
    if status == 404:
        return PermanentError(f"Shift4Shop has no such record ({operation}): {detail}", reason="shift4shop_not_found")
    if status == 400:
        return PermanentError(f"Shift4Shop refused {operation}: {detail}", reason="shift4shop_refused")
    # the status table: 429/503 transient, other 5xx transient (write=False: our writes are re-sendable)
    return status_error(CONNECTOR, operation, resp, write=False, detail=detail)


def _past_end(e: PermanentError) -> bool:
    return e.reason == "shift4shop_not_found" or OFFSET_PAST_END in str(e).lower()


class Shift4ShopClient:
    connector = CONNECTOR

    def __init__(self, cfg: Shift4ShopStorefrontConfig, *, transport: httpx.BaseTransport | None = None,
                 bucket: TokenBucket | None = None) -> None:
        self.cfg = cfg
        self.bucket = bucket or TokenBucket(cfg.rate_limit_per_s, cfg.rate_limit_burst, name=f"shift4shop:{cfg.instance}")
        headers = {"SecureURL": cfg.secure_url, "PrivateKey": cfg.private_key.get_secret_value(),
                   "Token": cfg.token.get_secret_value(), "Accept": "application/json"}
        self._http = HttpTarget(CONNECTOR, cfg.api_url, timeout=cfg.timeout_s, max_concurrency=cfg.max_concurrency,
                                headers=headers, transport=transport, error_for=_error_for)

    def close(self) -> None:
        self._http.close()

    def call(self, operation: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self.bucket.acquire()
        try:
            return self._http.request(operation, method, path, write=False, **kwargs)
        except TransientError as e:
            if e.retry_after:
                self.bucket.hold(e.retry_after)
            raise

    def get(self, operation: str, path: str, params: dict[str, Any] | None = None) -> Any:
        return _json(self.call(operation, "GET", path, params=params), path)

    def get_list(self, operation: str, path: str, params: dict[str, Any] | None = None) -> list[dict]:
        """A list call; 404 (and an offset past the end) is the empty list."""
        try:
            body = self.get(operation, path, params)
        except PermanentError as e:
            if _past_end(e):
                return []
            raise
        if isinstance(body, dict) and "TotalCount" not in body:
            return [body]
        if not isinstance(body, list):
            raise PermanentError(f"Shift4Shop answered {path} with {type(body).__name__}, not an array",
                                 reason="shift4shop_bad_json")
        return body

    def get_one(self, operation: str, path: str) -> dict | None:
        """`GET /X/{id}`: an array of one (§1.1); None when the store has no such record."""
        rows = self.get_list(operation, path)
        return rows[0] if rows else None

    def pages(self, operation: str, path: str, params: dict[str, Any] | None = None,
              size: int = 100) -> list[dict]:
        """Every row of a list, `limit`/1-based record `offset` (§1.3), to an empty page (404).
        A short page does not end the walk: the maximum `limit` is not documented (§1.3, §5) and a
        store that clamps it would otherwise look finished early; the offset moves by the rows
        received. The price is one call (the 404) per walk."""
        out: list[dict] = []
        offset, previous = 1, None
        while True:
            rows = self.get_list(operation, path, {**(params or {}), "limit": size, "offset": offset})
            if not rows or rows == previous:     # the same page again: the resource ignores offset
                return out
            out.extend(rows)
            offset, previous = offset + len(rows), rows

    def put(self, operation: str, path: str, body: Any) -> list[ItemResult]:
        return item_results(_json(self.call(operation, "PUT", path, json=body), path))

    def ping(self) -> tuple[bool, str]:
        try:
            self.get_list("ping", "/Orders", {"limit": 1, "offset": 1})
            return True, "ok"
        except Exception as e:
            return False, str(e)[:200]


def _json(resp: httpx.Response, path: str) -> Any:
    try:
        return resp.json()
    except ValueError as e:
        raise PermanentError(f"Shift4Shop answered {path} with a body that is not JSON: {resp.text[:120]!r}",
                             reason="shift4shop_bad_json") from e
