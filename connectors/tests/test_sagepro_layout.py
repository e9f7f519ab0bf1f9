"""The writer refuses to start on a table layout that differs from the template, naming the
table.column, what the database has, what the layout says and the erp.layout key to correct
(issue 10: "A table layout that differs from the template: the writer refuses to start, naming the
column"); PostgreSQL through psqlODBC and SQLite through sqlite3odbc."""
from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pyodbc
import pytest

from sagebridge_connectors.sagepro.layout import load_layout
from sagebridge_connectors.sagepro.layout_check import LayoutMismatch
from sagebridge_connectors.sagepro.sink import SageProSink
from sagebridge_sim.sagepro.pg_cluster import PostgresCluster
from sagebridge_sim.sagepro.schema import create_schema

from .sagepro_support import fresh_database, make_pair, order, rows

WIDE_PONUM = {"tables": {"order_header": {"columns": {"ponum": {"column": "ponum", "type": "char", "width": 25}}}}}


@pytest.fixture(scope="module")
def cluster():
    with PostgresCluster() as pg:
        yield pg


def refusal(pair) -> str:
    with pytest.raises(LayoutMismatch) as e:
        SageProSink(pair)
    return str(e.value)


def test_a_wider_column_than_the_layout_says_is_refused_naming_it(cluster, tmp_path):
    db = fresh_database(cluster, load_layout(WIDE_PONUM))
    text = refusal(make_pair(tmp_path, db))
    assert "somast01.ponum" in text and "bpchar(25)" in text and "char(20)" in text
    assert "erp.layout.tables.order_header.columns.ponum" in text


def test_the_pair_files_layout_override_corrects_it(cluster, tmp_path):
    db = fresh_database(cluster, load_layout(WIDE_PONUM))
    sink = SageProSink(make_pair(tmp_path, db, layout=WIDE_PONUM))
    try:
        assert sink.ensure_order(order("1001", order_number="1" * 21)).outcome == "created"
        assert rows(db, "SELECT ponum FROM somast01")[0]["ponum"].strip() == "XP1-" + "1" * 21
    finally:
        sink.close()


@pytest.mark.parametrize("override, names", [
    ({"tables": {"order_header": {"columns": {"freight": None}}}}, "column somast01.freight does not exist"),
    ({"tables": {"order_line": {"columns": {"price": {"column": "price", "type": "numeric", "width": 14, "scale": 2}}}}},
     "sotran01.price differs in precision/scale: the database has numeric(14,2), the layout says numeric(14,4)"),
    ({"tables": {"customer": {"columns": {"adddate": {"column": "adddate", "type": "char", "width": 8}}}}},
     "arcust01.adddate differs in type"),
])
def test_missing_columns_and_other_types_are_refused(cluster, tmp_path, override, names):
    db = fresh_database(cluster, load_layout(override))
    assert names in refusal(make_pair(tmp_path, db))


def test_a_missing_table_is_refused_naming_it_and_its_key(cluster, tmp_path):
    db = fresh_database(cluster)
    conn = pyodbc.connect(db, autocommit=True)
    conn.execute("DROP TABLE soaddr01")
    conn.close()
    text = refusal(make_pair(tmp_path, db))
    assert "table soaddr01 does not exist" in text and "erp.layout.tables.order_address.name" in text


def test_sqlite_numeric_sizes_come_from_the_type_name(tmp_path):
    """sqlite3odbc reports NUMERIC(12,2) with column_size 2: the check must read "(12,2)"."""
    good, bad = tmp_path / "good.db", tmp_path / "bad.db"
    for path, layout in ((good, None), (bad, load_layout(
            {"tables": {"order_header": {"columns": {"ordamt": {"column": "ordamt", "type": "numeric",
                                                                "width": 10, "scale": 2}}}}}))):
        conn = pyodbc.connect(f"DRIVER={{SQLite3}};Database={path}", autocommit=False)
        create_schema(conn, engine="sqlite", layout=layout)
        conn.close()
    assert "somast01.ordamt differs in precision/scale: the database has numeric(10,2)" in refusal(
        make_pair(tmp_path, f"DRIVER={{SQLite3}};Database={bad}", dialect="sqlite"))
    sink = SageProSink(make_pair(tmp_path, f"DRIVER={{SQLite3}};Database={good}", dialect="sqlite"))
    try:
        assert sink.ensure_order(order("1001")).outcome == "created"
        assert sink.ensure_order(order("1001")).outcome == "already_present"
        conn = pyodbc.connect(f"DRIVER={{SQLite3}};Database={good}")
        lines = [(r[0], r[1], Decimal(str(r[2]))) for r in conn.execute("SELECT sono, item, extprice FROM sotran01")]
        assert lines == [("      1001", "A100", Decimal("35.98")), ("      1001", "HANDLING", Decimal("2"))]
        assert [(r[0], Decimal(str(r[1]))) for r in conn.execute("SELECT sono, ordamt FROM somast01")] == \
            [("      1001", Decimal("40.86"))]
        conn.close()
    finally:
        sink.close()


def test_erp_writer_started_on_such_a_database_exits_with_the_message(cluster, tmp_path):
    db = fresh_database(cluster, load_layout(WIDE_PONUM))
    pair = make_pair(tmp_path, db)
    pair_file = next(p for p in tmp_path.glob("pair-*.yaml"))
    env = {**os.environ, "PAIRS_PATH": str(pair_file), "PAIR_ID": pair.pair}
    done = subprocess.run([str(Path(sys.executable).parent / "sagebridge-erp-writer")], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "cannot start" in done.stderr and "somast01.ponum" in done.stderr
    assert "erp.layout.tables.order_header.columns.ponum" in done.stderr
    assert "Traceback" not in done.stderr and db not in done.stderr       # no stack, no connection string
