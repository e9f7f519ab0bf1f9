"""When a consumed record counts as finished, and how a given-up record is reported.

A record is finished exactly once: when every part of its result has been acknowledged by the
broker (its outputs; or its dead-letter copy *and* its failure outputs). The first failed
acknowledgement wins instead and stops the service before anything is committed past the record;
whatever arrives after the latch has fired is only logged. Without the latch, a failed DLQ copy
plus an acknowledged failure output would commit a record that was neither written nor
dead-lettered.

A produce() that fails synchronously is classified here as well: librdkafka refuses a record
larger than `message.max.bytes` at once (MSG_SIZE_TOO_LARGE), which no retry can fix, so the
record is dead-lettered; other local refusals are treated as transient (retriable) or unknown.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

from confluent_kafka import KafkaError, KafkaException

from . import metrics
from .dead_letter import FailureContext, dead_letter_headers, dlq_topic
from .errors import PermanentError, TransientError, classify
from .events import Event, Output

log = logging.getLogger(__name__)

Finish = Callable[[Exception | None], None]
FailureOutputs = Callable[[Event, Exception], list[Output]]

_TOO_LARGE = {KafkaError.MSG_SIZE_TOO_LARGE, KafkaError.RECORD_LIST_TOO_LARGE}


class Completion:
    """Once-only latch for one record; `expect(n)` gives a callback for a result of n parts."""

    def __init__(self, finish: Finish, where: dict) -> None:
        self._finish = finish
        self._where = where
        self._lock = threading.Lock()
        self._fired = False

    def fire(self, err: Exception | None) -> bool:
        with self._lock:
            late, self._fired = self._fired, True
        if late:
            if err is not None:
                log.warning("delivery failure after the record had already completed",
                            extra={**self._where, "error": str(err)[:300]})
            return False
        self._finish(err)
        return True

    def expect(self, parts: int) -> Finish:
        """A callback to call once per part: the first error fires at once, the last success
        fires the latch."""
        remaining = [parts]
        lock = threading.Lock()

        def part_done(err: Exception | None) -> None:
            if err is None:
                with lock:
                    remaining[0] -= 1
                    if remaining[0] > 0:
                        return
            self.fire(err)
        return part_done


def produce_failure(e: KafkaException) -> Exception:
    """What a synchronous produce() refusal means for the record (see module docstring)."""
    err = e.args[0] if e.args and isinstance(e.args[0], KafkaError) else None
    if err is not None and err.code() in _TOO_LARGE:
        return PermanentError(f"output refused by the producer: {err.str()}", reason="output_too_large")
    if err is not None and err.retriable() and not err.fatal():
        return TransientError(f"output refused by the producer: {err.str()}", reason="produce_refused")
    return e


class DeadLetterReporter:
    """Sends a given-up record to `<topic>.dlq` byte for byte, with its failure outputs."""

    def __init__(self, app, *, group_id: str, stage: str, failure_outputs: FailureOutputs | None) -> None:
        self.app = app
        self.group_id = group_id
        self.stage = stage
        self.failure_outputs = failure_outputs

    def report(self, msg, exc: Exception, attempts: int, first_failure_ms: int, event: Event | None,
               completion: Completion) -> None:
        reason = getattr(exc, "reason", None) or classify(exc)
        ctx = FailureContext(topic=msg.topic(), partition=msg.partition(), offset=msg.offset(), group=self.group_id,
                             service=self.app.service, stage=self.stage, attempts=attempts,
                             first_failure_ms=first_failure_ms)
        where = {"topic": msg.topic(), "partition": msg.partition(), "offset": msg.offset()}
        log.warning("record dead-lettered", extra={**where, "reason": reason, "attempts": attempts,
                                                   "error_class": type(exc).__name__, "error": str(exc)[:300]})
        metrics.DLQ_RECORDS.labels(self.app.service, msg.topic(), reason).inc()
        extra = self._failure_outputs(event, exc)
        part_done = completion.expect(2 if extra else 1)
        try:
            self.app.produce_raw(dlq_topic(msg.topic()), msg.key(), msg.value(),
                                 dead_letter_headers(msg.headers(), ctx, exc, reason),
                                 lambda err, _m: part_done(None if err is None else KafkaException(err)))
        except Exception as e:
            log.error("dead-letter copy could not be produced; stopping before anything is committed past it",
                      exc_info=True, extra={**where, "error": str(e)[:300]})
            part_done(e)
            return
        if extra:
            self._publish_failure_outputs(extra, part_done, where)

    def _failure_outputs(self, event: Event | None, exc: Exception) -> list[Output]:
        if not self.failure_outputs or event is None:
            return []
        try:
            return self.failure_outputs(event, exc)
        except Exception:
            log.exception("failure_outputs hook failed; dead-lettering without them")
            return []

    def _publish_failure_outputs(self, extra: list[Output], part_done: Finish, where: dict) -> None:
        try:
            self.app.publish(extra, part_done)
        except KafkaException as e:       # some may be produced already: an unfinished part, so stop
            log.error("failure outputs could not be produced", exc_info=True, extra={**where, "error": str(e)[:300]})
            part_done(e)
        except Exception:                 # encoding failed before anything was sent
            log.exception("failure outputs could not be encoded; dead-lettering without them", extra=where)
            part_done(None)
