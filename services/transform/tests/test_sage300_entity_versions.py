"""The `source_version` of an output computed from several rows grows with every row change, also
when the row read last carries an older or equal stamp than one read before it.

The case, as the CI run of a 3dcart flow test met it: Sage posts a shipment and stamps OEORDH and
OEORDH1 in the same hundredth of a second; a CDC poll reads OEORDH just before the posting commits
and OEORDH1 just after, so transform sees "partially shipped" first and "complete" one poll later.
With the newest row position as the version, both events carried the same version, the store
writer (which skips any version at or below the last one written: `is_stale` compares `<=`)
skipped "complete", and the store order stayed at its "partially shipped" status. Every
assertion here is the store writer's rule: the later event's version must be strictly greater.
"""
from __future__ import annotations

from decimal import Decimal

from sagebridge_common.topics import INVENTORY, ORDER_STATUS, PRODUCTS, SHIPMENTS

from .sage300_raw import Sage, icitem, iciloc, icpricp, pairs_with, price_key, values
from .test_sage300_order_status import EXTRA, HEADER
from .test_sage300_shipments import HEADER as SHIPMENT, line


def only(out, topic):
    [value] = values(out, topic)
    return value


def test_a_posting_read_across_two_polls_makes_a_newer_order_status():
    sage = Sage()
    sage.row("OEORDH", "12", HEADER, second=10)
    sage.row("OEORDH1", "12", EXTRA, second=10)
    # the shipment posting at second 20: OEORDH1 read by one poll, OEORDH (same stamp) by the next
    shipped = only(sage.row("OEORDH1", "12", {**EXTRA, "NUMSHPMENT": 1}, second=20), ORDER_STATUS)
    done = only(sage.row("OEORDH", "12", {**HEADER, "COMPLETE": 3}, second=20), ORDER_STATUS)
    assert (shipped["status"], done["status"]) == ("partially_shipped", "complete")
    assert done["source_version"] > shipped["source_version"]


def test_the_late_row_may_even_carry_the_older_stamp():
    sage = Sage()
    sage.row("OEORDH", "12", HEADER, second=10)
    shipped = only(sage.row("OEORDH1", "12", {**EXTRA, "NUMSHPMENT": 1}, second=21), ORDER_STATUS)
    done = only(sage.row("OEORDH", "12", {**HEADER, "COMPLETE": 3}, second=20), ORDER_STATUS)
    assert done["status"] == "complete" and done["source_version"] > shipped["source_version"]
    assert done["source_version"].startswith(shipped["source_version"].partition("#")[0])   # stamp first


def test_a_redelivered_record_carries_the_same_version():
    """A crash between the changelog write and the commit: the same record at the same offset must
    not look newer (the writer answers `skipped` for what it already wrote) nor older."""
    sage = Sage()
    sage.row("OEORDH", "12", HEADER, second=10)
    event = sage.event("OEORDH1", "12", {**EXTRA, "NUMSHPMENT": 1}, second=20)
    first, again = only(sage.send(event), ORDER_STATUS), only(sage.send(event), ORDER_STATUS)
    assert again["source_version"] == first["source_version"]


def test_a_stock_transfer_read_across_two_polls_makes_a_newer_level():
    sage = Sage(pairs_with(inventory={"locations": {"1": "default", "2": "default"}}))
    sage.row("ICITEM", "WIDGET1", icitem())
    sage.row("ICILOC", "WIDGET1|1", iciloc(on_hand="8.0000"), second=30)
    before = only(sage.row("ICILOC", "WIDGET1|2", iciloc(location="2", on_hand="2.0000"), second=30), INVENTORY)
    # location 2's receipt (second 49) commits while the poll pages; location 1's issue (second 50)
    # is read first, location 2's row one poll later with the older stamp
    out = only(sage.row("ICILOC", "WIDGET1|1", iciloc(on_hand="6.0000"), second=50), INVENTORY)
    late = only(sage.row("ICILOC", "WIDGET1|2", iciloc(location="2", on_hand="7.0000"), second=49), INVENTORY)
    assert (before["quantity"], out["quantity"], late["quantity"]) == (Decimal("10.0000"), Decimal("8.0000"),
                                                                         Decimal("13.0000"))
    assert before["source_version"] < out["source_version"] < late["source_version"]


def test_a_price_stamped_before_its_item_change_makes_a_newer_product():
    sage = Sage()
    sage.row("ICITEM", "WIDGET1", icitem(), second=10)
    renamed = only(sage.row("ICITEM", "WIDGET1", icitem(desc="Widget, renamed"), second=40), PRODUCTS)
    priced = only(sage.row("ICPRICP", price_key(), icpricp(price="14.000000"), second=39), PRODUCTS)
    assert priced["price"] == Decimal("14.0000") and priced["source_version"] > renamed["source_version"]


def test_shipment_lines_read_after_their_header_make_a_newer_shipment():
    sage = Sage()
    header = only(sage.row("OESHIH", "7", {**SHIPMENT, "SHIPTRACK": "1Z999AA10123456784"}, second=60), SHIPMENTS)
    lines = only(sage.row("OESHID", "7|32", line(32, "WIDGET-1", "2.0000"), second=59), SHIPMENTS)
    assert lines["lines"] and lines["source_version"] > header["source_version"]
