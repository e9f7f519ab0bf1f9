"""OEORDH + OEORDH1 -> erp.order_status.v1: the derived status (quote, on hold, complete, partially
shipped, open), the store codes from the pair, emitted only when the status changes."""
from __future__ import annotations

import pytest

from sagebridge_common.topics import ORDER_STATUS

from .sage300_raw import Sage, pairs_with, values

HEADER = {"ORDUNIQ": "12", "ORDNUMBER": "ORD000000000012", "CUSTOMER": "WEBCUST", "REFERENCE": "XC1-1051",
          "PONUMBER": "1051", "TYPE": 1, "ONHOLD": 0, "COMPLETE": 1, "LASTINVNUM": "", "ORDDATE": 20241105,
          "SHIPVIA": "UPSGRD", "VIADESC": "UPS Ground"}
EXTRA = {"ORDUNIQ": "12", "SHIPTRACK": "", "NUMSHPMENT": 0, "LASTSHINUM": "", "HOLDREASON": ""}


def statuses(out):
    return [(s["status"], s["shipping_status"], s["payment_status"]) for s in values(out, ORDER_STATUS)]


@pytest.mark.parametrize("header, extra, status", [
    ({}, {}, "open"),
    ({"ONHOLD": 1}, {"HOLDREASON": "Credit check"}, "on_hold"),
    ({"COMPLETE": 3}, {}, "complete"),
    ({"COMPLETE": 5}, {"NUMSHPMENT": 2}, "complete"),
    ({"COMPLETE": 2}, {"NUMSHPMENT": 1}, "partially_shipped"),
    ({"ONHOLD": 1, "COMPLETE": 4}, {}, "on_hold"),
])
def test_status_derivation(header, extra, status):
    sage = Sage()
    sage.row("OEORDH1", "12", {**EXTRA, **extra})
    [s] = values(sage.row("OEORDH", "12", {**HEADER, **header}), ORDER_STATUS)
    assert s["status"] == status and s["order_id"] == "1051" and s["order_number"] == "ORD000000000012"
    assert s["hold_reason"] == (extra.get("HOLDREASON") if status == "on_hold" else None)
    assert s["reference"] == "XC1-1051" and s["source_version"].partition("#")[0].endswith("|12")


def test_quote_is_never_emitted():
    assert Sage().row("OEORDH", "12", {**HEADER, "TYPE": 4, "COMPLETE": 3}) == []


def test_emitted_only_when_the_status_changes_with_the_pairs_codes():
    sage = Sage(pairs_with(erp_order_status={"complete": {"shipping_status": "D", "payment_status": "P"},
                                             "partially_shipped": {"shipping_status": "P"}}))
    assert statuses(sage.row("OEORDH", "12", HEADER)) == [("open", None, None)]
    assert sage.row("OEORDH", "12", {**HEADER, "LASTINVNUM": "IN1"}) == []          # same status: nothing
    assert statuses(sage.row("OEORDH1", "12", {**EXTRA, "NUMSHPMENT": 1})) == [("partially_shipped", "P", None)]
    assert statuses(sage.row("OEORDH", "12", {**HEADER, "COMPLETE": 4})) == [("complete", "D", "P")]
    assert sage.row("OEORDH1", "12", {**EXTRA, "NUMSHPMENT": 2}) == []


def test_orders_of_other_references_are_dropped():
    assert Sage().row("OEORDH", "12", {**HEADER, "REFERENCE": "PHONE ORDER"}) == []


def test_redelivered_record_emits_its_status_again():
    """A crash after the changelog write, before the commit: the same record at the same offset."""
    sage = Sage()
    event = sage.event("OEORDH", "12", {**HEADER, "COMPLETE": 3})
    assert statuses(sage.send(event)) == [("complete", "S", None)]
    assert statuses(sage.send(event)) == [("complete", "S", None)]


def test_a_store_order_status_id_comes_from_the_pairs_table():
    """A Shift4Shop/3dcart pair maps ERP statuses to the store's one status id (issue8.md's table)."""
    sage = Sage(pairs_with(erp_order_status={"shipped": {"order_status": "4"}, "complete": {"order_status": "4"},
                                             "partially_shipped": {"order_status": "3"},
                                             "on_hold": {"order_status": "6"}, "open": {}}))
    out = sage.row("OEORDH", "12", HEADER)
    [open_] = values(out, ORDER_STATUS)
    assert out[0].schema == "sagebridge.v3.OrderStatus" and open_["order_status"] is None
    codes = lambda out: [(s["status"], s["order_status"], s["shipping_status"]) for s in values(out, ORDER_STATUS)]
    assert codes(sage.row("OEORDH1", "12", {**EXTRA, "NUMSHPMENT": 1})) == [("partially_shipped", "3", None)]
    assert codes(sage.row("OEORDH", "12", {**HEADER, "ONHOLD": 1})) == [("on_hold", "6", None)]
    assert codes(sage.row("OEORDH", "12", {**HEADER, "COMPLETE": 3})) == [("complete", "4", None)]


def test_an_xcart_pair_sets_no_store_order_status():
    assert [s["order_status"] for s in values(Sage().row("OEORDH", "12", {**HEADER, "COMPLETE": 3}), ORDER_STATUS)] \
        == [None]
