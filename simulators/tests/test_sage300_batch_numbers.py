"""Sage 300 simulator: the next receipt / journal batch number comes from SQL `MAX` instead of reading
and converting every stored batch of the type under the database lock on each POST
(bench/new_customer_flow.py: one receipt batch per full-stack order, so the cost grew with the
ledger). Numbering itself (a sequence per record type, never reused) is in test_sage300_ledgers.py.
"""
from __future__ import annotations

import importlib.util
from decimal import Decimal
from pathlib import Path

import pytest

from sagebridge_sim.sage300.db import Sage300Database

_spec = importlib.util.spec_from_file_location("sage300_ledgers_tests", Path(__file__).with_name("test_sage300_ledgers.py"))
ledgers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ledgers)


@pytest.fixture()
def db(tmp_path):
    database = Sage300Database(str(tmp_path / "SAMINC.db"))
    database.create_schema()
    yield database
    database.close()


def test_highest_is_the_maximum_of_the_matching_rows_only(db):
    for kind, number in (("CA", 7), ("CA", 12), ("CA", 9), ("AD", 40)):
        db.upsert("ARBTA", {"CODEPYMTYP": kind, "CNTBTCH": number, "BATCHDESC": f"{kind}{number}"})
    with db.transaction() as cur:
        assert db.highest("ARBTA", "CNTBTCH", {"CODEPYMTYP": "CA"}, cur) == Decimal(12)
        assert db.highest("ARBTA", "CNTBTCH", {"CODEPYMTYP": "AD"}, cur) == Decimal(40)
        assert db.highest("ARBTA", "CNTBTCH", None, cur) == Decimal(40)


def test_highest_of_no_rows_is_none(db):
    with db.transaction() as cur:
        assert db.highest("ARBTA", "CNTBTCH", {"CODEPYMTYP": "CA"}, cur) is None
        assert db.highest("GLBCTL", "BATCHID", None, cur) is None


def test_a_batch_stored_outside_the_api_still_moves_the_next_number_up(tmp_path):
    """The number is above the highest stored one of its type, not of the other type."""
    database = Sage300Database(str(tmp_path / "SAMINC.db"))
    database.seed_demo()
    database.upsert("ARBTA", {"CODEPYMTYP": "AD", "CNTBTCH": 900, "BATCHDESC": "other type"})
    database.upsert("ARBTA", {"CODEPYMTYP": "CA", "CNTBTCH": 500, "BATCHDESC": "stored by an admin"})
    try:
        with ledgers.BackgroundServer(ledgers.create_app(database, user=ledgers.USER, password=ledgers.PASSWORD)) as srv, \
                ledgers.httpx.Client(base_url=f"{srv.url}/Sage300WebApi/v1.0/-/SAMINC",
                                     auth=(ledgers.USER, ledgers.PASSWORD), headers=ledgers.JSON_CT, timeout=10) as api:
            made = api.post("/AR/ARReceiptAndAdjustmentBatches", json=ledgers.PREPAYMENT)
            assert made.status_code == 201, made.text
            assert made.json()["BatchNumber"] == 501
    finally:
        database.close()
