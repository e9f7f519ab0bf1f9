"""What every connector does around one call to an external system: count it and time it by
connector, operation and outcome (bounded labels), and read the server's Retry-After."""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Mapping

from . import metrics


@dataclass
class CallOutcome:
    outcome: str = "error"     # the HTTP status once there is one; "error" when none came back


@contextmanager
def observed_call(connector: str, operation: str) -> Iterator[CallOutcome]:
    result = CallOutcome()
    started = time.monotonic()
    try:
        yield result
    finally:
        metrics.CONNECTOR_REQUESTS.labels(connector, operation, result.outcome).inc()
        metrics.CONNECTOR_SECONDS.labels(connector, operation).observe(time.monotonic() - started)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Retry-After in seconds (the delta form; an HTTP date is rare from these APIs and ignored)."""
    try:
        return max(0.0, float(headers["Retry-After"]))
    except (KeyError, ValueError, TypeError):
        return None
