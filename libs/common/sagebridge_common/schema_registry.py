"""A small Confluent Schema Registry client: register a schema under a subject, fetch one by id.

Only the two calls the Confluent wire format needs. Failures are classified for the runtime:
an unreachable or overloaded registry (connection errors, timeouts, 5xx, 429) and rejected
credentials are TransientError, because the message is not at fault and nothing should be
dead-lettered while the registry or its configuration is being fixed; an unknown id is
UnknownSchemaError (permanent); a schema the registry refuses (409 incompatible, 422 invalid) is
PermanentError.
"""
from __future__ import annotations

from typing import Any

import httpx

from .errors import PermanentError, TransientError
from .http_base import HttpTarget
from .schemas import UnknownSchemaError

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
SCHEMA_NOT_FOUND = 40403


class SchemaRegistryClient:
    """Thread-safe thin client on the shared HTTP base; caching is the caller's job (ConfluentSerde).
    Registering is idempotent (the registry answers the existing id), so no call is a "write" whose
    lost answer needs reconciling: every failure of transport, 429 or 5xx is plainly transient."""

    def __init__(self, url: str, auth: tuple[str, str] | None = None, timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        self._http = HttpTarget("schema_registry", self.url, timeout=timeout, auth=auth, transport=transport,
                                headers={"Accept": CONTENT_TYPE, "Content-Type": CONTENT_TYPE},
                                error_for=_registry_error)

    def register(self, subject: str, schema_json: str) -> int:
        """Register (or find) `schema_json` under `subject`; returns the global schema id."""
        body = self._request("register", "POST", f"/subjects/{subject}/versions", json={"schema": schema_json})
        return int(body["id"])

    def get_schema(self, schema_id: int) -> str:
        """The schema JSON text for a global id; UnknownSchemaError if the registry has no such id."""
        return self._request("get_schema", "GET", f"/schemas/ids/{int(schema_id)}")["schema"]

    def subjects(self) -> list[str]:
        return self._request("subjects", "GET", "/subjects")

    def close(self) -> None:
        self._http.close()

    def _request(self, operation: str, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(operation, method, path, write=False, **kwargs)
        try:
            return response.json()
        except ValueError as e:
            raise TransientError(f"schema registry sent non-JSON for {method} {path}",
                                 reason="registry_unavailable") from e


def _error_body(response: httpx.Response) -> dict:
    try:
        body = response.json()
        return body if isinstance(body, dict) else {}
    except ValueError:
        return {}


def _registry_error(response: httpx.Response, operation: str, _write: bool) -> Exception | None:
    """The registry's own refusals; everything else (auth, 429, 5xx) follows the shared table."""
    status = response.status_code
    body = _error_body(response)
    detail = f"schema registry {operation}: HTTP {status} {body.get('message', response.text[:200])}"
    if status == 404 and body.get("error_code", SCHEMA_NOT_FOUND) == SCHEMA_NOT_FOUND:
        return UnknownSchemaError(detail)
    if status in (409, 422):
        return PermanentError(detail, reason="registry_rejected")
    return None
