"""Looking into a dead-letter topic: one summary per record, or everything about one record.

Read-only by construction: partitions are assigned and read to the end the broker reports (see
topic_reader.py), nothing is committed and no group is joined, so browsing never disturbs a
re-drive or a service. Whether a record is still waiting comes from the re-drive's own progress
(redrive_progress.py). Output passes through the log redaction (log_json.scrub): a DLQ record is
a copy of a production payload, and a terminal or a ticket is as easy a place for a card number or
a token to leak as a log line.
"""
from __future__ import annotations

import base64
from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

from confluent_kafka import Message, TopicPartition

from . import redrive_progress, tracing
from .avro_serde import Serde
from .dead_letter import ERROR_PREFIX, REPLAY_COUNT_HEADER, replay_count
from .errors import PermanentError, TransientError
from .log_json import scrub
from .topic_reader import partitions_of, read_to_end, tool_consumer
from .topics import REDRIVE_STATE


class NotFound(LookupError):
    """No such topic or partition, or no record at that offset (never written, deleted by
    retention, or a gap in the log)."""


@dataclass(frozen=True)
class DlqRow:
    partition: int
    offset: int
    key: str | None
    reason: str
    message: str
    topic: str
    first_failure: str | None
    attempts: int | None
    replays: int
    waiting: bool | None           # not yet re-sent by `dlq redrive` (None: unknown)
    trace_id: str | None           # the failed record's trace (its kept `traceparent`)
    trace_url: str | None          # that trace in the viewer (TRACE_URL_TEMPLATE)


def ms_to_iso(ms: int | str | None) -> str | None:
    """Epoch milliseconds as UTC ISO-8601 (`2026-12-01T09:30:00.125Z`); None when absent or bad."""
    try:
        moment = datetime.fromtimestamp(int(ms) / 1000, tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _text(data: bytes | None) -> str | None:
    """Bytes as UTF-8 when they are, else as `hex:...`."""
    if data is None:
        return None
    try:
        return data.decode()
    except UnicodeDecodeError:
        return "hex:" + data.hex()


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _error_context(msg: Message) -> dict[str, str]:
    return {k[len(ERROR_PREFIX):]: _text(v) or "" for k, v in msg.headers() or [] if k.startswith(ERROR_PREFIX)}


def _traceparent(msg: Message) -> str | None:
    return next((_text(v) for k, v in msg.headers() or [] if k == "traceparent"), None)


def _row(msg: Message, waiting: bool | None, trace_url_template: str | None = None) -> DlqRow:
    err = _error_context(msg)
    traceparent = _traceparent(msg)
    return DlqRow(partition=msg.partition(), offset=msg.offset(), key=_text(msg.key()),
                  reason=err.get("reason", "unknown"), message=err.get("exception.message", ""),
                  topic=err.get("topic", ""), first_failure=ms_to_iso(err.get("first.failure.ms")),
                  attempts=_int(err.get("attempts")), replays=replay_count(msg.headers()), waiting=waiting,
                  trace_id=tracing.trace_id_of(traceparent), trace_url=tracing.trace_url(trace_url_template, traceparent))


def _waiting(consumer_conf: dict, dlq: str, redrive_group: str | None, state_topic: str):
    """A predicate (partition, offset) → still waiting for a re-drive, from the re-drive's progress
    (reading the group's offsets creates no group)."""
    if redrive_group is None:
        return lambda _p, _o: None
    reader = tool_consumer({**consumer_conf, "group.id": redrive_group})
    try:
        parts = partitions_of(reader, dlq)
        committed = {tp.partition: tp.offset for tp in
                     reader.committed([TopicPartition(dlq, p) for p in parts], timeout=10)}
        progress = redrive_progress.load(reader, state_topic, dlq, committed)
    finally:
        reader.close()
    return lambda p, o: not progress[p].is_done(o) if p in progress else None


def list_records(consumer_conf: dict, dlq: str, *, reason: str | None = None, limit: int | None = None,
                 redrive_group: str | None = None, state_topic: str = REDRIVE_STATE,
                 timeout_s: float = 30.0, trace_url_template: str | None = None) -> list[dict]:
    """Summaries of `dlq`'s records from the beginning (at most `limit`, only `reason` if given),
    redacted, as plain dicts; `waiting` says whether `redrive_group` has yet to re-send each, and
    `trace_url` is the failed record's trace in the viewer when a template is given."""
    waiting = _waiting(consumer_conf, dlq, redrive_group, state_topic)
    consumer = tool_consumer(consumer_conf)
    try:
        if not partitions_of(consumer, dlq):
            raise NotFound(f"no topic {dlq}")
        rows: list[dict] = []
        for msg in read_to_end(consumer, dlq, timeout_s=timeout_s):
            row = _row(msg, waiting(msg.partition(), msg.offset()), trace_url_template)
            if reason is not None and row.reason != reason:
                continue
            rows.append(scrub(asdict(row)))
            if limit is not None and len(rows) >= limit:
                break
        return rows
    finally:
        consumer.close()


def jsonable(value: Any) -> Any:
    """Decoded Avro as JSON-ready values: Decimal and times as strings, bytes as base64."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):   # the schemas' times are timestamp-millis, always UTC
        moment = value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, (date, UUID)):
        return str(value)
    if isinstance(value, bytes):
        return {"base64": base64.b64encode(value).decode()}
    return value


def decode_payload(serde: Serde, data: bytes | None) -> dict:
    """`{"schema", "value"}` when the project's serde can read the bytes, else the raw bytes (UTF-8
    text when they are text, hex otherwise) with the reason they could not be decoded."""
    if data is None:
        return {"schema": None, "value": None, "note": "no value (tombstone)"}
    try:
        name, value = serde.deserialize(data)
        return {"schema": name, "value": jsonable(value)}
    except (PermanentError, TransientError) as e:
        raw = _text(data) or ""
        form = "hex" if raw.startswith("hex:") else "utf8"
        return {"schema": None, "undecodable": f"{type(e).__name__}: {e}", form: raw.removeprefix("hex:")}


def show_record(consumer_conf: dict, dlq: str, partition: int, offset: int, serde: Serde, *,
                timeout_s: float = 30.0, trace_url_template: str | None = None) -> dict:
    """Everything about one DLQ record, redacted: error context (times decoded), the other headers,
    and the payload decoded with the project's serde."""
    consumer = tool_consumer(consumer_conf)
    try:
        if partition not in partitions_of(consumer, dlq):
            raise NotFound(f"{dlq} has no partition {partition}")
        msg = next(read_to_end(consumer, dlq, {partition: offset}, timeout_s=timeout_s), None)
    finally:
        consumer.close()
    if msg is None or msg.offset() != offset:
        raise NotFound(f"{dlq} has no record at partition {partition} offset {offset}")
    err = _error_context(msg)
    for name in ("first.failure", "failed.at"):
        if name + ".ms" in err:
            err[name] = ms_to_iso(err[name + ".ms"]) or err[name + ".ms"]
    return scrub({
        "topic": dlq, "partition": partition, "offset": offset, "timestamp": ms_to_iso(msg.timestamp()[1]),
        "key": _text(msg.key()), "replay_count": replay_count(msg.headers()),
        "trace_id": tracing.trace_id_of(_traceparent(msg)),
        "trace_url": tracing.trace_url(trace_url_template, _traceparent(msg)),
        "error": err,
        "headers": {k: _text(v) for k, v in msg.headers() or []
                    if not k.startswith(ERROR_PREFIX) and k != REPLAY_COUNT_HEADER},
        "payload": decode_payload(serde, msg.value()),
    })
