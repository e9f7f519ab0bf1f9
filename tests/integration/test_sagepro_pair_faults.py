"""Issue 10 under faults, X-Cart -> Sage Pro (pair `xcart-sagepro`, one stack for the module on its
own PostgreSQL database through psqlODBC, all five services as processes on the session broker):

- erp-writer SIGKILLed between the database commit and the commit of the Kafka offset: killed the
  moment the order's somast row is visible to another connection (committed), while its offset
  cannot have been committed yet (this module's writer commits offsets every 10 minutes, so the
  window is certain, not a race the test may lose). The restarted writer gets the order again and
  its guard answers `already_present`: exactly one order.
- erp-writer SIGKILLed between the SQL statements of one order: the test holds
  `LOCK TABLE sotran01 IN ACCESS EXCLUSIVE MODE`, so the writer's transaction blocks on the lines
  after inserting the header; once pg_stat_activity shows it waiting on that Lock the writer is
  killed and the lock released. PostgreSQL rolls the dead transaction back (no header without its
  lines, ever), and the restarted writer writes the order once, complete.
"""
from __future__ import annotations

import threading
import time

import pyodbc
import pytest

from .conftest import wait_until
from .sagepro_pair import PREFIX, build_database, new_email, running_pair

ITEMS = [{"sku": "WIDGET-1", "name": "Widget", "price": "12.50", "amount": 2},
         {"sku": "GADGET-2", "name": "Gadget", "price": "3.25", "amount": 1}]
# No offset commit while a test runs; a lock is waited for longer than a test takes to act on it.
WRITER = {"COMMIT_INTERVAL_MS": "600000", "SAGEPRO_LOCK_TIMEOUT_S": "60"}


@pytest.fixture(scope="module")
def pair(bootstrap, serde, sagepro_pg, tmp_path_factory):
    odbc = build_database(sagepro_pg, "pro_faults")
    with running_pair(bootstrap, serde, tmp_path_factory.mktemp("sagepro-faults"), odbc, first_order=82000,
                      extra_env={"erp-writer": WRITER}) as p:
        yield p


def place(pair, tag: str) -> str:
    return PREFIX + pair.store.order(email=new_email(tag), items=ITEMS)["order_number"]


def complete(pair, ref: str) -> tuple[dict, list[dict]]:
    [head] = pair.tables.orders(ref)
    return head, pair.tables.lines(head["sono"])


def writer_backends(pair) -> list[dict]:
    """The writer's sessions in PostgreSQL (every connection but the test's own)."""
    return pair.tables.rows("SELECT pid, state, wait_event_type, query FROM pg_stat_activity "
                            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                            "AND backend_type = 'client backend'")


def test_sigkill_after_the_db_commit_before_the_offset_commit_is_answered_already_present(pair):
    warm = place(pair, "warm")                      # the writer's first order: connections and customer path warm
    wait_until(lambda: pair.tables.orders(warm), timeout=60, message="the first order")
    ref = place(pair, "commit")
    seen = threading.Event()

    def kill_when_committed() -> None:
        conn = pyodbc.connect(pair.odbc, autocommit=True)
        try:
            cur = conn.cursor()
            while not seen.is_set():
                cur.execute("SELECT 1 FROM somast01 WHERE RTRIM(ponum) = ?", ref)
                if cur.fetchone():
                    pair.stack.services["erp-writer"].kill()
                    seen.set()
                else:
                    time.sleep(0.01)        # no offset is committed for 10 minutes: no hurry
        finally:
            conn.close()

    watcher = threading.Thread(target=kill_when_committed, daemon=True)
    watcher.start()
    assert seen.wait(60), "the order never reached somast"
    watcher.join(10)
    assert not pair.stack.services["erp-writer"].alive
    pair.stack.start_service("erp-writer")
    wait_until(lambda: [v for v in pair.erp_results(ref) if v["outcome"] == "already_present"], timeout=60,
               message="the redelivered order answered already_present")
    head, lines = complete(pair, ref)
    assert [l["item"] for l in lines] == ["WIDGET-1", "GADGET-2"]
    assert "failed" not in [v["outcome"] for v in pair.erp_results(ref)]


def test_sigkill_between_the_statements_of_one_order_leaves_no_header_without_its_lines(pair):
    blocker = pyodbc.connect(pair.odbc, autocommit=False)
    try:
        blocker.cursor().execute("LOCK TABLE sotran01 IN ACCESS EXCLUSIVE MODE")
        ref = place(pair, "mid")
        [waiting] = wait_until(lambda: [b for b in writer_backends(pair) if b["wait_event_type"] == "Lock"
                                        and "sotran01" in (b["query"] or "").lower()], timeout=60,
                               message="the writer waiting on the sotran01 lock")
        # its transaction has inserted the header already (it holds somast01's row-exclusive lock)
        held = pair.tables.rows("SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                                "WHERE l.pid = ? AND l.granted AND l.mode = 'RowExclusiveLock'", waiting["pid"])
        assert "somast01" in {h["relname"] for h in held}, held
        pair.stack.services["erp-writer"].kill()
    finally:
        blocker.rollback()                          # the dead writer's backend goes on, finds its client gone
        blocker.close()
    wait_until(lambda: waiting["pid"] not in {b["pid"] for b in writer_backends(pair)}, timeout=30,
               message="the killed writer's session ended")
    assert pair.tables.orders(ref) == []            # rolled back whole: the header went with it
    pair.stack.start_service("erp-writer")
    wait_until(lambda: pair.tables.orders(ref), timeout=60, message="the order after the restart")
    head, lines = complete(pair, ref)
    assert [l["item"] for l in lines] == ["WIDGET-1", "GADGET-2"]
    assert len(pair.tables.addresses(head["sono"])) == 1
    outcomes = wait_until(lambda: [v["outcome"] for v in pair.erp_results(ref)], timeout=30,
                          message="the order's result")
    assert outcomes == ["created"], outcomes        # the killed attempt answered nothing
