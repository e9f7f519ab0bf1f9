"""Who polls a source, and where it stopped: both kept in Kafka, so any replica can take over.

Ownership is the Kafka group protocol, not a lock: every replica of a pair's source joins one
consumer group subscribed to the single-partition, compacted state topic. The member assigned
partition 0 owns the source; the others stand by. When the owner leaves (shutdown, crash past the
session timeout, network partition), the coordinator revokes the partition and hands it to a
standby. The revoke callback clears ownership before librdkafka completes the rebalance, so the
old owner stops before its next page.

The cursor lives in that same partition, keyed per pair, source and stream. On assignment the new
owner reads the partition from the beginning up to a fence it writes itself (a record with a fresh
nonce): everything produced before the fence, in particular the last cursor of the previous owner,
has been read when the fence comes back. That does not depend on the broker's reported end offset
(tansu's ListOffsets is unreliable).
"""
from __future__ import annotations

import logging
import threading
import uuid

from confluent_kafka import OFFSET_BEGINNING, Consumer

from .kafka_clients import consumer_config

log = logging.getLogger(__name__)


class SourceOwnership:
    """`generation()` is None while this replica does not own the source; else a number that
    changes on every new assignment, so work started under an old one can tell it is stale."""

    def __init__(self, app, *, topic: str, group_id: str, keys: list[str]) -> None:
        self.app = app
        self.topic = topic
        self.group_id = group_id
        self.keys = {k.encode(): k for k in keys}
        self.fence_key = f"{keys[0]}#fence".encode()
        self._lock = threading.Lock()
        self._owned = threading.Event()
        self._gen = 0
        self._loading: str | None = None        # the fence nonce while reading up to it
        self._fence_sent = False
        self._latest: dict[str, str | None] = {}
        self.cursors: dict[str, str | None] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"owner:{group_id}", daemon=True)
        conf = consumer_config(app.settings, group_id=group_id)
        conf.pop("statistics.interval.ms", None)
        self._consumer = Consumer(conf)

    # -- what the runner asks ----------------------------------------------------------------
    def start(self) -> None:
        self._consumer.subscribe([self.topic], on_assign=self._on_assign, on_revoke=self._on_revoke,
                                 on_lost=self._on_revoke)
        self._thread.start()

    def generation(self) -> int | None:
        with self._lock:
            return self._gen if self._owned.is_set() else None

    def wait_owned(self, timeout: float) -> int | None:
        self._owned.wait(timeout)
        return self.generation()

    def still(self, gen: int) -> bool:
        return self.generation() == gen

    def close(self) -> None:
        """Leaves the group at once, so a standby takes over without waiting for the session timeout."""
        self._stop.set()
        self._thread.join(10)

    # -- group callbacks (on the consumer thread, inside poll) ------------------------------
    def _on_assign(self, consumer, partitions) -> None:
        mine = [p for p in partitions if p.topic == self.topic and p.partition == 0]
        if not mine:
            return
        for p in partitions:
            p.offset = OFFSET_BEGINNING
        consumer.assign(partitions)
        with self._lock:
            self._gen += 1
            self._loading, self._fence_sent, self._latest = uuid.uuid4().hex, False, {}
        log.info("source assigned; reading its cursor", extra={"group": self.group_id})

    def _on_revoke(self, consumer, partitions) -> None:
        with self._lock:
            if any(p.topic == self.topic and p.partition == 0 for p in partitions):
                self._owned.clear()
                self._loading = None
                log.info("source revoked", extra={"group": self.group_id})

    # -- consumer thread -----------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._send_fence()
                msg = self._consumer.poll(0.2)
                if msg is not None and not msg.error():
                    self._read(msg.key(), msg.value())
        finally:
            self._owned.clear()
            self._consumer.close()

    def _send_fence(self) -> None:
        with self._lock:
            nonce = self._loading if not self._fence_sent else None
        if nonce is None:
            return
        try:
            self.app.produce_raw_sync(self.topic, self.fence_key, nonce.encode(), timeout=10)
        except Exception as e:      # the broker will be asked again on the next turn
            log.warning("could not write the cursor fence", extra={"error": str(e)[:200]})
            return
        with self._lock:
            if self._loading == nonce:
                self._fence_sent = True

    def _read(self, key: bytes | None, value: bytes | None) -> None:
        with self._lock:
            if self._loading is None:
                return
            if key in self.keys:
                self._latest[self.keys[key]] = value.decode() if value else None
            elif key == self.fence_key and value == self._loading.encode():
                self.cursors = dict(self._latest)
                self._loading = None
                self._owned.set()
                log.info("source owned", extra={"group": self.group_id, "cursors": len(self.cursors)})
