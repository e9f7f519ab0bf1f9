"""HMAC-SHA256 signatures, with a timestamp, for storefront push notifications.

X-Cart has no native webhooks, so the scheme is ours, modelled on the one Stripe ("Check the webhook
signatures") and Slack ("Verifying requests from Slack") document: the sender puts the current Unix
time in `X-Sagebridge-Timestamp` and `sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`, keyed
with the pair's secret, in `X-Sagebridge-Signature`. Signing the timestamp with the body is what makes
a captured delivery useless after the tolerance window: the timestamp cannot be refreshed without
the key. Verification works on the raw bytes, before any parsing, and compares in constant time so a
timing probe learns nothing about the expected digest.
"""
from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Sagebridge-Signature"
TIMESTAMP_HEADER = "X-Sagebridge-Timestamp"
_PREFIX = "sha256="
_MAX_TIMESTAMP_DIGITS = 12   # Unix seconds stay under 12 digits until the year 33658


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The signature header value for `body` sent at `timestamp` (Unix seconds) under `secret`."""
    return _PREFIX + _digest(secret.encode(), str(timestamp).encode("ascii"), body)


def _digest(key: bytes, timestamp: bytes, body: bytes) -> str:
    return hmac.digest(key, timestamp + b"." + body, hashlib.sha256).hex()


def refusal(secret: str, timestamp_header: str | None, body: bytes, signature_header: str | None,
            now: float, tolerance: float) -> str | None:
    """Why the delivery is not authentic, or None when it is. The signature is checked against the
    timestamp exactly as sent, so the sender's formatting is what is signed."""
    if not secret:
        return "no webhook secret is configured"
    ts = (timestamp_header or "").strip()
    if not (0 < len(ts) <= _MAX_TIMESTAMP_DIGITS and ts.isascii() and ts.isdigit()):
        return f"missing or non-integer {TIMESTAMP_HEADER}"
    if abs(now - int(ts)) > tolerance:
        return f"{TIMESTAMP_HEADER} outside the {tolerance:g}s tolerance"
    if not signature_header:
        return f"missing {SIGNATURE_HEADER}"
    expected = _PREFIX + _digest(secret.encode(), ts.encode("ascii"), body)
    if not hmac.compare_digest(expected.encode(), signature_header.strip().encode("latin-1", "replace")):
        return "bad signature"
    return None


def verify(secret: str, timestamp_header: str | None, body: bytes, signature_header: str | None,
           now: float, tolerance: float) -> bool:
    """True only when `signature_header` signs `body` at `timestamp_header`, and that timestamp is
    within `tolerance` seconds of `now`. An empty secret accepts nothing."""
    return refusal(secret, timestamp_header, body, signature_header, now, tolerance) is None
