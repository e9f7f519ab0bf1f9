"""OESHIH + OESHID -> erp.shipments.v1: emitted once the header is known with tracking or lines,
keyed by the store order number the reference carries; other pairs' shipments dropped."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from sagebridge_common.topics import SHIPMENTS

from .sage300_raw import Sage, pairs_with, values

HEADER = {"SHIUNIQ": "7", "SHINUMBER": "SH0000000007", "ORDUNIQ": "12", "ORDNUMBER": "ORD000000000012",
          "CUSTOMER": "WEBCUST", "PONUMBER": "1051", "REFERENCE": "XC1-1051", "SHIDATE": "20241105",
          "SHIPVIA": "UPSGRD", "VIADESC": "UPS Ground", "SHIPTRACK": "", "COMPLETE": 1}


def line(linenum: int, item: str, qty: str) -> dict:
    return {"SHIUNIQ": "7", "LINENUM": str(linenum), "ITEM": item, "LOCATION": "1", "QTYSHIPPED": qty, "SHIUNIT": "EA",
            "ORDNUMBER": "ORD000000000012", "SHIPTRACK": ""}


def test_shipment_with_tracking_and_lines():
    sage = Sage()
    assert sage.row("OESHIH", "7", HEADER) == []                  # no tracking, no lines yet
    [s] = values(sage.row("OESHID", "7|32", line(32, "WIDGET-1", "2.0000")), SHIPMENTS)
    assert s["lines"] == [{"sku": "WIDGET-1", "quantity": Decimal("2.0000")}] and s["tracking_number"] is None
    sage.row("OESHID", "7|64", line(64, "A1-105/0", "1.0000"))
    out = sage.row("OESHIH", "7", {**HEADER, "SHIPTRACK": "1Z999AA10123456784"})
    [s] = values(out, SHIPMENTS)
    assert [o.key for o in out if o.topic == SHIPMENTS] == ["1051"]
    assert s["order_id"] == "1051" and s["order_number"] == "ORD000000000012" and s["shipment_id"] == "SH0000000007"
    assert s["tracking_number"] == "1Z999AA10123456784" and s["carrier"] == "UPS Ground" and s["service"] == "UPSGRD"
    assert [x["sku"] for x in s["lines"]] == ["WIDGET-1", "A1-105/0"]
    assert s["shipped_at"] == datetime(2024, 11, 5, tzinfo=timezone.utc) and s["reference"] == "XC1-1051"
    assert s["source_version"].partition("#")[0].endswith("|7") and s["deleted"] is False


def test_lines_before_the_header_wait_for_it():
    sage = Sage()
    assert sage.row("OESHID", "7|32", line(32, "WIDGET-1", "2.0000")) == []
    [s] = values(sage.row("OESHIH", "7", HEADER), SHIPMENTS)
    assert [x["sku"] for x in s["lines"]] == ["WIDGET-1"]


def test_carrier_falls_back_to_the_ship_via_code():
    [s] = values(Sage().row("OESHIH", "7", {**HEADER, "VIADESC": "", "SHIPTRACK": "T1"}), SHIPMENTS)
    assert s["carrier"] == "UPSGRD"


def test_shipment_of_another_pairs_order_is_dropped():
    sage = Sage()
    assert sage.row("OESHIH", "7", {**HEADER, "REFERENCE": "XC2-1051", "SHIPTRACK": "T1"}) == []
    assert sage.row("OESHIH", "8", {**HEADER, "SHIUNIQ": "8", "REFERENCE": "", "SHIPTRACK": "T1"}) == []


def test_line_skus_through_the_formatted_rule():
    sage = Sage(pairs_with(items={"rule": "formatted", "structure": "XX-XXX/X"}))
    sage.row("OESHIH", "7", HEADER)
    [s] = values(sage.row("OESHID", "7|32", line(32, "A1-400/0", "3")), SHIPMENTS)
    assert s["lines"] == [{"sku": "A14000", "quantity": Decimal("3")}]
