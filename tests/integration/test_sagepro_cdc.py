"""erp_cdc on the real broker capturing Sage Pro by snapshot diff, the company's tables in
PostgreSQL 15 through psqlODBC: 1,000 stock changes between two scans and a deleted item arrive as
every final value exactly once and the delete as an event; erp_cdc SIGKILLed mid-scan and started
again misses nothing. Rows are written with plain SQL, as Sage Pro's own screens write its tables
(reference sage300_sagepro.md §3: no stamps, no change log)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import pyodbc
import pytest
import yaml

from sagebridge_common import topics
from sagebridge_common.kafka_clients import make_admin
from sagebridge_common.settings import Settings
from sagebridge_erp_cdc.config import ErpCdcSettings
from sagebridge_sim.sagepro.pg_cluster import PostgresCluster
from sagebridge_sim.sagepro.schema import create_schema

from .conftest import unique, wait_until
from .test_erp_cdc import Cdc, Raw

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "pairs" / "xcart-sagepro.yaml"


@pytest.fixture(scope="module")
def cluster():
    with PostgresCluster() as pg:
        yield pg


class Company:
    """The Sage Pro company database, written as Sage Pro's screens write it (one commit per call)."""

    def __init__(self, odbc: str) -> None:
        self.odbc = odbc
        self.conn = pyodbc.connect(odbc, autocommit=False)
        create_schema(self.conn, engine="postgres")

    def stock(self, quantities: dict[str, str]) -> None:
        """Sets lonhand of each item at MAIN (inserted when missing), all in one transaction."""
        cur = self.conn.cursor()
        for item, qty in quantities.items():
            cur.execute("UPDATE iciloc01 SET lonhand = ? WHERE item = ? AND loctid = 'MAIN'", Decimal(qty), item)
            if cur.rowcount == 0:
                cur.execute("INSERT INTO iciloc01 (item, loctid, lonhand, lalloc) VALUES (?, 'MAIN', ?, 0)",
                            item, Decimal(qty))
        self.conn.commit()

    def delete_item(self, item: str) -> None:
        cur = self.conn.cursor()
        cur.execute("DELETE FROM iciloc01 WHERE item = ?", item)
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def rig(bootstrap, serde, cluster, tmp_path):
    topics.apply(make_admin(Settings(kafka_bootstrap_servers=bootstrap)), topics.catalogue(4))
    pair_id = unique("spcdc")
    company = Company(cluster.create_database(f"c{uuid.uuid4().hex[:12]}"))
    opened = []

    def pair_file(**capture) -> Path:
        data = yaml.safe_load(SHIPPED.read_text())
        data["pair"] = pair_id
        data["erp"].update({"connection_string": company.odbc, "dialect": "postgres"})
        data["erp"]["change_capture"] = {"source": "odbc", "poll_interval_s": 0.2, "batch_size": 100,
                                         "rows_per_s": 100000, "tables": ["item_location"], **capture}
        path = tmp_path / "pair.yaml"
        path.write_text(yaml.safe_dump(data))
        return path

    def env(path: Path) -> dict:
        return {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "PAIRS_PATH": str(path), "OPS_PORT": "0",
                "RETRY_INITIAL_S": "0.05", "RETRY_MAX_S": "0.5", "SHUTDOWN_GRACE_S": "2"}

    def service(path: Path) -> Cdc:
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
    yield company, pair_file, service, process, raw
    raw.close()
    for s in opened:
        if isinstance(s, subprocess.Popen):
            if s.poll() is None:
                s.kill()
            s.wait(10)
        else:
            s.__exit__()
    company.close()


def on_hand(raw: Raw) -> dict[str, list[str]]:
    """Every on_hand value emitted per ICILOC key, in arrival order."""
    out: dict[str, list[str]] = {}
    for _k, v in raw.poll():
        if v["table"] == "ICILOC" and v["after"]:
            out.setdefault(v["key"], []).append(json.loads(v["after"])["on_hand"])
    return out


def test_1000_stock_changes_between_two_scans_and_a_deleted_item(rig):
    company, pair_file, service, _process, raw = rig
    items = [f"S{i:04d}" for i in range(1001)]
    company.stock({i: "1" for i in items})
    with service(pair_file()) as cdc:
        (pid,) = cdc.app.captures
        assert cdc.app.captures[pid].kind == "sagepro" and f"sagepro-db:{pid}" in cdc.app.health.readiness
        wait_until(lambda: len(on_hand(raw)) == len(items), timeout=60)
        assert cdc.app.health.readiness[f"sagepro-db:{pid}"]() == (True, "database reachable")
        company.stock({i: str(n + 2) for n, i in enumerate(items[:1000])})     # 1,000 changes, one commit
        company.delete_item(items[1000])

        def arrived() -> bool:
            seen = on_hand(raw)
            return (any(v["op"] == "delete" for _k, v in raw.poll())
                    and all(len(seen.get(f"{i}|MAIN", [])) == 2 for i in items[:1000]))
        wait_until(arrived, timeout=60)
        seen = on_hand(raw)
    assert {k: v for k, v in seen.items() if k != "S1000|MAIN"} == {
        f"{i}|MAIN": ["1.00", f"{n + 2}.00"] for n, i in enumerate(items[:1000])}   # each final value once
    deletes = [(k, v) for k, v in raw.poll() if v["op"] == "delete"]
    assert len(deletes) == 1
    key, event = deletes[0]
    assert key == b"S1000" and event["key"] == "S1000|MAIN" and event["after"] is None
    assert event["erp"] == "sagepro" and event["table"] == "ICILOC"
    assert event["metadata"]["event_type"] == "erp.row.delete" and event["metadata"]["source_instance"] == "01"
    upsert = next(v for k, v in raw.poll() if v["key"] == "S0001|MAIN")
    assert upsert["metadata"]["event_type"] == "erp.row.upsert" and upsert["metadata"]["source_entity_id"] == "S0001"
    assert upsert["position"].endswith("|S0001|MAIN") and len(upsert["position"].split("|")[0]) == 16
    assert json.loads(upsert["after"]) == {"item": "S0001", "loctid": "MAIN", "on_hand": "1.00",
                                           "committed": "0.00"}


def test_sigkill_mid_scan_then_restart_misses_nothing(rig):
    company, pair_file, _service, process, raw = rig
    items = [f"K{i:04d}" for i in range(400)]
    company.stock({i: "7" for i in items})
    path = pair_file(batch_size=4)                  # 100 pages, each acknowledged before the next
    first = process(path)
    wait_until(lambda: len(on_hand(raw)) >= 40, timeout=60, interval=0.01)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    seen_at_kill = len(on_hand(raw))
    assert seen_at_kill < len(items)                 # killed mid-scan
    company.stock({i: "8" for i in items[:5] + items[-5:]})    # while it was down: behind and ahead of the cursor
    process(path)

    def caught_up() -> bool:
        seen = on_hand(raw)
        return len(seen) == len(items) and all("8.00" in seen[f"{i}|MAIN"] for i in items[:5] + items[-5:])
    wait_until(caught_up, timeout=90)
    got = on_hand(raw)
    assert all("7.00" in got[f"{i}|MAIN"] for i in items[5:-5])
    assert all(got[f"{i}|MAIN"].count("8.00") == 1 for i in items[:5] + items[-5:])
