"""The single Application object of a service: settings, producer, serde, health, ops server.

Like Quix Streams' Application, it owns everything a service shares, so a service's `main` is a few
lines: build the app, add processors (consume → handler → produce) and background tasks, `run()`.
`run()` handles SIGTERM/SIGINT: in-flight work finishes, outputs are flushed, offsets committed, and
the process exits within the shutdown grace.
"""
from __future__ import annotations

import logging
import sys
import signal
import threading
import time
from typing import Callable

from confluent_kafka import KafkaError, Producer

from . import metrics, tracing
from .avro_serde import serde_from_settings
from .events import Output, with_pair_header
from .health import HealthRegistry, OpsServer
from .kafka_clients import make_producer
from .log_json import setup_logging
from .schemas import SchemaCatalog
from .settings import Settings

log = logging.getLogger(__name__)

DeliveryCallback = Callable[[Exception | None], None]


class DeliveryError(Exception):
    """The broker did not acknowledge a record: nothing after it may be committed."""


def _wait_for_ack(send: Callable[[DeliveryCallback], None], timeout: float) -> None:
    done = threading.Event()
    result: list[Exception | None] = [None]

    def cb(err: Exception | None) -> None:
        result[0] = err
        done.set()

    send(cb)
    if not done.wait(timeout):
        raise DeliveryError(f"no acknowledgement within {timeout}s")
    if result[0]:
        raise result[0]


class Application:
    def __init__(self, settings: Settings, *, producer: Producer | None = None, catalog: SchemaCatalog | None = None,
                 configure_logging: bool = True, pairs: dict | None = None) -> None:
        """`pairs`: the validated pair configs this instance serves (pair id → PairConfig)."""
        self.settings = settings
        self.pairs = dict(pairs or {})
        self.service = settings.service_name
        if configure_logging:
            setup_logging(self.service, settings.log_level)
        tracing.setup_tracing(self.service)
        self.catalog = catalog or SchemaCatalog.load()
        self.serde = serde_from_settings(settings, self.catalog)
        self.producer = producer or make_producer(settings)
        self.stop_event = threading.Event()
        self._closed = threading.Event()
        self.fatal: BaseException | None = None
        self.health = HealthRegistry()
        self.health.readiness["broker"] = self._broker_check
        self._workers: list[threading.Thread] = []
        self._processors: list = []
        self._stoppers: list[Callable[[], None]] = []
        self._poller = threading.Thread(target=self._serve_deliveries, name="producer-poll", daemon=True)
        self._poller.start()
        self._broker_ok: tuple[float, bool, str] = (0.0, False, "not checked")

    def serves(self, pair_id: str | None) -> bool:
        """Topics are shared by every pair; an instance handles only its own pairs' events."""
        if pair_id is None:
            return True
        if self.pairs:
            return pair_id in self.pairs
        return self.settings.pair_id is None or pair_id == self.settings.pair_id

    # -- producing ---------------------------------------------------------------------------
    def encode(self, output: Output) -> tuple[bytes | None, bytes | None]:
        if output.schema is None:      # already bytes: keyed-state changelog records and tombstones
            return output.key_bytes(), output.value
        return output.key_bytes(), self.serde.serialize(output.schema, output.value)

    def publish(self, outputs: list[Output], on_done: DeliveryCallback | None = None) -> None:
        """Encodes every output first (a schema error raises before anything is sent), then
        produces them; `on_done` fires once, after the last acknowledgement or the first failure."""
        encoded = [(o, *self.encode(o)) for o in outputs]
        if not encoded:
            if on_done:
                on_done(None)
            return
        remaining = [len(encoded)]
        lock = threading.Lock()
        fired = [False]

        def delivered(err: KafkaError | None, msg) -> None:
            with lock:
                if fired[0]:
                    return
                if err is not None:
                    fired[0] = True
                    failure: Exception | None = DeliveryError(str(err))
                else:
                    metrics.EVENTS_PRODUCED.labels(self.service, msg.topic()).inc()
                    remaining[0] -= 1
                    if remaining[0]:
                        return
                    fired[0] = True
                    failure = None
            if on_done:
                on_done(failure)

        for output, key, value in encoded:
            with tracing.publish_span(output.topic, key, output.partition):
                headers = tracing.inject(with_pair_header(output))
                self.produce_raw(output.topic, key, value, headers, delivered, partition=output.partition)

    def produce_raw(self, topic: str, key: bytes | None, value: bytes | None, headers, callback,
                    partition: int | None = None) -> None:
        """Produces bytes as they are (DLQ copies, replays); waits while the local queue is full."""
        pinned = {} if partition is None else {"partition": partition}
        while True:
            try:
                self.producer.produce(topic, value=value, key=key, headers=headers, on_delivery=callback, **pinned)
                return
            except BufferError:
                time.sleep(0.005)

    def publish_sync(self, outputs: list[Output], timeout: float = 30.0) -> None:
        """`publish`, returning once the broker acknowledged every output (raises otherwise)."""
        _wait_for_ack(lambda done: self.publish(outputs, done), timeout)

    def produce_raw_sync(self, topic: str, key: bytes | None, value: bytes | None, timeout: float = 30.0,
                         headers=None) -> None:
        """`produce_raw` of one record, returning once the broker acknowledged it."""
        _wait_for_ack(lambda done: self.produce_raw(
            topic, key, value, headers, lambda err, _m: done(None if err is None else DeliveryError(str(err)))),
            timeout)

    def _serve_deliveries(self) -> None:
        while not self._closed.is_set():
            self.producer.poll(0.05)

    def close(self, timeout: float = 5.0) -> None:
        """Flushes and stops the delivery thread, for apps used without `run()` (tests, tools)."""
        self.producer.flush(timeout)
        self._closed.set()

    # -- health ------------------------------------------------------------------------------
    def _broker_check(self) -> tuple[bool, str]:
        checked_at, ok, detail = self._broker_ok
        if time.monotonic() - checked_at < 2.0:
            return ok, detail
        try:
            md = self.producer.list_topics(timeout=2.0)
            ok, detail = True, f"{len(md.brokers)} broker(s)"
        except Exception as e:
            ok, detail = False, f"{type(e).__name__}: {e}"
        self._broker_ok = (time.monotonic(), ok, detail)
        return ok, detail

    # -- running -----------------------------------------------------------------------------
    def processor(self, topics: list[str], handler, *, stage: str, max_in_flight: int | None = None,
                  group_id: str | None = None, failure_outputs=None, coalescer=None):
        from .processor import Processor
        proc = Processor(self, topics, handler, stage=stage, max_in_flight=max_in_flight, group_id=group_id,
                         failure_outputs=failure_outputs, coalescer=coalescer)
        self._processors.append(proc)
        self.health.liveness[f"processor:{stage}"] = proc.liveness_check
        return proc

    def source(self, source, **options):
        """Polls a change source (`contracts.ChangeSource`) as a background task: one owner per
        pair and source across replicas, cursor kept in Kafka (`source_runner.SourceRunner`)."""
        from .source_runner import SourceRunner
        runner = SourceRunner(self, source, **options)
        self.background(f"source:{runner.name}", runner.run, stop=runner.stop)
        self.health.liveness[f"source:{runner.name}"] = runner.liveness_check
        self.health.readiness[f"source:{runner.name}"] = runner.readiness_check
        return runner

    def background(self, name: str, target: Callable[[], None], stop: Callable[[], None] | None = None) -> None:
        """A long-running task (poller, HTTP server) that must return soon after `stop_event` is set."""
        self._workers.append(threading.Thread(target=self._guard(target), name=name, daemon=True))
        if stop:
            self._stoppers.append(stop)

    def _guard(self, target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as e:
                log.exception("background task failed; stopping")
                self.fatal = e
                self.stop_event.set()
        return run

    def request_stop(self, *_args) -> None:
        if not self.stop_event.is_set():
            log.info("stop requested")
        self.stop_event.set()

    def run(self, *, install_signals: bool = True) -> int:
        """Runs until SIGTERM/SIGINT or a fatal error; returns the process exit code."""
        if install_signals:
            signal.signal(signal.SIGTERM, self.request_stop)
            signal.signal(signal.SIGINT, self.request_stop)
        ops = OpsServer(self.health, self.settings.ops_host, self.settings.ops_port).start()
        for proc in self._processors:
            self._workers.append(threading.Thread(target=self._guard(proc.run), name=f"proc-{proc.stage}", daemon=True))
        for t in self._workers:
            t.start()
        log.info("service started", extra={"group": self.settings.group_id})
        while not self.stop_event.wait(0.2):
            pass
        deadline = time.monotonic() + self.settings.shutdown_grace_s + 1.5
        for stop in self._stoppers:
            stop()
        for t in self._workers:
            t.join(max(0.1, deadline - time.monotonic()))
        self.producer.flush(max(0.1, deadline - time.monotonic()))
        self._closed.set()
        ops.stop()
        log.info("service stopped", extra={"fatal": repr(self.fatal) if self.fatal else None})
        return 1 if self.fatal else 0


def serve(build: Callable[[Settings], "Application"], settings_class: type[Settings]) -> None:
    """A service's console-script entry point: settings from the environment, `build`, run, exit.
    A wrong environment or pair file stops it with exit code 2 and a message for the operator
    (file, line, key), not a stack trace."""
    from pydantic import ValidationError

    from .errors import StartRefused
    from .pair_file import PairFileError

    name = settings_class.model_fields["service_name"].default
    try:
        app = build(settings_class.from_env())
    except (PairFileError, ValidationError) as e:
        print(f"sagebridge-{name}: cannot start, the configuration is invalid:\n{e}", file=sys.stderr)
        sys.exit(2)
    except StartRefused as e:
        print(f"sagebridge-{name}: cannot start: {e}", file=sys.stderr)
        sys.exit(2)
    sys.exit(app.run())
