"""What every connector does around one call to an external system: count it and time it by
connector, operation and outcome (bounded labels). `http_base.HttpTarget` wraps every HTTP call in it."""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

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
