"""HMAC-SHA256 signatures for storefront push notifications.

X-Cart has no native webhooks, so the signature scheme is ours: the push module (and our X-Cart
simulator) sends `X-Sagebridge-Signature: sha256=<hex HMAC-SHA256 of the raw body>` with a per-pair
secret. Verification works on the raw bytes, before any parsing, and compares in constant time so a
timing probe learns nothing about the expected digest.
"""
from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Sagebridge-Signature"
_PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    """The header value for `body` under `secret`."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def verify(secret: str, body: bytes, header_value: str | None) -> bool:
    """True only when `header_value` is the exact signature of `body`."""
    if not header_value or not secret:
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header_value.strip().encode())
