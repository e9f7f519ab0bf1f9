"""The Sage Pro ErpSink against PostgreSQL 15 through psqlODBC: orders field by field, the guard,
races between writers, lock timeouts, width refusals (issue 10 contract; reference
sage300_sagepro.md §3)."""
from __future__ import annotations

import threading
import time
from datetime import date
from decimal import Decimal

import pyodbc
import pytest

from sagebridge_common import metrics
from sagebridge_common.errors import PermanentError, TransientError
from sagebridge_connectors.sagepro.sink import SageProSink
from sagebridge_sim.sagepro.pg_cluster import PostgresCluster

from .sagepro_support import customer, fresh_database, make_pair, order, rows


@pytest.fixture(scope="module")
def cluster():
    with PostgresCluster() as pg:
        yield pg


@pytest.fixture
def db(cluster):
    return fresh_database(cluster)


@pytest.fixture
def sinks(db, tmp_path):
    made = []

    def make(**erp) -> SageProSink:
        sink = SageProSink(make_pair(tmp_path, db, **erp))
        made.append(sink)
        return sink
    yield make
    for s in made:
        s.close()


def test_an_order_with_a_new_customer_field_by_field(db, sinks):
    sink = sinks()
    cust = sink.ensure_customer(customer("  Ann@Example.com ", "WANN000001"), update=False)
    assert (cust.outcome, cust.document_id) == ("created", "WANN000001")
    done = sink.ensure_order(order("1001", erp_id=cust.document_id))
    assert (done.outcome, done.document_id) == ("created", "1001")

    [c] = rows(db, "SELECT * FROM arcust01")
    assert (c["custno"].strip(), c["email"].strip(), c["company"].strip(), c["contact"].strip()) == \
        ("WANN000001", "ann@example.com", "Ann Lee", "Ann Lee")
    assert (c["address1"].strip(), c["city"].strip(), c["state"].strip(), c["zip"].strip(), c["country"].strip(),
            c["phone"].strip()) == ("1 Main Street", "New York", "NY", "10001", "USA", "212-555-0100")

    [h] = rows(db, "SELECT * FROM somast01")
    assert h["sono"] == "      1001"                        # char 10, left-padded
    assert (h["custno"].strip(), h["ponum"].strip(), h["ordate"]) == ("WANN000001", "XP1-1001", date(2024, 11, 5))
    assert (h["tax"], h["freight"], h["disc"], h["ordamt"]) == (Decimal("0.88"), Decimal("5.00"), Decimal("3.00"),
                                                                 Decimal("40.86"))
    assert (h["sostat"].strip(), h["shipvia"].strip(), h["loctid"].strip(), h["currid"].strip(),
            h["adduser"].strip()) == ("", "UPS-GROUND", "MAIN", "USD", "SAGEBRIDGE")
    assert h["adddate"] is not None and len(h["addtime"].strip()) == 8

    [a] = rows(db, "SELECT * FROM soaddr01")
    assert (a["sono"], a["company"].strip(), a["address1"].strip(), a["address2"].strip(), a["zip"].strip()) == \
        ("      1001", "Ann Lee", "1 Main Street", "Apt 4", "10001")

    lines = rows(db, "SELECT * FROM sotran01 ORDER BY tranlineno")
    assert [(r["tranlineno"], r["item"].strip(), r["qtyord"], r["price"], r["disc"], r["extprice"]) for r in lines] == [
        (Decimal(1), "A100", Decimal("2.00"), Decimal("19.9900"), Decimal("4.00"), Decimal("35.98")),
        (Decimal(2), "HANDLING", Decimal("1.00"), Decimal("2.0000"), Decimal("0.00"), Decimal("2.00"))]
    assert {(r["sono"], r["custno"].strip(), r["loctid"].strip(), r["umeasur"].strip(), r["ordate"]) for r in lines} \
        == {("      1001", "WANN000001", "MAIN", "EA", date(2024, 11, 5))}
    assert rows(db, "SELECT lastsono FROM sosyst01") == [{"lastsono": "      1001"}]


def test_numbers_follow_the_numbering_row_and_a_repeat_is_already_present(db, sinks):
    sink = sinks()
    assert sink.ensure_order(order("1001")).document_id == "1001"
    assert sink.ensure_order(order("1002")).document_id == "1002"
    again = sink.ensure_order(order("1001"))
    assert (again.outcome, again.document_id) == ("already_present", "1001")
    assert len(rows(db, "SELECT sono FROM somast01 WHERE ponum = 'XP1-1001'")) == 1
    assert len(rows(db, "SELECT sono FROM sotran01 WHERE sono = '      1001'")) == 2
    assert rows(db, "SELECT lastsono FROM sosyst01") == [{"lastsono": "      1002"}]


def run_behind_the_numbering_lock(db: str, jobs: list) -> None:
    """Starts `jobs` while another connection holds the numbering row, and lets go only once every
    job waits for that lock (seen in pg_stat_activity): all of them have passed the fast path."""
    blocker = pyodbc.connect(db, autocommit=False)
    blocker.execute("UPDATE sosyst01 SET lastsono = lastsono")
    threads = [threading.Thread(target=job) for job in jobs]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while rows(db, "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'")[0]["n"] < len(jobs):
            assert time.monotonic() < deadline, "the writers never waited for the numbering lock"
            time.sleep(0.02)
    finally:
        blocker.rollback()
        blocker.close()
        for t in threads:
            t.join()


def test_two_writers_of_one_order_at_once_make_one_order(db, sinks):
    # Both pass the fast path and wait for the numbering lock; the second to get it finds the
    # first's committed order with its guard inside the transaction.
    a, b = sinks(lock_timeout_s=20), sinks(lock_timeout_s=20)
    results = []
    run_behind_the_numbering_lock(db, [lambda s=s: results.append(s.ensure_order(order("2001"))) for s in (a, b)])
    assert sorted(r.outcome for r in results) == ["already_present", "created"]
    assert {r.document_id for r in results} == {"1001"}
    assert len(rows(db, "SELECT sono FROM somast01")) == 1
    assert len(rows(db, "SELECT sono FROM sotran01")) == 2


def test_three_orders_of_one_new_email_at_once_make_one_customer(db, sinks):
    writers = [sinks(lock_timeout_s=20) for _ in range(3)]
    results = []

    def write(sink, n):
        cust = sink.ensure_customer(customer("new@example.com"), update=False)
        results.append((cust, sink.ensure_order(order(f"30{n}", erp_id=cust.document_id))))
    run_behind_the_numbering_lock(db, [lambda s=s, n=n: write(s, n) for n, s in enumerate(writers)])
    assert len(results) == 3
    [only] = rows(db, "SELECT custno FROM arcust01")
    assert sorted(c.outcome for c, _ in results).count("created") == 1
    assert {c.document_id for c, _ in results} == {only["custno"].strip()}
    assert {r["custno"].strip() for r in rows(db, "SELECT custno FROM somast01")} == {only["custno"].strip()}
    assert len(rows(db, "SELECT sono FROM somast01")) == 3


def test_a_lock_held_by_another_connection_is_transient_after_the_tries(db, sinks):
    sink = sinks(lock_timeout_s=0.2, write_tries=2)
    holder = pyodbc.connect(db, autocommit=False)
    holder.execute("UPDATE sosyst01 SET lastsono = lastsono")
    try:
        with pytest.raises(TransientError) as e:
            sink.ensure_order(order("4001"))
        assert e.value.reason == "sagepro_locked" and "55P03" in str(e.value)
    finally:
        holder.rollback()
        holder.close()
    assert rows(db, "SELECT sono FROM somast01") == []
    assert sink.ensure_order(order("4001")).outcome == "created"      # the lock gone, the retry writes


def test_a_value_wider_than_its_column_is_refused_before_anything_is_sent(db, sinks):
    sink = sinks()
    long_item = order("5001")
    long_item["lines"][0]["item_number"] = "X" * 21
    with pytest.raises(PermanentError) as e:
        sink.ensure_order(long_item)
    assert e.value.reason == "sagepro_width" and "sotran01.item" in str(e.value)
    assert "erp.layout" in str(e.value)
    assert rows(db, "SELECT lastsono FROM sosyst01") == [{"lastsono": "      1000"}]     # no number taken
    too_big = order("5002", total=Decimal("12345678901.00"))
    with pytest.raises(PermanentError, match="somast01.ordamt"):
        sink.ensure_order(too_big)


def test_a_long_description_is_cut_not_refused(db, sinks):
    o = order("5101")
    o["lines"][0]["name"] = "W" * 60
    assert sinks().ensure_order(o).outcome == "created"
    assert [r["descrip"].strip() for r in rows(db, "SELECT descrip FROM sotran01 WHERE item = 'A100'")] == ["W" * 40]


def test_a_total_that_does_not_add_up_is_created_with_mismatch_and_counted(db, sinks):
    sink = sinks()
    counter = metrics.ERP_TOTAL_MISMATCH.labels("sagepro", sink.pair.pair)
    before = counter._value.get()
    done = sink.ensure_order(order("6001", total=Decimal("41.86")))
    assert done.outcome == "created_with_mismatch" and done.details == {"erp_total": "40.86", "store_total": "41.86"}
    assert counter._value.get() == before + 1
    assert rows(db, "SELECT ordamt FROM somast01") == [{"ordamt": Decimal("41.86")}]


def test_a_v2_order_without_charges_puts_shipping_in_freight_and_the_discount_in_disc(db, sinks):
    o = order("6101", charges=[], shipping_total=Decimal("5.00"), discount_total=Decimal("3.00"),
              total=Decimal("38.86"))
    assert sinks().ensure_order(o).outcome == "created"
    assert rows(db, "SELECT freight, disc, ordamt FROM somast01") == [
        {"freight": Decimal("5.00"), "disc": Decimal("3.00"), "ordamt": Decimal("38.86")}]
    assert [r["item"].strip() for r in rows(db, "SELECT item FROM sotran01")] == ["A100"]


def test_tax_mode_erp_leaves_the_tax_to_sage_pro(db, sinks):
    assert sinks().ensure_order(order("6201", tax_mode="erp")).outcome == "created"
    assert rows(db, "SELECT tax, ordamt FROM somast01") == [{"tax": Decimal("0.00"), "ordamt": Decimal("40.86")}]


def test_another_currency_is_refused(sinks):
    with pytest.raises(PermanentError) as e:
        sinks().ensure_order(order("7001", currency="EUR"))
    assert e.value.reason == "sagepro_currency_not_held"


def test_customer_found_by_email_updated_only_where_it_differs(db, sinks):
    sink = sinks()
    assert sink.ensure_customer(customer("Bo@Example.com", "WBO0000001")).outcome == "created"
    same = sink.ensure_customer(customer(" bo@EXAMPLE.com "))
    assert (same.outcome, same.document_id) == ("already_present", "WBO0000001")
    moved = customer("bo@example.com", phone="212-555-0199")
    assert sink.ensure_customer(moved, update=False).outcome == "already_present"
    done = sink.ensure_customer(moved)
    assert (done.outcome, done.details) == ("updated", {"changed": "phone"})
    assert [r["phone"].strip() for r in rows(db, "SELECT phone FROM arcust01")] == ["212-555-0199"]


def test_a_customer_number_held_by_another_email_names_both(db, sinks):
    sink = sinks()
    sink.ensure_customer(customer("first@example.com", "WSAME00001"))
    with pytest.raises(PermanentError) as e:
        sink.ensure_customer(customer("second@example.com", "WSAME00001"))
    assert e.value.reason == "sagepro_customer_number_taken"
    assert "first@example.com" in str(e.value) and "second@example.com" in str(e.value)
    assert len(rows(db, "SELECT custno FROM arcust01")) == 1


def test_payments_and_refunds_are_skipped_and_ping_is_ready(sinks):
    sink = sinks()
    assert sink.ensure_payment({}).outcome == "skipped"
    assert sink.ensure_refund({}).outcome == "skipped"
    assert sink.ping() == (True, "ok")


def test_missing_credentials_are_named_and_writes_wait(tmp_path):
    sink = SageProSink(make_pair(tmp_path, ""))
    assert sink.ping() == (False, "missing credentials: connection_string")
    with pytest.raises(TransientError, match="connection_string"):
        sink.ensure_order(order())
