"""The calls storefront_writer makes to one X-Cart store: rate-limited, classified, JSON in and out.

Every call first takes a token from the store's bucket (`rate_limit.TokenBucket`, shared by all
workers writing to this store). Errors come from the shared status table (`http_base`): 429 and
503 are transient and carry the store's Retry-After, which also holds the bucket so the other
workers do not spend requests the store would refuse; 400 is permanent (a value X-Cart rejects,
reference xcart.md §1b); 404 is a missing record, which the sink turns into `unknown_*`.
Bodies are sent as JSON numbers where the API wants numbers: Decimal values are converted at this
edge and nowhere else.
"""
from __future__ import annotations

import time

from decimal import Decimal
from typing import Any

import httpx

from sagebridge_common.errors import PermanentError, TransientError
from sagebridge_common.http_base import HttpTarget
from sagebridge_common.rate_limit import TokenBucket

from .api import CONNECTOR, _error_for
from .config import XCartStorefrontConfig

MODULE_TOKEN_HEADER = "X-Sagebridge-Token"


def json_number(value: Decimal) -> int | float:
    """A Decimal as the JSON number the API reads (an integral value as an int: `amount` is one)."""
    return int(value) if value == value.to_integral_value() else float(value)


class StoreCalls:
    def __init__(self, cfg: XCartStorefrontConfig, *, transport: httpx.BaseTransport | None = None,
                 bucket: TokenBucket | None = None) -> None:
        self.cfg = cfg
        self.bucket = bucket or TokenBucket(cfg.rate_limit_per_s, cfg.rate_limit_burst, name=f"xcart:{cfg.instance}")
        self.last_answer: float | None = None       # time.monotonic() of the last call the store answered
        self._http = HttpTarget(CONNECTOR, cfg.base_url.rstrip("/"), timeout=cfg.timeout_s,
                                max_concurrency=cfg.max_concurrency, transport=transport, error_for=_error_for,
                                headers={"X-Auth-Token": cfg.token.get_secret_value(), "Accept": "application/json"})

    def close(self) -> None:
        self._http.close()

    def call(self, operation: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self.bucket.acquire()
        try:
            resp = self._http.request(operation, method, path, **kwargs)
            self.last_answer = time.monotonic()
            return resp
        except TransientError as e:
            if e.retry_after:
                self.bucket.hold(e.retry_after)
            raise

    def get(self, operation: str, path: str, params: dict[str, Any] | None = None) -> Any:
        return _json(self.call(operation, "GET", path, params=params), path)

    def put(self, operation: str, path: str, body: dict[str, Any]) -> Any:
        return _json(self.call(operation, "PUT", path, json=body), path)

    def post(self, operation: str, path: str, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
        return self.call(operation, "POST", path, json=body, **kwargs)

    def pages(self, operation: str, path: str, size: int = 100):
        """Every row of a paged list (`page`, `itemsPerPage`; the API caps a page at 100)."""
        page = 1
        while True:
            rows = self.get(operation, path, {"itemsPerPage": size, "page": page})
            yield from rows
            if len(rows) < size:
                return
            page += 1


def _json(resp: httpx.Response, path: str) -> Any:
    try:
        return resp.json()
    except ValueError as e:
        raise PermanentError(f"X-Cart answered {path} with a body that is not JSON: {resp.text[:120]!r}",
                             reason="xcart_bad_json") from e
