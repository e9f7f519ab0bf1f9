"""The three kinds of failure the runtime acts on.

Kafka Connect's lesson: the code that decides *whether to retry* should not also decide *where a
failure is reported*. Connectors raise these; the processor's retry policy and the dead-letter
reporter act on the class, never on the message text.

- TransientError: the target may succeed later (timeouts, 5xx, 429, locks, session expiry). Retried
  with capped backoff for as long as it takes; the partition holds its place meanwhile.
- PermanentError: retrying cannot help (validation, unknown SKU, undecodable bytes). Goes to the DLQ.
- anything else is "unknown": retried a bounded number of times, then dead-lettered.
"""
from __future__ import annotations


class SagebridgeError(Exception):
    """Base class; `reason` is a short, bounded, label-safe code (e.g. `unknown_sku`)."""

    reason: str = "error"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason:
            self.reason = reason


class TransientError(SagebridgeError):
    reason = "transient"

    def __init__(self, message: str, *, reason: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, reason=reason)
        self.retry_after = retry_after


class PermanentError(SagebridgeError):
    reason = "permanent"


def classify(exc: BaseException) -> str:
    """'transient', 'permanent' or 'unknown'."""
    if isinstance(exc, TransientError):
        return "transient"
    if isinstance(exc, PermanentError):
        return "permanent"
    return "unknown"
