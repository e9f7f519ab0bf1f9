"""The runtime's driver of a change source (`contracts.ChangeSource`): poll, fetch, publish, save.

For each stream of the source, page by page: ask for the changes after the saved cursor, fetch the
full record of each, publish the service's outputs for them and wait for the broker's
acknowledgement, and only then save the page's cursor (acknowledged too). A source with a
`delivered(stream, page)` method hears of the acknowledgement before the cursor is saved (change
capture records what it emitted there, `table_capture.py`); a failure in it saves no cursor.
A restart, or another replica taking over (`source_cursor.SourceOwnership`), resumes from the last
saved cursor: nothing is skipped, and at most the page in flight is read again.

One bad record must not stop the feed. A record whose fetch keeps failing while the source answers
otherwise (its payment transactions answer 500 forever, its JSON is damaged) is retried
`SOURCE_RECORD_MAX_ATTEMPTS` times (a permanent error: once), then dead-lettered with the runtime's
`sagebridge.error.*` headers and counted, and the page moves on. When the source itself is down
(its ping fails too) nothing is dead-lettered: the page is retried with capped backoff from the
same cursor, and readiness reports the outage until a page goes through again.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from typing import Callable

from . import metrics
from .contracts import Change, ChangeSource, SourceRecord
from .dead_letter import FailureContext, dead_letter_headers, dlq_topic
from .errors import classify
from .events import Output
from .retry import RetryPolicy
from .source_cursor import SourceOwnership
from .topics import INGEST_STATE, SOURCE_DLQ

log = logging.getLogger(__name__)

OutputsFn = Callable[[SourceRecord, Change], list[Output]]
DeadLetterFn = Callable[[Change], Output]


class LostOwnership(Exception):
    """Another replica owns the source now (or this one is stopping): drop the page, save nothing."""


class SourceDown(Exception):
    """The source does not answer at all: retry the page later, dead-letter nothing."""


class SourceRunner:
    def __init__(self, app, source: ChangeSource, *, pair_id: str, outputs: OutputsFn, interval_s: float,
                 page_size: int = 100, name: str | None = None, max_record_attempts: int = 5,
                 dead_letter: DeadLetterFn | None = None, state_topic: str = INGEST_STATE) -> None:
        """`outputs(record, change)`: what to publish for a record; `dead_letter(change)`: the
        record that stands for a change in the DLQ (its topic's `.dlq` receives it, so the redrive
        tool can send it back there); without it a JSON description goes to `SOURCE_DLQ`."""
        s = app.settings
        self.app, self.source, self.pair_id = app, source, pair_id
        self.name = f"{pair_id}/{name or getattr(source, 'name', source.kind)}"
        self.outputs, self.dead_letter = outputs, dead_letter
        self.interval_s, self.page_size = interval_s, page_size
        self.max_attempts = max(1, max_record_attempts)
        self.policy = RetryPolicy(s.retry_initial_s, s.retry_max_s)
        self.streams = list(source.streams())
        self._delivered = getattr(source, "delivered", None)
        self.keys = {st: f"{self.name}/{st}s" for st in self.streams}
        self.state_topic = state_topic
        self.ownership = SourceOwnership(app, topic=state_topic, group_id=f"sagebridge.source.{self.name.replace('/', '.')}",
                                         keys=list(self.keys.values()))
        self.pages = 0                     # pages delivered by this instance (tests, logs)
        metrics.SOURCE_CYCLE_FAILURES.labels(app.service, source.kind)   # exported at 0 from the start
        self._failing_since: float | None = None
        self._failure = ""
        self._beat = time.monotonic()
        self._stop = threading.Event()

    # -- lifecycle -------------------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()

    def _stopping(self) -> bool:
        return self._stop.is_set() or self.app.stop_event.is_set()

    def run(self) -> None:
        self.ownership.start()
        failures = 0
        try:
            while not self._stopping():
                self._beat = time.monotonic()
                gen = self.ownership.wait_owned(0.5)
                if gen is None:          # a standby has nothing to report
                    failures, self._failing_since = 0, None
                    continue
                try:
                    self._cycle(gen)
                    failures, self._failing_since = 0, None
                    wait = self.interval_s
                except LostOwnership:
                    continue
                except Exception as e:
                    failures += 1
                    self._failed(e)
                    wait = self.policy.delay(e, failures)
                self._stop.wait(wait)
        finally:
            self.ownership.close()

    # -- one cycle ---------------------------------------------------------------------------
    def _check(self, gen: int) -> None:
        if self._stopping() or not self.ownership.still(gen):
            raise LostOwnership()

    def _cycle(self, gen: int) -> None:
        for stream in self.streams:
            while True:
                self._check(gen)
                cursor = self.ownership.cursors.get(self.keys[stream])
                page = self.source.changes(stream, cursor, self.page_size)
                outputs: list[Output] = []
                for change in page.changes:
                    record = self._fetch(change, gen)
                    if record is not None:
                        outputs.extend(self.outputs(record, change))
                self.app.publish_sync(outputs)
                self._check(gen)
                if self._delivered is not None:     # e.g. change capture's row memory
                    self._delivered(stream, page)
                self.app.produce_raw_sync(self.state_topic, self.keys[stream].encode(), page.cursor.encode())
                self.ownership.cursors[self.keys[stream]] = page.cursor
                self.pages += 1
                self._beat = time.monotonic()
                metrics.SOURCE_RECORDS.labels(self.app.service, self.source.kind, "delivered").inc(len(outputs))
                if not page.has_more:
                    break

    def _fetch(self, change: Change, gen: int) -> SourceRecord | None:
        first_ms, attempts = int(time.time() * 1000), 0
        while True:
            self._check(gen)
            try:
                return self.source.fetch(change)
            except Exception as e:
                up, detail = self.source.ping()
                if not up:
                    raise SourceDown(f"{self.source.kind} unreachable while fetching {change.entity_id}: "
                                     f"{detail}") from e
                attempts += 1
                if classify(e) == "permanent" or attempts >= self.max_attempts:
                    self._dead_letter(change, e, attempts, first_ms)
                    return None
                log.warning("record fetch failed; retrying", extra={
                    "source": self.name, "entity_id": change.entity_id, "attempt": attempts,
                    "error_class": type(e).__name__, "error": str(e)[:300]})
                if self._stop.wait(self.policy.delay(e, attempts)):
                    raise LostOwnership()

    def _dead_letter(self, change: Change, exc: BaseException, attempts: int, first_ms: int) -> None:
        reason = getattr(exc, "reason", None) or type(exc).__name__
        if self.dead_letter is not None:
            out = self.dead_letter(change)
            key, value = self.app.encode(out)
            topic, target, original = out.topic, dlq_topic(out.topic), out.headers
        else:
            key, topic, target, original = change.entity_id.encode(), f"source:{self.name}", SOURCE_DLQ, []
            value = json.dumps({"pair_id": self.pair_id, "source": self.name, "entity_type": change.entity_type,
                                "entity_id": change.entity_id, "version": change.version}).encode()
        ctx = FailureContext(topic=topic, partition=-1, offset=-1, group=self.ownership.group_id,
                             service=self.app.service, stage=f"source:{self.name}", attempts=attempts,
                             first_failure_ms=first_ms)
        self.app.produce_raw_sync(target, key, value, headers=dead_letter_headers(original, ctx, exc, reason))
        metrics.DLQ_RECORDS.labels(self.app.service, topic, reason).inc()
        metrics.SOURCE_RECORDS.labels(self.app.service, self.source.kind, "dead_lettered").inc()
        log.error("record dead-lettered", extra={"source": self.name, "entity_id": change.entity_id,
                                                 "reason": reason, "attempts": attempts, "dlq": target})

    def _failed(self, exc: BaseException) -> None:
        if self._failing_since is None:
            self._failing_since = time.time()
        self._failure = f"{type(exc).__name__}: {str(exc)[:200]}"
        metrics.SOURCE_CYCLE_FAILURES.labels(self.app.service, self.source.kind).inc()
        log.warning("source cycle failed; retrying with backoff", extra={"source": self.name, "error": self._failure})

    # -- health --------------------------------------------------------------------------------
    def readiness_check(self) -> tuple[bool, str]:
        if self._failing_since is not None:
            return False, f"failing since {time.strftime('%H:%M:%SZ', time.gmtime(self._failing_since))}: {self._failure}"
        return True, "owner" if self.ownership.generation() is not None else "standby"

    def liveness_check(self) -> tuple[bool, str]:
        stalled = time.monotonic() - self._beat
        limit = self.app.settings.liveness_stall_s
        return stalled < limit, f"last turn {stalled:.0f}s ago"
