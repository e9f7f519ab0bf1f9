"""Change capture's clock and cursor: company-local WHENMODIFIED literals <-> UTC, and what a poll
already emitted.

Intacct compares and returns WHENMODIFIED as `mm/dd/yyyy HH:MM:SS` wall-clock time in the company's
time zone, with one-second resolution and no offset (intacct.md §4 "Reading changes"; the zone
itself is not confirmed by Sage's docs, intacct.md §6, hence `erp.company_time_zone`). Inside, the
hub keeps UTC epoch seconds.

Daylight saving. In the fall-back hour every wall time happens twice (01:30 PDT, then 01:30 PST an
hour later), so neither a literal nor a record's stamp names one instant:
- The query literal: `since_literal(target)` writes a wall time none of whose readings is later
  than `target`. When `target` falls in the first pass of the repeated hour, the literal is moved
  back by the shift (one hour), so whichever way Intacct reads it, nothing at or after `target` is
  left out. Cost: once a year, one poll re-reads up to an extra hour; repeats are dropped by the
  seen set (below) or, past it, emitted again (harmless: transform drops equal positions, the
  store writes are idempotent). A skip would not be.
- A record's stamp: `stamp_to_utc(text, read_at)` takes the latest reading not after the time of
  the read (plus `CLOCK_SKEW_S` for a company clock slightly ahead of ours): during the first pass
  the second reading is still in the future, so it is the first; after it, the later one. Taking
  the earliest reading always would give an edit in the second pass an older position than an
  edit in the first, and transform would drop the newer state as stale.
The spring-forward gap has no such problem: a UTC instant never converts to a wall time that does
not exist, and a stamp in the gap (not produced by a correct clock) reads as the zone's `fold=0`.

The cursor (JSON, saved by the source runner after the page's events are acknowledged):
`{"wm": <epoch s | null>, "read": <epoch s | null>, "seen": {"<epoch s>": {"<RECORDNO>": [digest, n]}}}`.
`wm` is the newest stamp emitted; `read` is when the last complete read began (on our clock).
Each poll reads `WHENMODIFIED >= max(wm, read) - overlap_s`: a record can commit after a
later-stamped one (and one second holds many records), but a record invisible to a read that began
at `read` committed after it, so its stamp is at most `overlap_s` older than that (a transaction
longer than the overlap, or a company clock more than the overlap behind ours, would be missed:
the same bound as Sage 300's capture). Without `read`, a burst of 50,000 changes would be re-read
(50 transactions) on every poll for as long as nothing newer is changed. `seen` holds the
(RECORDNO, stamp) pairs emitted at or after that floor, so a re-read record is dropped unless its
stamp moved; entries below the next poll's floor can never be read again and are pruned.

Two edits of one record within one second share a stamp: the second is not a repeat. Each seen
entry keeps a digest of the fields emitted; a re-read with the same stamp but other fields is the
newer state (it was read later) and is emitted again with `n` + 1, which capture.py appends to the
position (`<stamp>|<RECORDNO>|<n:04d>`) so it sorts after the first and transform keeps it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

LITERAL = "%m/%d/%Y %H:%M:%S"
EPOCH_LITERAL = "01/01/1970 00:00:00"     # the floor of a first poll with no start_at
CLOCK_SKEW_S = 300


def _readings(wall: datetime, zone: ZoneInfo) -> list[int]:
    """Every UTC epoch second a naive wall time can mean in `zone` (two in the fall-back hour)."""
    out = {int(wall.replace(tzinfo=zone, fold=f).astimezone(timezone.utc).timestamp()) for f in (0, 1)}
    # a wall time in the spring-forward gap "exists" under both folds but round-trips to neither
    real = [e for e in out if datetime.fromtimestamp(e, zone).replace(tzinfo=None) == wall]
    return sorted(real or [int(wall.replace(tzinfo=zone, fold=0).astimezone(timezone.utc).timestamp())])


def to_literal(epoch: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(epoch, zone).strftime(LITERAL)


def since_literal(target: int, zone: ZoneInfo) -> str:
    """A `WHENMODIFIED >= '<literal>'` bound that every reading places at or before `target`."""
    epoch = target
    for _ in range(3):                    # at most one step back per repeated hour
        wall = datetime.fromtimestamp(epoch, zone).replace(tzinfo=None)
        latest = max(_readings(wall, zone))
        if latest <= target:
            return wall.strftime(LITERAL)
        epoch -= latest - epoch
    return datetime.fromtimestamp(epoch, zone).strftime(LITERAL)


def floor_of(target: int, zone: ZoneInfo) -> int:
    """The earliest instant `since_literal(target)` can mean: what a poll from `target` can return."""
    wall = datetime.strptime(since_literal(target, zone), LITERAL)
    return min(_readings(wall, zone))


def stamp_to_utc(text: str, zone: ZoneInfo, read_at: float) -> int | None:
    """A WHENMODIFIED value -> UTC epoch seconds (see the module doc on the repeated hour); None
    when it is not a `mm/dd/yyyy HH:MM:SS` value."""
    try:
        wall = datetime.strptime(text.strip(), LITERAL)
    except (ValueError, AttributeError):
        return None
    readings = _readings(wall, zone)
    past = [e for e in readings if e <= read_at + CLOCK_SKEW_S]
    return max(past) if past else readings[0]


def iso_utc(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class CaptureCursor:
    """One stream's cursor (see the module doc)."""

    wm: int | None = None
    seen: dict[int, dict[int, tuple[str, int]]] = field(default_factory=dict)   # stamp -> RECORDNO -> (digest, n)
    read: int | None = None

    @classmethod
    def load(cls, text: str | None, start_at: datetime | None) -> "CaptureCursor":
        if not text:
            return cls(int(start_at.timestamp()) if start_at is not None else None, {})
        doc = json.loads(text)
        seen: dict[int, dict[int, tuple[str, int]]] = {}
        for k, v in (doc.get("seen") or {}).items():
            if isinstance(v, list):             # a cursor written before digests were kept
                seen[int(k)] = {int(r): ("", 0) for r in v}
            else:
                seen[int(k)] = {int(r): (str(d[0]), int(d[1])) for r, d in v.items()}
        return cls(doc.get("wm"), seen, doc.get("read"))

    def dump(self) -> str:
        return json.dumps({"wm": self.wm, "read": self.read,
                           "seen": {str(k): {str(r): list(v[r]) for r in sorted(v)} for k, v in sorted(self.seen.items())}},
                          separators=(",", ":"))

    def copy(self) -> "CaptureCursor":
        return CaptureCursor(self.wm, {k: dict(v) for k, v in self.seen.items()}, self.read)

    def _target(self, overlap_s: int) -> int | None:
        known = [t for t in (self.wm, self.read) if t is not None]
        return max(known) - overlap_s if known else None

    def literal(self, overlap_s: int, zone: ZoneInfo) -> str:
        """The query's lower bound for the next poll."""
        target = self._target(overlap_s)
        return EPOCH_LITERAL if target is None else since_literal(target, zone)

    def emitted(self, recordno: int, stamp: int, digest: str = "") -> bool:
        """Already emitted with this stamp (and these fields, when a digest is given)."""
        held = self.seen.get(stamp, {}).get(recordno)
        return held is not None and (not digest or not held[0] or held[0] == digest)

    def add(self, recordno: int, stamp: int, digest: str = "") -> int:
        """Records the emission; its `n`: 0, or one more than the last emission of that stamp."""
        held = self.seen.setdefault(stamp, {}).get(recordno)
        n = 0 if held is None else held[1] + (held[0] != digest)
        self.seen[stamp][recordno] = (digest, n)
        self.wm = stamp if self.wm is None else max(self.wm, stamp)
        return n

    def prune(self, overlap_s: int, zone: ZoneInfo) -> None:
        """Forget what the next poll cannot read again."""
        target = self._target(overlap_s)
        if target is None:
            return
        floor = floor_of(target, zone)
        self.seen = {k: v for k, v in self.seen.items() if k >= floor}

