"""The one HTTP base every REST and XML connector is built on.

What every external call needs, written once: a per-target concurrency limit (ERPs and stores cap
concurrent requests; Intacct answers GW-0010 past its limit), call metrics by connector, operation
and outcome, Retry-After in either of its forms (RFC 9110 §10.2.3: seconds or an HTTP date), and a
table from transport failure or status code to the runtime's error classes.

The table's one subtle row is the write whose answer never came: a timeout after the request was
sent, a dropped connection, a gateway timeout. The target may have committed it, so it is an
`OutcomeUnknownError`, and the sink must look the document up before sending it again. A read that
fails the same way is merely transient. Connectors parse their own error bodies first (Sage's
`error.code`, Intacct's `errorno`) and fall back to `status_error` for everything else.
"""
from __future__ import annotations

import threading
import time
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Mapping

import httpx

from .connector_calls import observed_call
from .errors import OutcomeUnknownError, PermanentError, SagebridgeError, TransientError

# status -> class for a read / for a write. "outcome_unknown" only ever applies to writes.
STATUS_TABLE: dict[int, tuple[str, str]] = {
    401: ("transient", "transient"),        # an operator fixes credentials; records wait, DLQ stays clean
    403: ("transient", "transient"),
    408: ("transient", "transient"),
    425: ("transient", "transient"),
    429: ("transient", "transient"),
    500: ("transient", "outcome_unknown"),
    502: ("transient", "outcome_unknown"),
    503: ("transient", "transient"),        # refused before the application saw it
    504: ("transient", "outcome_unknown"),
    524: ("transient", "outcome_unknown"),  # a proxy gave up waiting; the origin may have committed
}


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Retry-After as seconds from now, from either form; None when absent or unreadable."""
    value = headers.get("Retry-After") if headers is not None else None
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def status_error(connector: str, operation: str, resp: httpx.Response, *, write: bool,
                 detail: str | None = None, reason: str | None = None) -> SagebridgeError:
    """The error class the table gives this status; permanent for any other 4xx/5xx."""
    status = resp.status_code
    message = f"{connector} {status} on {operation}: {detail if detail is not None else resp.text[:300]}"
    reason = reason or f"{connector}_{status}"
    read_kind, write_kind = STATUS_TABLE.get(status, ("permanent", "permanent"))
    if status >= 500 and status not in STATUS_TABLE:
        read_kind, write_kind = "transient", "outcome_unknown"
    kind = write_kind if write else read_kind
    retry_after = retry_after_seconds(resp.headers)
    if kind == "outcome_unknown":
        return OutcomeUnknownError(message, reason=reason, retry_after=retry_after)
    if kind == "transient":
        return TransientError(message, reason=reason, retry_after=retry_after)
    return PermanentError(message, reason=reason)


def transport_error(connector: str, operation: str, exc: httpx.TransportError, *, write: bool) -> SagebridgeError:
    """Failed before a request could reach the target → transient; failed after it may have → for
    a write, outcome unknown."""
    text = f"{connector} {operation}: {type(exc).__name__}: {exc}"
    never_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
    if write and not never_sent:
        return OutcomeUnknownError(f"{text} (the request was sent; it may have been applied)",
                                   reason=f"{connector}_outcome_unknown")
    kind = "timeout" if isinstance(exc, httpx.TimeoutException) else "unreachable"
    return TransientError(text, reason=f"{connector}_{kind}")


class HttpTarget:
    """An httpx client for one target with a concurrency cap and observed, classified calls.

    `error_for(resp, operation, write)` lets a connector turn its own error bodies into errors; it
    returns None to fall back to the status table. Responses under 400 are returned as they are
    (some APIs answer 200 with an error inside: the connector checks those itself)."""

    def __init__(self, connector: str, base_url: str, *, timeout: float, max_concurrency: int = 8,
                 auth: Any = None, headers: Mapping[str, str] | None = None,
                 transport: httpx.BaseTransport | None = None,
                 error_for: Callable[[httpx.Response, str, bool], SagebridgeError | None] | None = None) -> None:
        self.connector = connector
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._error_for = error_for
        self._http = httpx.Client(base_url=base_url, timeout=timeout, auth=auth, headers=dict(headers or {}),
                                  transport=transport,
                                  limits=httpx.Limits(max_connections=max_concurrency,
                                                      max_keepalive_connections=max_concurrency))

    def request(self, operation: str, method: str, path: str, *, write: bool | None = None,
                **kwargs: Any) -> httpx.Response:
        """One call. `write` defaults to "not a GET/HEAD": it decides how a lost answer is read."""
        write = method.upper() not in ("GET", "HEAD") if write is None else write
        with self._slots, observed_call(self.connector, operation) as call:
            try:
                resp = self._http.request(method, path, **kwargs)
            except httpx.TransportError as e:
                raise transport_error(self.connector, operation, e, write=write) from e
            call.outcome = str(resp.status_code)
        if resp.status_code >= 400:
            err = self._error_for(resp, operation, write) if self._error_for else None
            raise err or status_error(self.connector, operation, resp, write=write)
        return resp

    def close(self) -> None:
        self._http.close()



