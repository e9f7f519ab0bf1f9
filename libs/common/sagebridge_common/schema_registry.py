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
from .schemas import UnknownSchemaError

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
SCHEMA_NOT_FOUND = 40403


class SchemaRegistryClient:
    """Thread-safe (httpx.Client is) thin client; caching is the caller's job (see ConfluentSerde)."""

    def __init__(self, url: str, auth: tuple[str, str] | None = None, timeout: float = 10.0,
                 client: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        self._client = client or httpx.Client(
            base_url=self.url, auth=auth, timeout=timeout,
            headers={"Accept": CONTENT_TYPE, "Content-Type": CONTENT_TYPE})

    def register(self, subject: str, schema_json: str) -> int:
        """Register (or find) `schema_json` under `subject`; returns the global schema id."""
        body = self._request("POST", f"/subjects/{subject}/versions", json={"schema": schema_json})
        return int(body["id"])

    def get_schema(self, schema_id: int) -> str:
        """The schema JSON text for a global id; UnknownSchemaError if the registry has no such id."""
        return self._request("GET", f"/schemas/ids/{int(schema_id)}")["schema"]

    def subjects(self) -> list[str]:
        return self._request("GET", "/subjects")

    def close(self) -> None:
        self._client.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TransportError as e:
            raise TransientError(f"schema registry {self.url} unreachable: {e!r}",
                                 reason="registry_unavailable") from e
        if response.status_code >= 400:
            raise _classify(response, f"{method} {path}")
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


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None


def _classify(response: httpx.Response, what: str) -> Exception:
    status = response.status_code
    body = _error_body(response)
    detail = f"schema registry {what}: HTTP {status} {body.get('message', response.text[:200])}"
    if status == 404 and body.get("error_code", SCHEMA_NOT_FOUND) == SCHEMA_NOT_FOUND:
        return UnknownSchemaError(detail)
    if status in (401, 403):
        return TransientError(detail, reason="registry_auth")
    if status == 429 or status >= 500:
        return TransientError(detail, reason="registry_unavailable", retry_after=_retry_after(response))
    return PermanentError(detail, reason="registry_rejected")
