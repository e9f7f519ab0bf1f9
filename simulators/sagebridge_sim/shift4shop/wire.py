"""HTTP conventions every simulated Shift4Shop route shares.

- Errors and write results are a JSON array of `{Key, Value, Status, Message}` (shift4shop.md §1.4
  write results, H; §1.5 error bodies, **M**: SkuVault deserializes errors that way, the reference could
  not confirm it for 400/401/403 — the simulator uses the shape for every error).
- Every list/get answers a JSON array, an empty result is HTTP 404 (§1.1, §1.3).
- Paging: `limit` (default 10) and a 1-based record `offset` (default 1); `countonly=1` answers
  `{"TotalCount": N}` (§1.3). Choices where the reference is silent (all configurable in `Paging`):
  * the maximum limit is not documented (100 and 200 are known to work, §1.3): a larger `limit` is
    clamped to `max_limit` (200), so a client that assumes it got what it asked for skips records;
  * an offset past the end answers 404 with `Offset amount exceeds the total number of records` (§1.3
    message, M), the same status as an empty list, which clients read as "no more rows";
  * offset < 1 or limit < 1 or a non-integer limit/offset is a client bug: 400 (same message for
    offset, as the brief of issue 8 asks), never a silent first page.
- Money is Decimal inside and a JSON number at the edge, as the recorded traffic shows it (§2.1).
"""
from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Sequence

from fastapi import Request
from fastapi.responses import JSONResponse

OFFSET_MESSAGE = "Offset amount exceeds the total number of records"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class ApiError(Exception):
    """A Shift4Shop error answer: HTTP status plus one `{Key, Value, Status, Message}` entry."""

    def __init__(self, status: int, message: str, key: str = "Error", value: str = "") -> None:
        super().__init__(message)
        self.status, self.message, self.key, self.value = status, message, key, value

    def body(self) -> list[dict[str, str]]:
        return [result(self.key, self.value, self.status, self.message)]


def result(key: str, value: Any, status: int, message: str) -> dict[str, str]:
    """One `{Key, Value, Status, Message}` entry; Status and Value are strings on the wire (§1.4)."""
    return {"Key": key, "Value": str(value), "Status": str(status), "Message": message}


def fault_body(status: int) -> list[dict[str, str]]:
    """Body of an injected fault (429/5xx), in the same error shape (§1.5, M)."""
    text = {429: "Too Many Requests", 503: "Service Unavailable"}.get(status, f"HTTP {status}")
    return [result("Error", "", status, text)]


def to_json(value: Any) -> Any:
    """Decimals become JSON numbers (float of a 2..4-place amount round-trips through `str`)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    return value


def respond(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(to_json(body), status_code=status)


# ---- authentication (§1.2) -----------------------------------------------------------------

def _norm_url(url: str) -> str:
    return url.strip().rstrip("/").lower()


@dataclass(frozen=True)
class Credentials:
    """The SecureURL/PrivateKey/Token triple the simulated store accepts (§1.2). Header names are
    case-insensitive (HTTP; SkuVault sends lower-case names)."""
    secure_url: str
    private_key: str
    token: str

    def check(self, request: Request) -> None:
        h = request.headers
        sent = (h.get("secureurl", ""), h.get("privatekey", ""), h.get("token", ""))
        if not all(sent):
            raise ApiError(401, "Authorization has been denied for this request.", "Authorization")
        ok = hmac.compare_digest(_norm_url(sent[0]).encode(), _norm_url(self.secure_url).encode())
        ok &= hmac.compare_digest(sent[1].encode(), self.private_key.encode())
        ok &= hmac.compare_digest(sent[2].encode(), self.token.encode())
        if not ok:
            raise ApiError(401, "Authorization has been denied for this request.", "Authorization")


# ---- paging (§1.3) ------------------------------------------------------------------------

@dataclass
class Paging:
    default_limit: int = 10
    max_limit: int = 200

    def window(self, request: Request) -> tuple[int, int, bool]:
        """(offset, limit, countonly) from the query; raises ApiError for unusable values."""
        q = {k.lower(): v for k, v in request.query_params.items()}     # ASP.NET binds names case-insensitively
        limit = _int_param(q.get("limit"), "limit", self.default_limit)
        offset = _int_param(q.get("offset"), "offset", 1)
        if limit < 1:
            raise ApiError(400, "limit must be greater than 0", "limit", str(limit))
        if offset < 1:
            raise ApiError(400, OFFSET_MESSAGE, "offset", str(offset))
        countonly = q.get("countonly", "").strip().lower() in ("1", "true")
        return offset, min(limit, self.max_limit), countonly

    def answer(self, request: Request, fetch: Callable[[int, int], tuple[int, list[Any]]], what: str) -> JSONResponse:
        """The list answer. `fetch(offset, limit)` returns (total matching, that page rendered), so
        a large store renders only the page asked for; `{"TotalCount"}` for countonly; 404 for
        nothing to return (§1.3)."""
        offset, limit, countonly = self.window(request)
        total, rows = fetch(offset, 0 if countonly else limit)
        if countonly:
            return respond({"TotalCount": total})
        if total == 0:
            raise ApiError(404, f"No {what} found", what)
        if offset > total:
            raise ApiError(404, OFFSET_MESSAGE, "offset", str(offset))
        return respond(rows)

    def page(self, request: Request, rows: Sequence[Any], what: str) -> JSONResponse:
        """`answer` for a list already in hand (shipments, events, webhooks)."""
        return self.answer(request, lambda offset, limit: (len(rows), list(rows[offset - 1: offset - 1 + limit])),
                           what)


def _int_param(raw: str | None, name: str, default: int) -> int:
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, f"The value '{raw}' is not valid for {name}.", name, raw) from None


def int_filter(raw: str | None) -> int | None:
    """An integer filter value, None when absent or unreadable (then the filter is ignored)."""
    if raw is None or raw.strip() == "":
        return None
    try:
        return int(raw)
    except ValueError:
        return None


# ---- request bodies ------------------------------------------------------------------------

JSON_TYPES = ("application/json", "text/json")


async def json_body(request: Request) -> Any:
    """The JSON body of a write. ASP.NET Web API picks the body reader by Content-Type: JSON needs
    `application/json` (or `text/json`); no or another type finds no reader and answers 415. XML bodies
    are real (§1.1) but not simulated: they get 415 too (the hub sends JSON)."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media not in JSON_TYPES:
        raise ApiError(415, f"The request entity's media type '{media or 'none'}' is not supported for this "
                            "resource.", "Content-Type", media)
    raw = await request.body()
    if not raw.strip():
        raise ApiError(400, "The request body is empty.", "Body")
    try:
        return json.loads(raw, parse_float=Decimal)
    except ValueError:
        raise ApiError(400, "The request is invalid: body is not valid JSON.", "Body") from None


async def object_body(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "The request is invalid: expected a JSON object.", "Body")
    return body


async def array_body(request: Request, max_items: int | None = None) -> list[Any]:
    body = await json_body(request)
    if not isinstance(body, list):
        raise ApiError(400, "The request is invalid: expected a JSON array.", "Body")
    if not body:
        raise ApiError(400, "The request is invalid: the array is empty.", "Body")
    if max_items is not None and len(body) > max_items:
        raise ApiError(400, f"Too many records in one request ({len(body)}); the maximum is {max_items}.",
                       "Body", str(len(body)))
    return body
