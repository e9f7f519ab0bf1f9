"""Which DLQ records a re-drive has already sent back, per partition, kept across runs.

A consumer group's committed offset can only say "everything below N is done". A filtered re-drive
(`--reason`) or the replay limit leaves records behind that later runs must still find, while the
records after them that *were* re-sent must not be sent twice. So the progress of a partition is
the committed-style prefix `next` plus the runs of re-sent offsets beyond it:

    {"next": 1, "done": [[2, 2], [5, 9]]}   # 0 done, 1 waiting, 2 done, 3-4 waiting, 5-9 done

A run starts reading at `next` and skips offsets inside `done`; each re-sent record extends the run
it follows, so `next` moves forward as soon as the waiting records before it are re-sent.

Where it is kept: Kafka's offset-commit metadata string would be the natural place, but tansu (the
dev and test broker) drops it (a committed `metadata` comes back as None), and real Kafka caps it at
`offset.metadata.max.bytes` (4096 by default). So the state is one JSON record per DLQ, keyed by the
DLQ's name, in a small compacted topic; the group's offsets are still committed to `next` afterwards
so the usual lag tools show what is waiting. The state record is written before the group commit,
and a run starts at the larger of the two, so a crash between the two writes repeats nothing.
"""
from __future__ import annotations

import bisect
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

from confluent_kafka import Consumer, KafkaException, Producer

from .topic_reader import read_to_end


@dataclass
class PartitionProgress:
    """`runs` are sorted, disjoint, inclusive [lo, hi] offset ranges of finished records; the first
    is always [-1, next - 1], the prefix a group commit can express."""

    runs: list[list[int]] = field(default_factory=lambda: [[-1, -1]])
    _last: int = -1            # the previous record examined in this run ...
    _last_done: bool = True    # ... and whether it is finished (the prefix counts as finished)

    @classmethod
    def start(cls, next_offset: int, done: list[list[int]] = ()) -> "PartitionProgress":
        runs = [[-1, max(next_offset, 0) - 1]]
        for lo, hi in sorted(done):
            lo = max(lo, runs[-1][1] + 1)
            if hi < lo:
                continue
            if lo == runs[-1][1] + 1:
                runs[-1][1] = hi
            else:
                runs.append([lo, hi])
        return cls(runs=runs, _last=runs[0][1])

    @property
    def next(self) -> int:
        return self.runs[0][1] + 1

    def _run_index(self, offset: int) -> int | None:
        i = bisect.bisect_right(self.runs, [offset, float("inf")]) - 1
        return i if i >= 0 and self.runs[i][0] <= offset <= self.runs[i][1] else None

    def is_done(self, offset: int) -> bool:
        return self._run_index(offset) is not None

    def examined(self, offset: int, done: bool) -> None:
        """Record the fate of the record at `offset`; records must be given in offset order, every
        record of the partition from `next` on (so a gap in offsets is a gap in the log, not a
        skipped record)."""
        if done:
            mine = self._run_index(offset)
            if self._last_done:
                i = self._run_index(self._last)
                hi = self.runs[mine][1] if mine is not None else offset
                self.runs[i][1] = max(self.runs[i][1], hi)
                del self.runs[i + 1:(mine + 1 if mine is not None else i + 1)]
                if mine is None:   # drop runs swallowed by the extension (records since deleted)
                    while i + 1 < len(self.runs) and self.runs[i + 1][0] <= offset:
                        del self.runs[i + 1]
            elif mine is None:
                bisect.insort(self.runs, [offset, offset])
        self._last, self._last_done = offset, done

    def as_dict(self) -> dict:
        return {"next": self.next, "done": [list(r) for r in self.runs[1:]]}


def load(consumer: Consumer, state_topic: str, dlq: str, committed: dict[int, int]) -> dict[int, PartitionProgress]:
    """Each partition's progress: the group's `committed` offsets (-1 for none) merged with the
    last state record for `dlq`; whichever is further ahead wins."""
    saved: dict = {}
    for msg in read_to_end(consumer, state_topic):
        if msg.key() == dlq.encode():
            saved = json.loads(msg.value())["partitions"] if msg.value() else {}
    progress = {}
    for p, offset in committed.items():
        entry = saved.get(str(p), {})
        progress[p] = PartitionProgress.start(max(offset, entry.get("next", 0)), entry.get("done", []))
    return progress


def save(producer: Producer, state_topic: str, dlq: str, progress: dict[int, PartitionProgress]) -> None:
    """Write the state record and wait for the broker's acknowledgement."""
    failures: list[str] = []
    value = json.dumps({"dlq": dlq, "updated_at": datetime.now(timezone.utc).isoformat(),
                        "partitions": {str(p): pp.as_dict() for p, pp in sorted(progress.items())}})
    producer.produce(state_topic, key=dlq.encode(), value=value.encode(),
                     on_delivery=lambda err, _m: failures.append(str(err)) if err else None)
    if producer.flush(30) or failures:
        raise KafkaException(f"re-drive state for {dlq} not acknowledged ({failures[:1]}); offsets not committed")
