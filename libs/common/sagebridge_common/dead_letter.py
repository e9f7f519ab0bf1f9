"""Dead-letter reporting: where a record that cannot be processed goes, and what it carries.

As in Kafka Connect, the DLQ record is the original key, value and headers, byte for byte, so a
replay sends back exactly what arrived; everything we know about the failure travels in extra
headers under `sagebridge.error.*`. The replay count survives across dead-letterings so a record
that keeps failing after replays can be quarantined instead of looping.
"""
from __future__ import annotations

import time
import traceback
from dataclasses import dataclass

ERROR_PREFIX = "sagebridge.error."
REPLAY_COUNT_HEADER = "sagebridge.replay.count"
STACK_LIMIT = 4096
MESSAGE_LIMIT = 1024


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"


@dataclass(frozen=True)
class FailureContext:
    topic: str
    partition: int
    offset: int
    group: str
    service: str
    stage: str
    attempts: int
    first_failure_ms: int


def replay_count(headers: list[tuple[str, bytes | None]] | None) -> int:
    for k, v in headers or []:
        if k == REPLAY_COUNT_HEADER and v:
            try:
                return int(v.decode())
            except ValueError:
                return 0
    return 0


def error_headers(ctx: FailureContext, exc: BaseException, reason: str) -> list[tuple[str, bytes]]:
    stack = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-STACK_LIMIT:]
    fields = {
        "topic": ctx.topic,
        "partition": str(ctx.partition),
        "offset": str(ctx.offset),
        "group": ctx.group,
        "service": ctx.service,
        "stage": ctx.stage,
        "reason": reason,
        "exception.class": f"{type(exc).__module__}.{type(exc).__qualname__}",
        "exception.message": str(exc)[:MESSAGE_LIMIT],
        "exception.stacktrace": stack,
        "first.failure.ms": str(ctx.first_failure_ms),
        "failed.at.ms": str(int(time.time() * 1000)),
        "attempts": str(ctx.attempts),
    }
    return [(ERROR_PREFIX + k, v.encode()) for k, v in fields.items()]


def dead_letter_headers(original: list[tuple[str, bytes | None]] | None, ctx: FailureContext,
                        exc: BaseException, reason: str) -> list[tuple[str, bytes | None]]:
    """Original headers (minus stale error headers from an earlier failure) plus the error context."""
    kept = [(k, v) for k, v in (original or []) if not k.startswith(ERROR_PREFIX)]
    if not any(k == REPLAY_COUNT_HEADER for k, _ in kept):
        kept.append((REPLAY_COUNT_HEADER, b"0"))
    return kept + error_headers(ctx, exc, reason)


def header_dict(headers: list[tuple[str, bytes | None]] | None) -> dict[str, str]:
    """Last value wins; convenient for reading DLQ context in tools and tests."""
    return {k: (v.decode(errors="replace") if v is not None else "") for k, v in headers or []}
