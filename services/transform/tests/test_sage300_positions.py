"""Positions order the rows of one Sage row: an older or equal one (CDC overlap, redelivery from an
older offset) is dropped, a redelivery at the offset that wrote the state passes."""
from __future__ import annotations

from decimal import Decimal

from sagebridge_common.topics import INVENTORY

from .sage300_raw import Sage, icitem, iciloc, pairs_with, values


def test_older_position_of_a_row_is_dropped():
    sage = Sage()
    sage.row("ICITEM", "WIDGET1", icitem())
    [new] = values(sage.row("ICILOC", "WIDGET1|1", iciloc(on_hand="8.0000"), second=50), INVENTORY)
    assert new["quantity"] == Decimal("8.0000")
    assert sage.row("ICILOC", "WIDGET1|1", iciloc(on_hand="3.0000"), second=40) == []     # older: dropped
    assert sage.row("ICILOC", "WIDGET1|1", iciloc(on_hand="3.0000"), second=50) == []     # equal: dropped
    [newer] = values(sage.row("ICILOC", "WIDGET1|1", iciloc(on_hand="5.0000"), second=51), INVENTORY)
    assert newer["quantity"] == Decimal("5.0000")


def test_an_older_stamp_of_another_row_is_not_dropped():
    """Positions order one row's versions; rows of one item are independent (detail tables and
    locations are captured on their own stamps)."""
    sage = Sage(pairs_with(inventory={"locations": {"1": "default", "2": "default"}}))
    sage.row("ICITEM", "WIDGET1", icitem())
    sage.row("ICILOC", "WIDGET1|1", iciloc(on_hand="8.0000"), second=50)
    [level] = values(sage.row("ICILOC", "WIDGET1|2", iciloc(location="2", on_hand="1.0000"), second=10), INVENTORY)
    assert level["quantity"] == Decimal("9.0000") and level["source_version"].partition("#")[0].endswith("|WIDGET1|1")


def test_a_delete_is_newer_than_the_row_it_removes_and_blocks_a_late_upsert():
    sage = Sage()
    sage.row("ICITEM", "WIDGET1", icitem())
    sage.row("ICILOC", "WIDGET1|1", iciloc(on_hand="8.0000"), second=50)
    [gone] = values(sage.row("ICILOC", "WIDGET1|1", None, second=60), INVENTORY)
    assert gone["quantity"] == Decimal("0") and gone["erp_locations"] == []
    assert sage.row("ICILOC", "WIDGET1|1", iciloc(on_hand="8.0000"), second=55) == []


def test_redelivery_at_the_offset_that_wrote_the_row_passes():
    sage = Sage()
    sage.row("ICITEM", "WIDGET1", icitem())
    event = sage.event("ICILOC", "WIDGET1|1", iciloc(on_hand="4.0000"))
    first = values(sage.send(event), INVENTORY)
    again = values(sage.send(event), INVENTORY)
    assert [v["quantity"] for v in first] == [v["quantity"] for v in again] == [Decimal("4.0000")]
