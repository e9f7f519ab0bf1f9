"""Shared helpers for the Sagebridge benchmarks: percentile maths, table/JSON output, simulator
admin calls, topic reading and a Stack that is always torn down.

Every benchmark prints a table to stdout and writes `bench/results/<name>.json`.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import httpx

from sagebridge_devstack.processes import wait_until  # noqa: F401  (re-exported for the benchmarks)

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
REPO = BENCH_DIR.parent


# ---- percentile maths ----------------------------------------------------------------------------
def percentile(values: Sequence[float], p: float) -> float | None:
    """Linear-interpolated percentile (same as numpy's default 'linear'); p in [0, 100]."""
    if not values:
        return None
    xs = sorted(values)
    if len(xs) == 1:
        return float(xs[0])
    rank = (p / 100.0) * (len(xs) - 1)
    lo, hi = math.floor(rank), math.ceil(rank)
    if lo == hi:
        return float(xs[lo])
    return xs[lo] + (xs[hi] - xs[lo]) * (rank - lo)


def summarize(values: Sequence[float], percentiles: Iterable[float] = (50, 90, 99)) -> dict[str, Any]:
    """count, min, mean, the requested percentiles (as p50, p90, ...) and max."""
    out: dict[str, Any] = {"count": len(values)}
    if not values:
        return out | {"min": None, "mean": None, "max": None} | {f"p{_pname(p)}": None for p in percentiles}
    out["min"] = float(min(values))
    out["mean"] = sum(values) / len(values)
    for p in percentiles:
        out[f"p{_pname(p)}"] = percentile(values, p)
    out["max"] = float(max(values))
    return out


def _pname(p: float) -> str:
    return str(int(p)) if float(p).is_integer() else str(p).replace(".", "_")


# ---- output ---------------------------------------------------------------------------------------
def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]], digits: int = 1) -> str:
    """A plain-text table; numbers right-aligned."""
    cells = [[fmt(c, digits) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    numeric = [all(isinstance(row[i], (int, float)) or row[i] is None for row in rows) if rows else False
               for i in range(len(headers))]

    def line(vals: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if numeric[i] else v.ljust(w) for i, (v, w) in enumerate(zip(vals, widths)))

    out = [title, "=" * max(len(title), sum(widths) + 2 * (len(widths) - 1)), line(headers),
           "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    return "\n".join(out)


def environment() -> dict[str, Any]:
    return {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count(),
            "hostname": platform.node()}


def write_json(name: str, data: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    doc = {"benchmark": name, "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "environment": environment(), **data}
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    return path


# ---- the stack --------------------------------------------------------------------------------------
@contextlib.contextmanager
def temp_work_dir(prefix: str) -> Iterator[Path]:
    """A fresh directory per Stack (logs, Sage sqlite). Kept if SAGEBRIDGE_BENCH_KEEP=1."""
    path = Path(tempfile.mkdtemp(prefix=f"sagebridge-bench-{prefix}-"))
    try:
        yield path
    finally:
        if os.environ.get("SAGEBRIDGE_BENCH_KEEP") != "1":
            subprocess.run(["rm", "-rf", str(path)], check=False)
        else:
            print(f"(work dir kept: {path})", file=sys.stderr)


def leftover_processes(marker: str) -> list[str]:
    """Command lines of processes whose argv mentions `marker` (e.g. a work dir or a port)."""
    res = subprocess.run(["pgrep", "-af", marker], capture_output=True, text=True)
    me = str(os.getpid())
    return [l for l in res.stdout.splitlines() if l and not l.startswith(me + " ") and "pgrep" not in l]


class Sims:
    """Admin-API helpers for the simulators (as in tests/integration/conftest.py)."""

    ORDER = {"email": "bench@example.com", "first_name": "Ben", "last_name": "Chmark", "payment_code": "P",
             "shipping_method": "UPS Ground",
             "items": [{"sku": "WIDGET-1", "name": "Widget", "price": "12.50", "amount": 2}]}

    def __init__(self, stack) -> None:
        self.stack = stack
        self.http = httpx.Client(timeout=30)

    def close(self) -> None:
        self.http.close()

    def order(self, **spec) -> dict:
        r = self.http.post(f"{self.stack.xcart_url}/_sim/orders", json=self.ORDER | spec)
        r.raise_for_status()
        return r.json()

    def sage_orders(self) -> list[dict]:
        r = self.http.get(f"{self.stack.sage_url}/_sim/orders", timeout=60)
        r.raise_for_status()
        return r.json()

    def sage_stats(self) -> dict:
        return self.http.get(f"{self.stack.sage_url}/_sim/stats").json()

    def sage_faults(self, **plan) -> dict:
        r = self.http.post(f"{self.stack.sage_url}/_sim/faults", json=plan)
        r.raise_for_status()
        return r.json()

    def sage_reset(self) -> dict:
        r = self.http.post(f"{self.stack.sage_url}/_sim/reset")
        r.raise_for_status()
        return r.json()

    def xcart_stats(self) -> dict:
        return self.http.get(f"{self.stack.xcart_url}/_sim/stats").json()


def metric_value(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of `name` whose labels include `labels`, from a Prometheus text page."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        if "{" in head:
            metric, _, rest = head.partition("{")
            got = dict(p.split("=", 1) for p in rest.rstrip("}").split(",") if "=" in p)
            got = {k: v.strip('"') for k, v in got.items()}
        else:
            metric, got = head, {}
        if metric != name or any(got.get(k) != v for k, v in labels.items()):
            continue
        total += float(value)
    return total


def read_topic(bootstrap: str, topic: str, *, idle: float = 2.0, timeout: float = 90.0) -> list:
    """Every record of `topic` from the beginning, until `idle` seconds pass without one.
    (tansu's ListOffsets is unreliable, so no end offset is trusted.)"""
    from confluent_kafka import Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-reader-{uuid.uuid4().hex[:8]}",
                  "enable.auto.commit": False, "fetch.wait.max.ms": 10})
    try:
        md = c.list_topics(topic, timeout=10).topics[topic]
        c.assign([TopicPartition(topic, p, 0) for p in md.partitions])
        out, last = [], time.monotonic()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batch = c.consume(num_messages=1000, timeout=0.2)
            got = [m for m in batch if m.error() is None]
            if got:
                out.extend(got)
                last = time.monotonic()
            elif time.monotonic() - last > idle:
                break
        return out
    finally:
        c.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (from /proc)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def topic_record_count(bootstrap: str, topic: str, *, idle: float = 2.0) -> int:
    """Records in a topic that started empty: the sum of each partition's end offset.

    Reading a big topic back is no way to count it on tansu: with tens of thousands of one-record
    batches in a partition (each webhook is acknowledged alone), its memory engine serves fetches
    from the start slower and slower (60k records: 11k read in 200 s). Its ListOffsets answer is the
    base offset of the last batch + 1, so reading from there to the real end gives the exact count."""
    from confluent_kafka import Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-counter-{uuid.uuid4().hex[:8]}",
                  "enable.auto.commit": False, "fetch.wait.max.ms": 10})
    try:
        md = c.list_topics(topic, timeout=10).topics[topic]
        ends: dict[int, int] = {}
        starts = []
        for p in md.partitions:
            _lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10, cached=False)
            ends[p] = hi
            starts.append(TopicPartition(topic, p, max(0, hi - 1)))
        c.assign(starts)
        last = time.monotonic()
        while time.monotonic() - last < idle:
            m = c.poll(0.2)
            if m is not None and m.error() is None:
                ends[m.partition()] = max(ends[m.partition()], m.offset() + 1)
                last = time.monotonic()
        return sum(ends.values())
    finally:
        c.close()


def foreign_load() -> dict[str, Any]:
    """What else is running before a benchmark starts: the 1-minute load average and any other
    Sagebridge/pytest processes (a concurrent test run skews every figure on 2 cores)."""
    others = leftover_processes("sagebridge") + leftover_processes("pytest")
    load1 = os.getloadavg()[0]
    warning = ""
    if others:
        warning = f"{len(others)} other sagebridge/pytest processes"
    if warning:
        print(f"WARNING: {warning} before the benchmark; figures will be skewed", file=sys.stderr)
    return {"loadavg_1m": load1, "other_processes": others, "warning": warning}
