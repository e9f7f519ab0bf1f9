"""Sage 300 Web API error bodies → the runtime's error classes.

Sage 300 SDK Developer Reference §12: errors come as `{"error": {"code": ..., "message": {"value": ...}}}`;
branch on `code`, `message.value` is for people. Only the body is parsed here; whatever status the
body does not settle goes to the shared HTTP base's table (`http_base.status_error`), so there is one
classification table, not two:

- `General` (the business layer; Sage also reports record locks this way, undocumented) → a
  BudgetedError on the `record_lock` budget: retried while a lock may clear, then dead-lettered;
- TooManyRequests, SessionError, DBLinkError, Unauthorized, Forbidden → transient (credentials and
  sessions are fixed by an operator; the records wait instead of flooding the DLQ);
- 5xx / 429 with any other code → the status table (a 500 on a POST is an unknown outcome);
- any other code on a 4xx (RecordInvalid, InvalidPayload, RecordDuplicate, ...) → permanent.

The duplicate-PO refusal (customer option CheckForDuplicatePOs = Error, ARCUS.SWCHKDUPPO = 2) is not
documented: neither its code nor its text. It is recognised by configuration (`duplicate_po_codes`
and the `duplicate_po_message` regex of the erp block), defaulting to what the simulator sends:
400 `RecordInvalid`, "Purchase order number <po> has already been used for customer <id>."
"""
from __future__ import annotations

import re
from typing import Callable

import httpx

from sagebridge_common.errors import BudgetedError, PermanentError, SagebridgeError, TransientError
from sagebridge_common.http_base import retry_after_seconds, status_error

CONNECTOR = "sage300"
TRANSIENT_CODES = frozenset({"TooManyRequests", "SessionError", "DBLinkError", "Unauthorized", "Forbidden"})


class DuplicatePoRefused(PermanentError):
    """Sage refused an order because its PO number is already used for the customer: for an order we
    post, that means it is already there. `po` is the number the message names (None if the
    configured regex has no `po` group)."""

    reason = "sage300_duplicate_po"

    def __init__(self, message: str, po: str | None) -> None:
        super().__init__(message)
        self.po = po


class Sage300UnexpectedResponse(Exception):
    """A success status whose body is not the JSON Sage sends: retried a few times, then dead-lettered."""


def parse_error_body(resp: httpx.Response) -> tuple[str, str] | None:
    """(code, message) of a Sage error body; None for anything else (an IIS page, a proxy's error)."""
    try:
        err = resp.json()["error"]
        code = err["code"]
        text = (err.get("message") or {}).get("value") or ""
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return (str(code), str(text)) if code else None


def make_error_for(duplicate_codes: tuple[str, ...], duplicate_message: str
                   ) -> Callable[[httpx.Response, str, bool], SagebridgeError | None]:
    """The `error_for` hook of the connector's HttpTarget."""
    pattern = re.compile(duplicate_message)

    def error_for(resp: httpx.Response, operation: str, write: bool) -> SagebridgeError | None:
        parsed = parse_error_body(resp)
        if parsed is None:
            return None
        code, text = parsed
        status = resp.status_code
        message = f"Sage 300 {code} ({status}) on {operation}: {text}"
        reason = f"{CONNECTOR}_{code}"
        if write and code in duplicate_codes:
            match = pattern.search(text)
            if match:
                return DuplicatePoRefused(message, match.groupdict().get("po"))
        if code == "General":
            return BudgetedError(message, budget="record_lock", reason=reason,
                                 retry_after=retry_after_seconds(resp.headers))
        if code in TRANSIENT_CODES:
            return TransientError(message, reason=reason, retry_after=retry_after_seconds(resp.headers))
        if status >= 500 or status == 429:
            return status_error(CONNECTOR, operation, resp, write=write, detail=f"{code}: {text}", reason=reason)
        return PermanentError(message, reason=reason)

    return error_for
