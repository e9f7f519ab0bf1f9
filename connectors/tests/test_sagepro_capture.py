"""Sage Pro change capture through a real ODBC driver: the tables built from the layout in
PostgreSQL 15 (psqlODBC) and SQLite (sqlite3odbc), scanned page by page as the source runner does.
Values as the erp.raw.v1 contract says, keyset paging over padded CHAR keys (left-padded sono
included) that never skips or repeats a row, deletes, narrowing by a changed_since date."""
from __future__ import annotations

import json
import uuid
from decimal import Decimal
from pathlib import Path

import pyodbc
import pytest
import yaml

from sagebridge_common.errors import PermanentError
from sagebridge_common.pairs import load_pair_file
from sagebridge_common.row_memory import DictRowMemory
from sagebridge_connectors.sagepro.capture import build_capture
from sagebridge_sim.sagepro.pg_cluster import PostgresCluster
from sagebridge_sim.sagepro.schema import create_schema

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "pairs" / "xcart-sagepro.yaml"
# a site whose arcust adddate moves on every edit, and whose icitem has a logical column
LAYOUT = {"tables": {"customer": {"changed_since": "adddate"},
                     "item": {"columns": {"taxable": {"column": "taxable", "type": "logical"}}}}}


@pytest.fixture(scope="module")
def cluster():
    with PostgresCluster() as pg:
        yield pg


@pytest.fixture(params=["postgres", "sqlite"])
def company(request, cluster, tmp_path):
    """A fresh company database of the engine; yields (connection, pair factory)."""
    engine = request.param
    if engine == "postgres":
        odbc = cluster.create_database(f"c{uuid.uuid4().hex[:12]}")
    else:
        odbc = f"DRIVER={{SQLite3}};Database={tmp_path / 'sagepro.sqlite'};Timeout=10000"
    conn = pyodbc.connect(odbc, autocommit=False)
    from sagebridge_connectors.sagepro.layout import load_layout
    create_schema(conn, engine=engine, layout=load_layout(LAYOUT))

    def pair(**capture):
        data = yaml.safe_load(SHIPPED.read_text())
        data["erp"].update({"connection_string": odbc, "dialect": engine, "layout": LAYOUT})
        data["erp"]["change_capture"] = {"source": "odbc", "rows_per_s": 1_000_000, **capture}
        path = tmp_path / "pair.yaml"
        path.write_text(yaml.safe_dump(data))
        return load_pair_file(path)
    yield engine, conn, pair
    conn.close()


def run(conn, sql: str, *rows) -> None:
    cur = conn.cursor()
    if rows:
        cur.executemany(sql, list(rows))
    else:
        cur.execute(sql)
    conn.commit()


def scan(cap, stream: str, cursor=None, limit: int = 1000):
    seen = []
    while True:
        page = cap.changes(stream, cursor, limit)
        cap.delivered(stream, page)
        seen += page.changes
        cursor = page.cursor
        if not page.has_more:
            return seen, cursor


def test_rows_are_emitted_as_the_wire_contract_says(company):
    engine, conn, pair = company
    run(conn, "INSERT INTO iciloc01 (item, loctid, lonhand, lalloc) VALUES (?, ?, ?, ?)",
        ("A100", "MAIN", Decimal("12.5"), None))
    run(conn, "INSERT INTO icitem01 (item, descrip, itmclss, price, itstat, weight, taxable) VALUES (?,?,?,?,?,?,?)",
        ("A100", "  Blue mug  ", "MUGS", Decimal("9.9"), "A", Decimal("0.25"), True if engine == "postgres" else 1))
    run(conn, "INSERT INTO somast01 (sono, custno, ponum, ordate, sostat, ordamt, shipdate) VALUES (?,?,?,?,?,?,?)",
        ("      1001", "W000000001", "XP1-00042", "2026-01-02", "S", Decimal("30"), None))
    cap = build_capture(pair(tables=["item_location", "item", "order_header"]), DictRowMemory())
    assert cap.streams() == ["ICILOC", "ICITEM", "SOMAST"]
    (stock,), _ = scan(cap, "ICILOC")
    assert stock.entity_id == "A100|MAIN" and stock.listing["entity_key"] == "A100"
    assert json.loads(stock.listing["after"]) == {"item": "A100", "loctid": "MAIN", "on_hand": "12.50",
                                                  "committed": None}
    assert stock.listing["after"] == json.dumps(json.loads(stock.listing["after"]), sort_keys=True,
                                                separators=(",", ":"))
    pos = stock.listing["position"]
    assert pos.endswith("|A100|MAIN") and len(pos.split("|")[0]) == 16 and stock.version == pos
    (item,), _ = scan(cap, "ICITEM")
    assert json.loads(item.listing["after"]) == {"item": "A100", "descrip": "Blue mug", "category": "MUGS",
                                                 "price": "9.9000", "status": "A", "weight": "0.250",
                                                 "taxable": True}
    (order,), _ = scan(cap, "SOMAST")
    after = json.loads(order.listing["after"])
    assert order.entity_id == "1001" and order.listing["entity_key"] == "1001"
    assert after["sono"] == "1001" and after["ordate"] == "2026-01-02" and after["shipdate"] is None
    assert after["sostat"] == "S" and after["ordamt"] == "30.00" and after["ponum"] == "XP1-00042"
    assert set(after) == set(cap.reader.tables["SOMAST"].layout.columns)


def test_small_pages_over_padded_keys_read_every_row_once_in_key_order(company):
    engine, conn, pair = company
    items = ["A1", "A10", "A100", "A2", "B", "B 1"]
    run(conn, "INSERT INTO iciloc01 (item, loctid, lonhand) VALUES (?, ?, ?)",
        *[(i, loc, Decimal(n)) for n, i in enumerate(items) for loc in ("MAIN", "EAST")])
    sonos = ["999", "1000", "1001", "10000"]
    run(conn, "INSERT INTO somast01 (sono, custno, ordamt) VALUES (?, ?, ?)",
        *[(s.rjust(10), "C1", Decimal("1")) for s in sonos])
    cap = build_capture(pair(tables=["item_location", "order_header"]), DictRowMemory())
    stock, _ = scan(cap, "ICILOC", limit=1)
    assert sorted(c.entity_id for c in stock) == sorted(f"{i}|{loc}" for i in items for loc in ("MAIN", "EAST"))
    orders, _ = scan(cap, "SOMAST", limit=1)
    assert sorted(c.entity_id for c in orders) == sorted(sonos)


def test_an_edit_a_delete_and_an_unchanged_table(company):
    _engine, conn, pair = company
    run(conn, "INSERT INTO iciloc01 (item, loctid, lonhand) VALUES (?, ?, ?)",
        *[(f"S{i}", "MAIN", Decimal(1)) for i in range(5)])
    cap = build_capture(pair(tables=["item_location"]), DictRowMemory())
    first, cursor = scan(cap, "ICILOC", limit=2)
    assert len(first) == 5
    assert scan(cap, "ICILOC", cursor, limit=2)[0] == []
    run(conn, "UPDATE iciloc01 SET lonhand = 7 WHERE item = 'S3'")
    run(conn, "DELETE FROM iciloc01 WHERE item = 'S1'")
    changes, _ = scan(cap, "ICILOC", cursor, limit=2)
    got = [(c.listing["op"], c.entity_id, c.listing["after"] and json.loads(c.listing["after"])["on_hand"])
           for c in changes]
    assert got == [("upsert", "S3|MAIN", "7.00"), ("delete", "S1|MAIN", None)]


def test_narrowed_scans_read_only_rows_changed_since_the_previous_scan(company):
    _engine, conn, pair = company
    run(conn, "INSERT INTO arcust01 (custno, company, email, adddate) VALUES (?, ?, ?, ?)",
        ("OLD1", "Old One", "old1@example.com", "2020-01-01"), ("OLD2", "Old Two", "old2@example.com", "2020-01-01"))
    cap = build_capture(pair(tables=["customer"], full_scan_interval_s=3600), DictRowMemory())
    first, cursor = scan(cap, "ARCUST")
    assert len(first) == 2
    # an edit Sage Pro stamped today, and one it did not stamp (the site said the date is trusted)
    run(conn, "UPDATE arcust01 SET company = 'Old One Ltd', adddate = CURRENT_DATE WHERE custno = 'OLD1'")
    run(conn, "UPDATE arcust01 SET company = 'Not Seen' WHERE custno = 'OLD2'")
    narrow, cursor = scan(cap, "ARCUST", cursor)
    assert [(c.entity_id, json.loads(c.listing["after"])["name"]) for c in narrow] == [("OLD1", "Old One Ltd")]
    full = build_capture(pair(tables=["customer"], full_scan_interval_s=0.001), cap.memory)
    changes, _ = scan(full, "ARCUST", cursor)
    assert [(c.entity_id, json.loads(c.listing["after"])["name"]) for c in changes] == [("OLD2", "Not Seen")]


def test_an_unreachable_database_and_a_missing_table(company, tmp_path):
    _engine, conn, pair = company
    cap = build_capture(pair(tables=["item_location"]), DictRowMemory())
    assert cap.ping() == (True, "database reachable")
    run(conn, "DROP TABLE iciloc01")
    up, detail = cap.ping()
    assert not up and "unreachable" in detail
    with pytest.raises(PermanentError):
        cap.changes("ICILOC", None, 10)
    down = build_capture(pair(tables=["item_location"], connection_string="DRIVER={NoSuchDriver};X=1"),
                         DictRowMemory())
    assert down.ping()[0] is False


def test_the_capture_connection_cannot_write_on_postgres(cluster):
    from sagebridge_connectors.sagepro.odbc_reader import connector
    odbc = cluster.create_database(f"c{uuid.uuid4().hex[:12]}")
    setup = pyodbc.connect(odbc, autocommit=False)
    create_schema(setup, engine="postgres")
    setup.close()
    reading = connector(odbc, login_timeout_s=5, query_timeout_s=5, dialect_name="postgres")()
    try:
        with pytest.raises(pyodbc.Error, match="read-only"):
            reading.execute("INSERT INTO iciloc01 (item, loctid, lonhand) VALUES ('X', 'MAIN', 1)")
        assert reading.execute("SELECT count(*) FROM iciloc01").fetchone()[0] == 0
    finally:
        reading.close()
