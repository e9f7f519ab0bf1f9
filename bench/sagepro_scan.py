"""Sage Pro change capture: the snapshot-diff scan of 100,000 `iciloc` rows (PostgreSQL 15 through
psqlODBC, a throwaway cluster), with the shipped pair's capture (`build_capture` over the shipped
`pairs/xcart-sagepro.yaml`) run in-process.

Sage Pro rows carry no audit stamps (reference sage300_sagepro.md §3), so a change is found only by
reading every row and comparing its hash with what was sent last. What that costs:

  A. unbounded (`rows_per_s` 1e9, the bound lifted to see the raw cost), `batch_size` 1000, iciloc only:
     scan 1 (empty row memory: every row is an event), then 100 stock changes (the simulator's
     driver, one transaction) and scan 2 (only they are events: rows read per change found), scan 3
     (nothing changed: the steady-state cost of a scan), and scans 4 and 5 through `delay_proxy` (10 ms
     each way: a database 20 ms away), with the shipped connection string and with psqlODBC's
     `UseServerSidePrepare=0` (round trips per page: 4 against 1). Seconds per scan (pages; a scan read
     whole by one capture finds deletes from the keys it read, with no key listing),
     rows read per second, pages and queries.
  B. the shipped defaults (`poll_interval_s` 30, `rows_per_s` 2000, `batch_size` 1000), the source runner's loop emulated here (every stream paged until `has_more` is false,
     then the interval): `--changes` stock changes committed at random moments over one estimated
     cycle; latency = commit -> the capture returning the change. Bound: one cycle, interval + scan
     time in steady state (a row is read once per cycle): a scan of N rows at R rows/s takes N/R, so
     cycle = N/R + interval (80 s for 100,000 rows at the defaults). Phase B
     captures iciloc only unless `--all-tables` (each captured table's scan adds to the cycle).

Row memory: an in-process dict with RowMemory's interface (the Kafka-backed one adds one record per
changed row on commit, not measured here). `--quick`: 10,000 rows, interval 5 s.

    .venv/bin/python bench/sagepro_scan.py [--rows 100000] [--changes 10] [--quick]
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from common import REPO, foreign_load, leftover_processes, summarize, table, write_json
from delay_proxy import DelayProxy
from sagebridge_common.pairs import load_pairs
from sagebridge_connectors.sagepro.capture import build_capture
from sagebridge_sim.sagepro.db import SageProDb
from sagebridge_sim.sagepro.demo import ensure_schema
from sagebridge_sim.sagepro.driver import SageProDriver
from sagebridge_sim.sagepro.pg_cluster import PostgresCluster

NAME = "sagepro_scan"
PAIR_ID = "xcart-sagepro"
STREAM = "ICILOC"
NO_PREPARE = "UseServerSidePrepare=0"     # psqlODBC: no Parse/DEALLOCATE exchanges per statement


class DictMemory:
    """RowMemory's interface over a dict (hash_of, commit, keys_with_prefix, ready)."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    def hash_of(self, key: str) -> str | None:
        return self.data.get(key)

    def commit(self, puts: dict[str, str], deletes: list[str]) -> None:
        self.data.update(puts)
        for k in deletes:
            self.data.pop(k, None)

    def keys_with_prefix(self, prefix: str) -> set[str]:
        return {k for k in self.data if k.startswith(prefix)}

    def ready(self) -> tuple[bool, str]:
        return True, "in memory"


def item_no(n: int) -> str:
    return f"BENCH-{n:06d}"


def seed(db: SageProDb, rows: int) -> float:
    """icitem and iciloc rows BENCH-000001.. at MAIN, by generate_series (seconds taken)."""
    t0 = time.monotonic()
    with db.transaction() as cur:
        cur.execute(f"INSERT INTO {db.name('item')} (item, descrip, itmclss, price, itstat, weight) "
                    f"SELECT 'BENCH-' || lpad(g::text, 6, '0'), 'Bench item ' || g, 'BENCH', 1.0000, 'A', 0 "
                    f"FROM generate_series(1, ?) g", rows)
        cur.execute(f"INSERT INTO {db.name('item_location')} (item, loctid, lonhand, lalloc) "
                    f"SELECT 'BENCH-' || lpad(g::text, 6, '0'), 'MAIN', 100, 0 FROM generate_series(1, ?) g", rows)
        cur.execute(f"ANALYZE {db.name('item_location')}")
    return time.monotonic() - t0


def capture_for(odbc: str, memory: DictMemory, *, rows_per_s: float, interval_s: float, tables: tuple[str, ...]):
    os.environ.update({"SAGEPRO_CONNECTION": odbc, "SAGEPRO_DIALECT": "postgres", "SAGEPRO_COMPANY": "01"})
    pair = load_pairs(str(REPO / "pairs" / "xcart-sagepro.yaml"), PAIR_ID)[PAIR_ID]
    cc = pair.erp.change_capture.model_copy(update={"rows_per_s": rows_per_s, "poll_interval_s": interval_s,
                                                    "tables": tables})
    pair = pair.model_copy(update={"erp": pair.erp.model_copy(update={"change_capture": cc})})
    return build_capture(pair, memory), cc


def full_scan(capture, stream: str, batch: int) -> dict[str, Any]:
    """One whole scan of a stream as the runner pages it (cursor kept here)."""
    cursor, pages, changes, t0 = None, 0, 0, time.monotonic()
    page_rows = key_rows = 0
    while True:
        before = _rows_read(capture)
        page = capture.changes(stream, cursor, batch)
        read = _rows_read(capture) - before
        if cursor and '"mode": "keys"' in cursor:
            key_rows += read
        else:
            page_rows += read
        capture.delivered(stream, page)
        pages += 1
        changes += len(page.changes)
        cursor = page.cursor
        if not page.has_more:
            break
    s = time.monotonic() - t0
    rows = page_rows + key_rows
    return {"seconds": s, "queries": pages, "rows_read": rows, "page_rows": page_rows, "key_rows": key_rows,
            "rows_per_s": rows / s if s else None, "changes": changes}


def _rows_read(capture) -> float:
    from sagebridge_common.table_capture import CDC_ROWS_READ
    return sum(s.value for m in CDC_ROWS_READ.collect() for s in m.samples
               if s.name.endswith("_total") and s.labels.get("pair") == capture.pair_id)


def phase_a(pg: PostgresCluster, odbc: str, rows: int, changes: int, driver: SageProDriver) -> tuple[list, DictMemory]:
    memory = DictMemory()
    capture, cc = capture_for(odbc, memory, rows_per_s=1e9, interval_s=30, tables=("item_location",))
    runs = []
    try:
        runs.append({"scan": "1: empty memory (every row an event)", **full_scan(capture, STREAM, cc.batch_size)})
        picked = random.sample(range(1, rows + 1), changes)
        driver.bulk_stock([(item_no(n), Decimal(500 + i)) for i, n in enumerate(picked)])
        r = full_scan(capture, STREAM, cc.batch_size)
        r["rows_read_per_change"] = r["rows_read"] / r["changes"] if r["changes"] else None
        r["page_rows_per_change"] = r["page_rows"] / r["changes"] if r["changes"] else None
        r["changes_expected"] = changes
        runs.append({"scan": f"2: after {changes} stock changes", **r})
        runs.append({"scan": "3: nothing changed", **full_scan(capture, STREAM, cc.batch_size)})
    finally:
        capture.close()
    with DelayProxy("127.0.0.1", pg.port, 0.010) as proxy:
        slow_odbc = odbc.replace(f"PORT={pg.port}", f"PORT={proxy.port}")
        for label, target in (("", slow_odbc), (f", {NO_PREPARE}", f"{slow_odbc};{NO_PREPARE}")):
            slow, cc = capture_for(target, memory, rows_per_s=1e9, interval_s=30, tables=("item_location",))
            try:
                before = proxy.stats()["client_bursts"]
                r = full_scan(slow, STREAM, cc.batch_size)
                r["proxy_round_trips"] = proxy.stats()["client_bursts"] - before
                runs.append({"scan": f"{len(runs) + 1}: nothing changed, 20 ms round trip{label}", **r})
            finally:
                slow.close()
    return runs, memory


class RunnerLoop(threading.Thread):
    """source_runner.SourceRunner's cycle without Kafka: every stream paged to the end, then the interval."""

    def __init__(self, capture, streams: list[str], batch: int, interval_s: float) -> None:
        super().__init__(name="scan-loop", daemon=True)
        self.capture, self.streams, self.batch, self.interval = capture, streams, batch, interval_s
        self.cursors: dict[str, str | None] = {s: None for s in streams}
        self.seen: dict[str, float] = {}             # ICILOC key -> when the capture returned it
        self.scans: list[tuple[float, float]] = []   # ICILOC scans (start, end)
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.is_set():
            for stream in self.streams:
                started = time.time()
                while not self.stop_event.is_set():
                    page = self.capture.changes(stream, self.cursors[stream], self.batch)
                    now = time.time()
                    if stream == STREAM:
                        for c in page.changes:
                            self.seen.setdefault(c.entity_id, now)
                    self.capture.delivered(stream, page)
                    self.cursors[stream] = page.cursor
                    if not page.has_more:
                        break
                if stream == STREAM:
                    self.scans.append((started, time.time()))
            self.stop_event.wait(self.interval)


def phase_b(odbc: str, memory: DictMemory, rows: int, n_changes: int, interval_s: float,
            driver: SageProDriver, all_tables: bool = False) -> dict[str, Any]:
    capture, cc = capture_for(odbc, memory, rows_per_s=2000, interval_s=interval_s,
                              tables=tuple(load_defaults_tables()) if all_tables else ("item_location",))
    # the pages only: a scan read whole here needs no key listing
    expected_scan = rows / cc.rows_per_s
    cycle = cc.poll_interval_s + expected_scan
    loop = RunnerLoop(capture, capture.streams(), cc.batch_size, cc.poll_interval_s)
    committed: dict[str, float] = {}
    t0 = time.time()
    loop.start()
    try:
        offsets = sorted(random.uniform(0, cycle) for _ in range(n_changes))
        for i, (off, n) in enumerate(zip(offsets, random.sample(range(1, rows + 1), n_changes))):
            time.sleep(max(0.0, t0 + off - time.time()))
            key = f"{item_no(n)}|MAIN"
            driver.set_stock(item_no(n), Decimal(9000 + i))
            committed[key] = time.time()
        deadline = time.time() + 2 * cycle + 60
        while time.time() < deadline and not all(k in loop.seen for k in committed):
            time.sleep(0.2)
    finally:
        loop.stop_event.set()
        capture.close()
        loop.join(timeout=expected_scan + 30)
    lat = [loop.seen[k] - committed[k] for k in committed if k in loop.seen]
    scans = [e - s for s, e in loop.scans]
    cycles = [b[0] - a[0] for a, b in zip(loop.scans, loop.scans[1:])]     # a row is read once per cycle
    steady = rows / cc.rows_per_s + cc.poll_interval_s
    print(f"iciloc scans (start, seconds): {[(round(s - t0, 1), round(e - s, 1)) for s, e in loop.scans]}",
          file=sys.stderr)
    return {"rows": rows, "poll_interval_s": cc.poll_interval_s, "rows_per_s": cc.rows_per_s,
            "batch_size": cc.batch_size, "tables": list(capture.streams()), "changes": n_changes,
            "seen": len(lat), "missing": n_changes - len(lat), "latency_s": summarize(lat, (50, 90)),
            "iciloc_scan_s": summarize(scans, (50,)), "expected_scan_s": expected_scan,
            "cycle_s": summarize(cycles, (50,)),
            "steady_cycle_s": steady,
            "interval_plus_longest_scan_s": cc.poll_interval_s + (max(scans) if scans else expected_scan),
            "bound_s": max(steady, cc.poll_interval_s + (max(scans) if scans else expected_scan))}


def load_defaults_tables() -> tuple[str, ...]:
    os.environ.setdefault("SAGEPRO_CONNECTION", "")
    pair = load_pairs(str(REPO / "pairs" / "xcart-sagepro.yaml"), PAIR_ID)[PAIR_ID]
    return pair.erp.change_capture.tables


def run(args) -> dict[str, Any]:
    with PostgresCluster() as pg:
        marker = str(pg.dir)
        odbc = pg.odbc()
        db = SageProDb(odbc)
        ensure_schema(db)
        seeded = seed(db, args.rows)
        driver = SageProDriver(db)
        print(f"{args.rows:,} iciloc rows seeded in {seeded:.1f}s", file=sys.stderr)
        scans, memory = phase_a(pg, odbc, args.rows, args.scan_changes, driver)
        for r in scans:
            print(f"scan {r['scan']}: {r['seconds']:.2f}s, {r['rows_read']:,} rows, {r['changes']:,} changes",
                  file=sys.stderr)
        latency = phase_b(odbc, memory, args.rows, args.changes, args.interval, driver,
                           args.all_tables) if args.changes else None
    return {"rows": args.rows, "seed_s": seeded, "scans": scans, "latency": latency,
            "leftover_processes": leftover_processes(marker)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--scan-changes", type=int, default=100, help="changes between scans 1 and 2 (phase A)")
    ap.add_argument("--changes", type=int, default=10, help="changes timed at the defaults (phase B; 0 skips)")
    ap.add_argument("--interval", type=float, default=30.0, help="phase B scan interval (shipped default 30)")
    ap.add_argument("--all-tables", action="store_true", help="phase B captures all five tables (each "
                    "table's scan adds to the cycle); default iciloc only")
    ap.add_argument("--quick", action="store_true", help="10,000 rows, interval 5 s, 5 changes")
    args = ap.parse_args()
    if args.quick:
        args.rows, args.interval, args.changes = 10_000, 5.0, 5
    load = foreign_load()
    doc = run(args)
    rows = [[r["scan"], r["seconds"], r["rows_read"], r["rows_per_s"], r["queries"], r.get("proxy_round_trips"),
             r["changes"], r.get("rows_read_per_change")] for r in doc["scans"]]
    print(table(f"Sage Pro snapshot scan of {args.rows:,} iciloc rows (PostgreSQL via psqlODBC, unbounded)",
                ["scan", "seconds", "rows read", "rows/s", "queries", "round trips", "changes",
                 "rows read/change"], rows, 2))
    lat = doc["latency"]
    ok = not doc["leftover_processes"]
    if lat:
        s = lat["latency_s"]
        print(table(f"Event latency at the defaults (interval {lat['poll_interval_s']:g}s, {lat['rows_per_s']:g} rows/s)",
                    ["changes", "seen", "p50 s", "p90 s", "max s", "iciloc scan s (max)", "bound s (steady cycle)"],
                    [[lat["changes"], lat["seen"], s["p50"], s["p90"], s["max"], lat["iciloc_scan_s"]["max"],
                      lat["bound_s"]]], 1))
        print(f"steady-state cycle N/R + interval = {lat['steady_cycle_s']:.0f} s")
        ok = ok and lat["missing"] == 0
    second = doc["scans"][1]
    ok = ok and second["changes"] == second["changes_expected"]
    path = write_json(NAME, {**doc, "foreign_load": load, "ok": ok})
    print(f"\nresults: {path}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
