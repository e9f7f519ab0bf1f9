"""Helpers for tests that talk to the simulator over HTTP (here so every test module shares one copy)."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx

JSON_CT = {"Content-Type": "application/json"}


def loads(response: httpx.Response) -> Any:
    """A response body with numbers as Decimal (the simulator writes exact decimals)."""
    return json.loads(response.text, parse_float=Decimal)


def assert_error(response: httpx.Response, status: int, code: str) -> str:
    """The documented error body `{"error": {"code", "message": {"lang": "en-US", "value"}}}` with this
    status and code; returns the message text."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    assert body["error"]["message"]["lang"] == "en-US"
    return body["error"]["message"]["value"]
