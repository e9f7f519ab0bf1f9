"""Sage 300 change capture: the table specs against the simulator's tables, the database block,
row conversion to the erp.raw.v1 contract (read for real from the simulator's SQLite database
through the SQLite3 ODBC driver), the ICPRICP price-list filter, the ERP time zone, and ODBC errors
sorted into transient and permanent."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

import pyodbc
import pytest
from pydantic import ValidationError

from sagebridge_common.row_memory import DictRowMemory
from sagebridge_common import registry
from sagebridge_common.errors import PermanentError, TransientError
from sagebridge_connectors.sage300.cdc import build_capture, classify_odbc, price_list
from sagebridge_connectors.sage300.cdc_tables import TABLES
from sagebridge_connectors.sage300.config import DatabaseConfig
from sagebridge_sim.sage300 import Sage300Database
from sagebridge_sim.sage300.db import SCHEMA




@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("cdc") / "sage.sqlite"
    database = Sage300Database(str(path))
    database.create_schema()
    database.path = path
    yield database
    database.close()


@pytest.fixture
def cdc_pair(make_pair, db):
    def make(**database):
        block = {"connection_string": f"DRIVER={{SQLite3}};Database={db.path}", "dialect": "sqlite", **database}
        return make_pair(database=block)
    return make


def drain(cap, table, cursor=None):
    out = []
    while True:
        page = cap.changes(table, cursor, 500)
        out += page.changes
        cap.delivered(table, page)
        cursor = page.cursor
        if not page.has_more:
            return out, cursor


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_captured_table_column_and_key_exists_in_sage_as_the_simulator_keeps_it(name):
    spec, sim = TABLES[name], SCHEMA[name]
    assert spec.key == sim.key
    for col in spec.columns:
        assert col.name in sim.by_name, col.name
        kind = sim.by_name[col.name].kind
        assert kind == col.kind, col.name
        if kind == "D":
            assert sim.by_name[col.name].scale == col.scale, col.name


def test_the_database_block_is_optional_and_its_secret_is_not_shown(make_pair, cdc_pair):
    assert make_pair().erp.database is None
    pair = cdc_pair(time_zone="America/Chicago", overlap_s=3)
    assert pair.erp.database.overlap_s == 3 and pair.erp.database.tables[0] == "ICILOC"
    assert "Database=" not in repr(pair.erp.database)
    with pytest.raises(ValidationError, match="unknown time zone"):
        DatabaseConfig(connection_string="x", time_zone="Mars/Olympus")
    with pytest.raises(ValidationError):
        DatabaseConfig(connection_string="x", tables=["ICILOC", "GLAMF"])


def test_iciloc_rows_arrive_in_the_contract_shape(cdc_pair, db):
    db.upsert("ICITEM", {"ITEMNO": "A1400", "FMTITEMNO": "A1-400", "DESC": "Chair", "STOCKUNIT": "EA",
                         "UNITWGT": Decimal("2.5"), "ALLOWONWEB": 1})
    db.upsert("ICILOC", {"ITEMNO": "A1400", "LOCATION": "WH1", "QTYONHAND": Decimal("12.5"), "QTYCOMMIT": 2,
                         "ACTIVE": 1}, user="admin")
    cap = registry.build("erp_source", cdc_pair())
    cap.memory = DictRowMemory()
    changes, _ = drain(cap, "ICILOC")
    change = next(c for c in changes if c.entity_id == "A1400|WH1")
    record = cap.fetch(change)
    row = json.loads(record.payload["after"])
    stamp = db.get("ICILOC", {"ITEMNO": "A1400", "LOCATION": "WH1"})
    assert row == {"ITEMNO": "A1400", "LOCATION": "WH1", "AUDTDATE": int(stamp["AUDTDATE"]),
                   "AUDTTIME": int(stamp["AUDTTIME"]), "AUDTUSER": "ADMIN", "QTYONHAND": "12.5000",
                   "QTYRENOCST": "0.0000", "QTYADNOCST": "0.0000", "QTYSHNOCST": "0.0000", "QTYCOMMIT": "2.0000",
                   "QTYSALORDR": "0.0000", "ACTIVE": 1}
    assert record.payload["entity_key"] == "A1400" and record.payload["op"] == "upsert"
    assert record.payload["position"] == f"{int(stamp['AUDTDATE']) * 100000000 + int(stamp['AUDTTIME']):016d}|A1400|WH1"
    items, _ = drain(cap, "ICITEM")
    assert json.loads(next(c for c in items if c.entity_id == "A1400").listing["after"])["UNITWGT"] == "2.5000"


def test_icpricp_is_read_for_the_pairs_price_list_and_currency_only(cdc_pair, db):
    for currency, plist, price in [("USD", "WEB", "19.99"), ("USD", "WHSE", "15"), ("CAD", "WEB", "25")]:
        db.upsert("ICPRICP", {"CURRENCY": currency, "ITEMNO": "P100", "PRICELIST": plist, "DPRICETYPE": 1,
                              "QTYUNIT": "EA", "WEIGHTUNIT": "", "UNITPRICE": Decimal(price)})
    pair = cdc_pair()
    assert pair.currency == "USD" and price_list(pair) == "WEB"
    cap = build_capture(pair, DictRowMemory())
    changes, _ = drain(cap, "ICPRICP")
    mine = [c for c in changes if "P100" in c.entity_id]
    assert [c.entity_id for c in mine] == ["USD|P100|WEB|1|EA|"]
    assert json.loads(mine[0].listing["after"])["UNITPRICE"] == "19.990000"
    assert mine[0].listing["entity_key"] == "P100"


def test_order_keys_are_integer_strings_and_stamps_are_read_in_the_erp_zone(cdc_pair, db):
    with db.transaction() as cur:
        db.insert(cur, "OEORDH1", {"ORDUNIQ": 12, "SHIPTRACK": "1Z999"})
        cur.execute('UPDATE "OEORDH1" SET "AUDTDATE" = ?, "AUDTTIME" = ? WHERE "ORDUNIQ" = ?',
                    Decimal(20260102), Decimal(23000000), Decimal(12))
    cap = build_capture(cdc_pair(time_zone="America/Chicago"), DictRowMemory())
    changes, _ = drain(cap, "OEORDH1")
    change = next(c for c in changes if c.entity_id == "12")
    assert change.listing["entity_key"] == "12"
    assert change.occurred_at == datetime(2026, 1, 3, 5, 0, tzinfo=timezone.utc)
    assert json.loads(change.listing["after"])["SHIPTRACK"] == "1Z999"


def test_odbc_errors_are_sorted_into_transient_and_permanent():
    assert isinstance(classify_odbc(pyodbc.OperationalError("08S01", "Communication link failure")), TransientError)
    assert isinstance(classify_odbc(pyodbc.Error("HYT00", "Query timeout expired")), TransientError)
    assert isinstance(classify_odbc(pyodbc.Error("40001", "deadlock victim")), TransientError)
    login = classify_odbc(pyodbc.InterfaceError("28000", "Login failed for user 'cdc'"))
    assert isinstance(login, PermanentError) and login.reason == "db_login_failed"
    assert isinstance(classify_odbc(pyodbc.ProgrammingError("42S02", "Invalid object name 'ICILOCX'")), PermanentError)
    assert isinstance(classify_odbc(pyodbc.Error("HY000", "no such table: ICILOC")), PermanentError)


def test_a_wrong_connection_is_reported_without_the_connection_string(cdc_pair):
    pair = cdc_pair(connection_string="DRIVER={NoSuchDriver};PWD=hunter2")
    cap = build_capture(pair, DictRowMemory())
    up, detail = cap.ping()
    assert not up and "hunter2" not in detail
    with pytest.raises((TransientError, PermanentError)) as e:
        cap.changes("ICILOC", None, 10)
    assert "hunter2" not in str(e.value)
