"""erp_cdc on the real broker, reading the Sage 300 simulator's SQLite database through the SQLite3
ODBC driver: 1,000 ICILOC updates many sharing one stamp, a SIGKILL mid-scan, a deleted row, two
replicas. Rows are stamped explicitly (a raw UPDATE of AUDTDATE/AUDTTIME), as Sage's views stamp
many rows of one transaction with one hundredth of a second (reference §2.1)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from confluent_kafka import Consumer, TopicPartition

from sagebridge_common import topics
from sagebridge_common.kafka_clients import make_admin
from sagebridge_common.settings import Settings
from sagebridge_common.topics import ERP_RAW
from sagebridge_erp_cdc.config import ErpCdcSettings
from sagebridge_erp_cdc.main import build
from sagebridge_sim.sage300 import Sage300Database
from sagebridge_sim.sage300.db import utc_stamp

from .conftest import RunsInThread, unique, wait_until

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "pairs" / "xcart-sage300.yaml"


class Raw:
    """Every erp.raw.v1 record of one pair, read from the beginning and kept."""

    def __init__(self, bootstrap, serde, pair_id):
        self.serde, self.pair_id = serde, pair_id
        self.c = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("raw"), "fetch.wait.max.ms": 10,
                           "enable.auto.commit": False})
        md = self.c.list_topics(ERP_RAW, timeout=10).topics[ERP_RAW]
        self.c.assign([TopicPartition(ERP_RAW, p, 0) for p in md.partitions])
        self.records: list[tuple[bytes, dict]] = []
        self.lock = threading.Lock()

    def poll(self) -> list[tuple[bytes, dict]]:
        with self.lock:
            for _ in range(200):             # a bounded drain: a busy topic must not hold the caller
                if (msg := self.c.poll(0.05)) is None:
                    break
                if msg.error():
                    continue
                _n, v = self.serde.deserialize(msg.value())
                if v["metadata"]["pair_id"] == self.pair_id:
                    self.records.append((msg.key(), v))
            return list(self.records)

    def values(self, table: str = "ICILOC") -> Counter:
        return Counter((v["key"], v["after"]) for _k, v in self.poll() if v["table"] == table)

    def quantities(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for _k, v in self.poll():
            if v["table"] == "ICILOC" and v["after"]:
                out.setdefault(v["key"], set()).add(json.loads(v["after"])["QTYONHAND"])
        return out

    def close(self):
        self.c.close()


class Sage:
    """The simulator's company database, written the way Sage's views do."""

    def __init__(self, path: Path):
        self.path = path
        self.db = Sage300Database(str(path))
        self.db.create_schema()

    def stock(self, items: list[str], qty, stamp: tuple[int, int] | None = None) -> None:
        """Sets QTYONHAND of `items` at location 1, all with one stamp, one commit per row."""
        date, time_ = stamp or utc_stamp()
        for item in items:
            with self.db.transaction() as cur:
                found = cur.execute('SELECT 1 FROM "ICILOC" WHERE "ITEMNO" = ? AND "LOCATION" = ?',
                                    item.ljust(24), "1".ljust(6)).fetchone()
                if found is None:
                    self.db.insert(cur, "ICILOC", {"ITEMNO": item, "LOCATION": "1", "ACTIVE": 1})
                cur.execute('UPDATE "ICILOC" SET "QTYONHAND" = ?, "AUDTDATE" = ?, "AUDTTIME" = ? '
                            'WHERE "ITEMNO" = ? AND "LOCATION" = ?', Decimal(str(qty)).quantize(Decimal("0.0001")),
                            Decimal(date), Decimal(time_), item.ljust(24), "1".ljust(6))


@pytest.fixture
def rig(bootstrap, serde, tmp_path):
    topics.apply(make_admin(Settings(kafka_bootstrap_servers=bootstrap)), topics.catalogue(4))
    pair_id = unique("cdc")
    sage = Sage(tmp_path / "sage.sqlite")
    opened = []

    def pair_file(**database) -> Path:
        data = yaml.safe_load(SHIPPED.read_text())
        data["pair"] = pair_id
        data["erp"]["database"] = {"connection_string": f"DRIVER={{SQLite3}};Database={sage.path};Timeout=10000",
                                   "dialect": "sqlite", "poll_interval_s": 0.2, "overlap_s": 2, "batch_size": 50,
                                   "tables": ["ICILOC"], **database}
        path = tmp_path / "pair.yaml"
        path.write_text(yaml.safe_dump(data))
        return path

    def env(path: Path) -> dict:
        return {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "PAIRS_PATH": str(path), "OPS_PORT": "0",
                "RETRY_INITIAL_S": "0.05", "RETRY_MAX_S": "0.5", "SHUTDOWN_GRACE_S": "2"}

    def service(path: Path) -> "Cdc":
        s = Cdc(ErpCdcSettings(**{k.lower(): v for k, v in env(path).items()}), pair_id)
        opened.append(s)
        return s

    def process(path: Path) -> subprocess.Popen:
        script = Path(sys.executable).with_name("sagebridge-erp-cdc")
        p = subprocess.Popen([str(script)], env={**os.environ, **env(path)}, stdout=subprocess.DEVNULL,
                             stderr=open(tmp_path / f"cdc-{len(opened)}.log", "w"))
        opened.append(p)
        return p

    raw = Raw(bootstrap, serde, pair_id)
    yield sage, pair_file, service, process, raw
    raw.close()
    for s in opened:
        if isinstance(s, subprocess.Popen):
            if s.poll() is None:
                s.kill()
            s.wait(10)
        else:
            s.__exit__()
    sage.db.close()


class Cdc(RunsInThread):
    def __init__(self, settings, pair_id):
        self.app = build(settings)
        self.runner = self.app.cdc_runners[pair_id]
        self._running = False

    def __enter__(self):
        self._running = True
        return super().__enter__()

    def __exit__(self, *exc):
        if self._running:
            self._running = False
            super().__exit__(*exc)

    def owns(self) -> bool:
        return self.runner.ownership.generation() is not None


def test_1000_updates_sharing_stamps_arrive_once_per_distinct_value(rig):
    sage, pair_file, service, _process, raw = rig
    items = [f"Q{i:03d}" for i in range(200)]
    with service(pair_file()):
        writes: list[tuple[str, str]] = []
        for round_ in range(5):                  # 5 x 200 = 1,000 updates, 200 per stamp
            qty = f"{round_ + 1}0.0000"
            sage.stock(items, qty)
            writes += [(i, qty) for i in items]
        final = {f"{i}|1": "50.0000" for i in items}
        wait_until(lambda: all(final[k] in raw.quantities().get(k, ()) for k in final), timeout=90)
        raw.poll()
        counts = raw.values()
    assert max(counts.values()) == 1, [kv for kv, n in counts.items() if n > 1][:5]
    got = raw.quantities()
    assert {k: "50.0000" in v for k, v in got.items()} == {k: True for k in final}
    assert all(k.split("|")[0] == key.decode() for key, v in raw.records for k in [v["key"]])


def test_sigkill_mid_scan_then_restart_misses_nothing(rig):
    sage, pair_file, _service, process, raw = rig
    items = [f"K{i:04d}" for i in range(300)]
    sage.stock(items, "7", stamp=utc_stamp())       # one stamp: the scan pages by key alone
    path = pair_file(batch_size=4)                  # 75 pages, three acknowledgements each
    first = process(path)
    wait_until(lambda: len(raw.quantities()) >= 50, timeout=60, interval=0.01)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    seen_at_kill = len(raw.quantities())
    assert seen_at_kill < len(items)                 # killed mid-scan
    sage.stock(items[:10], "8")                      # changes while it was down
    process(path)
    wait_until(lambda: len(raw.quantities()) == len(items)
               and all("8.0000" in raw.quantities()[f"{i}|1"] for i in items[:10]), timeout=120)
    assert all("7.0000" in raw.quantities()[f"{i}|1"] for i in items)


def test_a_deleted_row_becomes_a_delete_event(rig):
    sage, pair_file, service, _process, raw = rig
    sage.stock(["D100", "D200"], "3")
    with service(pair_file(reconcile_interval_s=0.5)):
        wait_until(lambda: {"D100|1", "D200|1"} <= set(raw.quantities()), timeout=60)
        with sage.db.transaction() as cur:
            cur.execute('DELETE FROM "ICILOC" WHERE "ITEMNO" = ?', "D100".ljust(24))
        wait_until(lambda: any(v["op"] == "delete" for _k, v in raw.poll()), timeout=60)
        sage.stock(["D100"], "4")                    # re-inserted after the delete
        wait_until(lambda: "4.0000" in raw.quantities().get("D100|1", ()), timeout=60)
    records = raw.poll()
    deletes = [(k, v) for k, v in records if v["op"] == "delete"]
    assert len(deletes) == 1
    key, event = deletes[0]
    assert key == b"D100" and event["key"] == "D100|1" and event["after"] is None and event["before"] is None
    assert event["erp"] == "sage300" and event["table"] == "ICILOC"
    assert event["metadata"]["event_type"] == "erp.row.delete" and event["metadata"]["source_instance"] == "SAMINC"
    assert event["metadata"]["source_entity_id"] == "D100"
    order = [(v["op"], v["key"]) for _k, v in records if v["key"] == "D100|1"]
    assert order[-2:] == [("delete", "D100|1"), ("upsert", "D100|1")]
    upsert = next(v for k, v in records if v["op"] == "upsert" and v["key"] == "D200|1")
    assert upsert["metadata"]["event_type"] == "erp.row.upsert"
    assert upsert["position"].endswith("|D200|1") and len(upsert["position"].split("|")[0]) == 16


def test_two_replicas_one_owner_and_the_standby_takes_over(rig):
    sage, pair_file, service, _process, raw = rig
    path = pair_file()
    a, b = service(path), service(path)
    with a, b:
        wait_until(lambda: a.owns() or b.owns(), timeout=60)
        sage.stock(["R1"], "1")
        wait_until(lambda: "R1|1" in raw.quantities(), timeout=60)
        assert [a.owns(), b.owns()].count(True) == 1
        owner, standby = (a, b) if a.owns() else (b, a)
        owner.__exit__()
        wait_until(standby.owns, timeout=60)
        sage.stock(["R2"], "2")
        wait_until(lambda: "R2|1" in raw.quantities(), timeout=60)
    assert raw.values()[("R1|1", next(v["after"] for _k, v in raw.poll() if v["key"] == "R1|1"))] == 1


def _capture(path: Path, memory):
    """The pair's capture as erp_cdc builds it, driven by the test instead of a source runner."""
    from sagebridge_common.pairs import load_pair_file
    from sagebridge_connectors.sage300.cdc import build_capture
    return build_capture(load_pair_file(path), memory)


def test_an_edit_while_paging_is_not_lost_and_a_new_memory_knows_what_was_sent(rig, bootstrap):
    """The capture driven page by page on the real row memory (ERP_CDC_ROWS): a row changed after
    its page was read arrives later in the same scan; a second memory read from the topic (a
    restart, another replica) makes an overlap re-read emit nothing."""
    from sagebridge_common.row_memory import RowMemory
    from sagebridge_common.topics import ERP_CDC_ROWS
    sage, pair_file, _service, _process, _raw = rig
    items = [f"E{i:02d}" for i in range(12)]
    sage.stock(items, "1", stamp=utc_stamp())
    path = pair_file(batch_size=5)
    from sagebridge_common.app import Application
    app = Application(ErpCdcSettings(kafka_bootstrap_servers=bootstrap, ops_port=0), configure_logging=False)
    memory = RowMemory(app, ERP_CDC_ROWS).start()
    try:
        assert memory.wait_ready(30)
        cap = _capture(path, memory)
        seen, cursor = [], None
        page = cap.changes("ICILOC", cursor, 5)
        cap.delivered("ICILOC", page)
        seen += page.changes
        sage.stock(["E00"], "2")                        # already read: changes mid-scan
        while page.has_more:
            page = cap.changes("ICILOC", page.cursor, 5)
            cap.delivered("ICILOC", page)
            seen += page.changes
        got = [(c.entity_id, json.loads(c.listing["after"])["QTYONHAND"]) for c in seen]
        assert sorted(got) == sorted([(f"{i}|1", "1.0000") for i in items] + [("E00|1", "2.0000")])
        again = RowMemory(app, ERP_CDC_ROWS).start()
        try:
            assert again.wait_ready(30)
            fresh = _capture(path, again)
            wait_until(lambda: again.hash_of(RowMemory.key(fresh.pair_id, "ICILOC", "E00|1")) is not None, 30)
            page = fresh.changes("ICILOC", page.cursor, 50)     # a new poll: re-reads the overlap
            assert page.changes == [] and not page.has_more
        finally:
            again.stop()
    finally:
        memory.stop()
        app.close()
