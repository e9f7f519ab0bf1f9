"""The Web API's error body and JSON rendering, shared by every resource of the simulator.

Error body (Sage 300 SDK Developer Reference §12, also used for injected faults):
  `{"error": {"code": "<Code>", "message": {"lang": "en-US", "value": "<text>"}}}`
Status mapping chosen here (Sage documents only 404 RecordNotFound and the 500 for a missing
Content-Type):
  400 InvalidPayload (bad JSON, unknown/mistyped property, enum name not in the list),
      InvalidParameters (bad query option or $filter), InvalidEntityKey (bad `(key)`),
      RecordInvalid (business rule: unknown customer/item/location/misc charge/ship-via/bank/GL
      account/currency, inactive records, unbalanced journal, a text longer than its column)
  401 Unauthorized · 404 RecordNotFound (key not found), ResourceNotFound (company/resource)
  405 MethodNotAllowed · 409 RecordDuplicate (existing customer key) · 429 TooManyRequests (faults,
      with Retry-After)
  500 InternalServerError · 503 InternalServerError body (fault outages, with Retry-After)

Money and quantities are Decimal end to end: request JSON is parsed with `parse_float=Decimal`, and
responses write Decimals as exact JSON numbers (parse them with `parse_float=Decimal` to keep them).
"""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from fastapi.responses import Response

STATUS_CODES = {400: "InvalidParameters", 401: "Unauthorized", 403: "Forbidden", 404: "ResourceNotFound",
                405: "MethodNotAllowed", 409: "RecordDuplicate", 429: "TooManyRequests"}


class SageError(Exception):
    """An error the Web API reports with its JSON error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": {"lang": "en-US", "value": message}}}


def fault_body(status: int) -> dict[str, Any]:
    """Body for injected faults, same shape as real errors."""
    code = STATUS_CODES.get(status, "InternalServerError")
    return error_body(code, f"Simulated fault (HTTP {status}).")


def dumps(value: Any) -> str:
    """JSON with Decimals written as exact numbers (json.dumps would need floats)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value)


class SageJSON(Response):
    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return dumps(content).encode()


def error_response(err: SageError, headers: dict[str, str] | None = None) -> SageJSON:
    return SageJSON(error_body(err.code, err.message), status_code=err.status, headers=headers)


def invalid_payload(message: str) -> SageError:
    return SageError(400, "InvalidPayload", message)


def record_invalid(message: str) -> SageError:
    return SageError(400, "RecordInvalid", message)


def not_found(message: str) -> SageError:
    return SageError(404, "RecordNotFound", message)


def parse_json(body: bytes) -> Any:
    """Request body -> JSON value with Decimal numbers; bad JSON is 400 InvalidPayload."""
    try:
        return json.loads(body or b"null", parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as e:
        raise invalid_payload(f"The request body is not valid JSON: {e}") from None
