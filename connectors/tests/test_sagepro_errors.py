"""Sage Pro writer failures through real drivers: a statement refused mid-order leaves nothing
(psqlODBC keeps the transaction open after a failed statement, so only a rollback makes that true),
a connection lost between documents is replaced, SQLite's busy lock is transient, and the
connection string never appears in an error."""
from __future__ import annotations

from decimal import Decimal

import pyodbc
import pytest

from sagebridge_common.errors import PermanentError, TransientError
from sagebridge_connectors.sagepro.errors import classify
from sagebridge_connectors.sagepro.odbc import redact
from sagebridge_connectors.sagepro.sink import SageProSink
from sagebridge_sim.sagepro.pg_cluster import PostgresCluster
from sagebridge_sim.sagepro.schema import create_schema

from .sagepro_support import fresh_database, make_pair, order, rows


@pytest.fixture(scope="module")
def cluster():
    with PostgresCluster() as pg:
        yield pg


def test_a_line_refused_by_a_constraint_leaves_no_header_and_names_the_table(cluster, tmp_path):
    db = fresh_database(cluster)
    conn = pyodbc.connect(db, autocommit=True)
    conn.execute("ALTER TABLE sotran01 ADD CONSTRAINT qty_limit CHECK (qtyord < 100)")   # a site's own rule
    conn.close()
    sink = SageProSink(make_pair(tmp_path, db))
    try:
        big = order("1001")
        big["lines"][0].update(quantity=Decimal("500"), line_total=Decimal("9995.00"))
        with pytest.raises(PermanentError) as e:
            sink.ensure_order(big)
        assert e.value.reason == "sagepro_constraint" and "sotran01" in str(e.value)
        assert rows(db, "SELECT sono FROM somast01") == [] and rows(db, "SELECT sono FROM soaddr01") == []
        assert rows(db, "SELECT lastsono FROM sosyst01") == [{"lastsono": "      1000"}]
        assert sink.ensure_order(order("1002")).document_id == "1001"      # the number was never used
    finally:
        sink.close()


def test_a_connection_lost_between_documents_is_replaced(cluster, tmp_path):
    db = fresh_database(cluster)
    sink = SageProSink(make_pair(tmp_path, db, max_connections=1))
    try:
        assert sink.ensure_order(order("1")).outcome == "created"
        killer = pyodbc.connect(db, autocommit=True)
        killer.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE pid <> pg_backend_pid() AND datname = current_database()")
        killer.close()
        assert sink.ensure_order(order("2")).outcome == "created"         # retried on a new connection
        assert sink.pool.opened == 2
    finally:
        sink.close()


def test_sqlite_busy_is_transient_after_the_tries(tmp_path):
    path = tmp_path / "sp.db"
    odbc = f"DRIVER={{SQLite3}};Database={path}"
    conn = pyodbc.connect(odbc, autocommit=False)
    create_schema(conn, engine="sqlite")
    sink = SageProSink(make_pair(tmp_path, odbc, dialect="sqlite", lock_timeout_s=0.2, write_tries=2))
    try:
        conn.execute("UPDATE sosyst01 SET lastsono = lastsono")             # another writer holds the lock
        with pytest.raises(TransientError) as e:
            sink.ensure_order(order("1"))
        assert e.value.reason == "sagepro_locked" and "locked" in str(e.value)
        conn.rollback()
        assert sink.ensure_order(order("1")).outcome == "created"
    finally:
        conn.close()
        sink.close()


def test_errors_never_carry_the_connection_string(tmp_path):
    secret = "DRIVER={PostgreSQL Unicode};SERVER=127.0.0.1;PORT=1;DATABASE=x;UID=sage;PWD=s3cret-value"
    sink = SageProSink(make_pair(tmp_path, secret, login_timeout_s=1))       # nothing listens on port 1
    try:
        ok, detail = sink.ping()
        assert ok is False and "s3cret-value" not in detail
        with pytest.raises(TransientError) as e:
            sink.ensure_order(order())
        assert "s3cret-value" not in str(e.value)
    finally:
        sink.close()
    assert redact(f"failed for {secret}: PWD=other", secret) == "failed for <connection string>: PWD=***"


@pytest.mark.parametrize("state, text, kind, reason", [
    ("40P01", "deadlock detected", TransientError, "sagepro_locked"),
    ("HY000", "[SQLite]database is locked (5)", TransientError, "sagepro_locked"),
    ("S1000", "File is in use by another user.", TransientError, "sagepro_locked"),
    ("08S01", "The connection has been lost", TransientError, "sagepro_connection_lost"),
    ("22001", "value too long for type character(10)", PermanentError, "sagepro_string_too_long"),
    ("22003", "numeric field overflow", PermanentError, "sagepro_numeric_overflow"),
    ("23502", 'null value in column "custno" violates not-null constraint', PermanentError, "sagepro_constraint"),
])
def test_driver_states_are_classified(state, text, kind, reason):
    err = classify(pyodbc.Error(state, f"[{state}] {text}"), "somast01")
    assert isinstance(err, kind) and err.reason == reason
    if state == "23502":
        assert "somast01.custno" in str(err)
