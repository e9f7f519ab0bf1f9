"""The generic table capture on a real SQLite database through the SQLite3 ODBC driver: paging
at equal stamps, the overlap re-read, value memory, reconciliation of deletes, an edit while a
scan pages. The row memory is an in-process stand-in here (the Kafka one is covered by
tests/integration/test_erp_cdc.py)."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pyodbc
import pytest

from sagebridge_common.row_memory import DictRowMemory
from sagebridge_common.errors import TransientError
from sagebridge_common.sql_dialect import dialect
from sagebridge_common.table_capture import CapturedTable, TableCapture, local_to_stamp, position, stamp_to_local




TABLE = CapturedTable("STOCK", ("ITEMNO", "LOCATION"), ("ITEMNO", "LOCATION", "AUDTDATE", "AUDTTIME", "QTY"),
                      "ITEMNO")


def convert(col, value):
    if col in ("ITEMNO", "LOCATION"):
        return value.rstrip()
    if col == "QTY":
        return str(Decimal(str(value)).quantize(Decimal("0.0001")))
    return int(Decimal(str(value)))


@pytest.fixture
def db(tmp_path):
    conn = pyodbc.connect(f"DRIVER={{SQLite3}};Database={tmp_path / 'c.db'}", autocommit=True)
    conn.execute('CREATE TABLE "STOCK" ("ITEMNO" CHAR(24), "LOCATION" CHAR(6), "AUDTDATE" DECIMAL(9,0), '
                 '"AUDTTIME" DECIMAL(9,0), "QTY" DECIMAL(19,4), PRIMARY KEY ("ITEMNO", "LOCATION"))')
    conn.execute('CREATE INDEX "STOCK_AUDT" ON "STOCK" ("AUDTDATE", "AUDTTIME")')
    yield conn, str(tmp_path / "c.db")
    conn.close()


def put(conn, item, qty, date=20260102, time_=12000000, loc="WH1"):
    conn.execute('INSERT OR REPLACE INTO "STOCK" VALUES (?, ?, ?, ?, ?)',
                 item.ljust(24), loc.ljust(6), date, time_, Decimal(qty))


class Clock:
    def __init__(self, t=1_000_000.0):
        self.t = t

    def __call__(self):
        return self.t


def capture(path, memory, clock=None, **kw):
    def connect():
        return pyodbc.connect(f"DRIVER={{SQLite3}};Database={path}", autocommit=True)

    def classify(e):
        return TransientError(str(e))

    return TableCapture(kind="test", pair_id="p1", tables=[TABLE], connect=connect, dialect=dialect("sqlite"),
                        memory=memory, convert=convert, classify=classify, now=clock or Clock(), **kw)


def drain(cap, cursor=None, limit=3):
    """One poll: pages until has_more is false, acknowledging each (as the runner does)."""
    seen = []
    while True:
        page = cap.changes("STOCK", cursor, limit)
        seen.extend(page.changes)
        cap.delivered("STOCK", page)
        cursor = page.cursor
        if not page.has_more:
            return seen, cursor


def values(changes):
    return [(c.entity_id, json.loads(c.listing["after"])["QTY"] if c.listing["after"] else None) for c in changes]


def test_rows_sharing_one_stamp_are_paged_by_key_and_a_re_poll_emits_nothing(db):
    conn, path = db
    for i in range(10):
        put(conn, f"A{i:02d}", f"{i}.5")
    cap, mem = None, DictRowMemory()
    cap = capture(path, mem)
    seen, cursor = drain(cap)
    assert values(seen) == [(f"A{i:02d}|WH1", f"{i}.5000") for i in range(10)]
    again, _ = drain(cap, cursor)
    assert again == []


def test_an_overlap_re_read_finds_a_late_commit_with_an_older_stamp(db):
    conn, path = db
    put(conn, "B1", "1", time_=12000500)
    cap = capture(path, DictRowMemory(), overlap_s=2)
    _, cursor = drain(cap)
    put(conn, "B0", "7", time_=12000400)          # committed after the poll, stamped 1 s earlier
    seen, _ = drain(cap, cursor)
    assert values(seen) == [("B0|WH1", "7.0000")]


def test_each_distinct_value_is_emitted_once_and_a_change_while_paging_is_not_lost(db):
    conn, path = db
    for i in range(6):
        put(conn, f"C{i}", "1")
    cap = capture(path, DictRowMemory())
    first = cap.changes("STOCK", None, 3)
    cap.delivered("STOCK", first)
    put(conn, "C0", "2", time_=12000100)           # an already-read row changes mid-scan
    seen, cursor = drain(cap, first.cursor)
    assert ("C0|WH1", "2.0000") in values(seen)
    assert len(values(first.changes) + values(seen)) == 7


def test_memory_is_only_updated_once_the_page_is_delivered(db):
    conn, path = db
    put(conn, "D1", "1")
    mem = DictRowMemory()
    cap = capture(path, mem)
    page = cap.changes("STOCK", None, 10)
    assert mem.data == {}
    again = cap.changes("STOCK", None, 10)           # the first page was never acknowledged
    assert values(again.changes) == [("D1|WH1", "1.0000")]
    cap.delivered("STOCK", page)                     # a stale page: ignored
    assert mem.data == {}
    cap.delivered("STOCK", again)
    assert list(mem.data) == ["p1|STOCK|D1|WH1"]


def test_reconciliation_turns_a_missing_key_into_a_delete_once(db):
    conn, path = db
    put(conn, "E1", "1")
    put(conn, "E2", "1")
    clock = Clock()
    cap = capture(path, DictRowMemory(), clock=clock, reconcile_interval_s=60)
    _, cursor = drain(cap)
    conn.execute('DELETE FROM "STOCK" WHERE "ITEMNO" = ?', "E1".ljust(24))
    seen, cursor = drain(cap, cursor)
    assert seen == []                               # not due yet
    clock.t += 61
    seen, cursor = drain(cap, cursor)
    assert [(c.entity_id, c.listing["op"], c.listing["entity_key"]) for c in seen] == [("E1|WH1", "delete", "E1")]
    clock.t += 61
    seen, _ = drain(cap, cursor)
    assert seen == []


def test_stamps_are_read_in_the_erp_zone_and_positions_sort():
    local = stamp_to_local(20260102, 23595999)
    assert local == datetime(2026, 1, 2, 23, 59, 59, 990000)
    assert local_to_stamp(local) == (20260102, 23595999)
    utc = local.replace(tzinfo=ZoneInfo("America/Chicago")).astimezone(timezone.utc)
    assert utc == datetime(2026, 1, 3, 5, 59, 59, 990000, tzinfo=timezone.utc)
    assert position(20260102, 900, "A") < position(20260102, 10000000, "A")
    assert position(20260102, 12000000, "A1400|WH1") == "2026010212000000|A1400|WH1"


def test_a_broken_database_raises_the_classified_error_and_reconnects(db, tmp_path):
    _conn, path = db
    cap = capture(str(tmp_path / "missing" / "x.db"), DictRowMemory())
    with pytest.raises(TransientError):
        cap.changes("STOCK", None, 10)
    assert cap.ping()[0] is False


def test_a_burst_sharing_the_last_stamp_is_re_read_for_the_overlap_only(db):
    """Steady state is one query per poll that reads only new rows: once the overlap has passed
    since the previous read, a poll continues strictly after the cursor."""
    from prometheus_client import REGISTRY
    conn, path = db
    stamp_at = datetime(2026, 1, 2, 12, 0, 0, tzinfo=timezone.utc).timestamp()
    for i in range(8):
        put(conn, f"F{i}", "1")                      # all at 2026-01-02 12:00:00.00 (UTC)
    clock = Clock(stamp_at + 0.5)
    cap = capture(path, DictRowMemory(), clock=clock, overlap_s=2)

    def rows_read():
        return REGISTRY.get_sample_value("sagebridge_cdc_rows_read_total",
                                         {"pair": "p1", "table": "STOCK", "kind": "range"}) or 0

    _, cursor = drain(cap, limit=100)
    before = rows_read()
    clock.t += 1                                     # within the overlap: the burst is read again
    assert drain(cap, cursor, limit=100)[0] == []
    assert rows_read() - before == 8
    clock.t += 5                                     # past it: only rows after the cursor
    seen, cursor = drain(cap, drain(cap, cursor, limit=100)[1], limit=100)
    before = rows_read()
    put(conn, "G0", "3", time_=12000600)
    seen, _ = drain(cap, cursor, limit=100)
    assert values(seen) == [("G0|WH1", "3.0000")] and rows_read() - before == 1
