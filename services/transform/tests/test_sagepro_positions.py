"""Sage Pro rows through the whole transform handler: positions gate each row (an older read after a
newer one is dropped, a redelivery passes), malformed records are PermanentError `malformed_row`
(DLQ) before any state is touched, other pairs' and unmapped tables' records are refused or skipped."""
from __future__ import annotations

from decimal import Decimal

import pytest

from sagebridge_common.errors import PermanentError
from sagebridge_common.topics import INVENTORY, ORDER_STATUS, PRODUCTS

from .test_sagepro_raw import SagePro, iciloc, icitem, position, somast, values


def test_an_older_position_after_a_newer_one_is_dropped():
    sage = SagePro()
    assert values(sage.row("ICILOC", iciloc(on_hand="5.00", committed="0.00"), second=20), INVENTORY)
    assert sage.row("ICILOC", iciloc(on_hand="9.00", committed="0.00"), second=10) == []   # an earlier page
    assert sage.row("ICILOC", iciloc(on_hand="9.00", committed="0.00"), second=20) == []   # the same read again
    [level] = values(sage.row("ICILOC", iciloc(on_hand="6.00", committed="0.00"), second=21), INVENTORY)
    assert level["quantity"] == Decimal("6.0000") and level["source_version"].partition("#")[0] == position(21, "A100|MAIN")


def test_positions_are_kept_per_row_so_another_location_is_not_gated():
    sage = SagePro()
    sage.row("ICITEM", icitem(), second=20)
    [p] = values(sage.row("ICPRIC", {"item": "A100", "pcode": "WEB", "price": "13.0000"}, second=5), PRODUCTS)
    assert p["price"] == Decimal("13.0000")


def test_an_older_order_header_does_not_bring_an_older_status_back():
    sage = SagePro()
    sage.row("SOMAST", somast(sostat="S"), second=30)
    assert sage.row("SOMAST", somast(sostat=""), second=29) == []
    assert values(sage.row("SOMAST", somast(sostat="C"), second=31), ORDER_STATUS)[0]["status"] == "complete"


def test_a_redelivery_of_the_kept_row_passes_the_gate():
    sage = SagePro()
    event = sage.event("ICILOC", iciloc())
    first, again = values(sage.send(event), INVENTORY), values(sage.send(event), INVENTORY)
    assert len(again) == 1                 # the same offset: its outputs may not have been acknowledged
    assert {k: v for k, v in again[0].items() if k != "metadata"} == {
        k: v for k, v in first[0].items() if k != "metadata"}
    assert sage.row("ICILOC", iciloc(), second=1) == []     # the same position at a new offset: dropped


@pytest.mark.parametrize("raw_over", [
    {"op": "update"},
    {"position": "17962344|A100|MAIN"},                       # not 16 digits
    {"position": "1796234401000000|A100|WH2"},                # another row's key
    {"position": ""},
    {"after": None},                                          # an upsert without after
    {"after": "{not json"},
    {"after": "[1, 2]"},
    {"key": ""},
])
def test_a_malformed_record_is_a_permanent_error(raw_over):
    sage = SagePro()
    with pytest.raises(PermanentError) as e:
        sage.send(sage.event("ICILOC", iciloc(), **raw_over))
    assert e.value.reason == "malformed_row"


@pytest.mark.parametrize("table, fields", [
    ("ICILOC", iciloc(on_hand="ten")),
    ("ICILOC", iciloc(committed=True)),
    ("ICITEM", icitem(price="12,50")),
    ("ICITEM", icitem(weight="heavy")),
    ("SOMAST", somast(tracking="1Z1", shipdate="2026-13-01")),
    ("SOMAST", somast(tracking="1Z1", shipdate=20261201)),
])
def test_a_malformed_value_is_a_permanent_error_and_leaves_the_state_alone(table, fields):
    sage = SagePro()
    with pytest.raises(PermanentError) as e:
        sage.row(table, fields, second=50)
    assert e.value.reason == "malformed_row"
    good = {"ICILOC": iciloc(), "ICITEM": icitem(), "SOMAST": somast(sostat="S", tracking="1Z1")}[table]
    assert sage.row(table, good, second=40)                  # the bad row's newer position was never kept


def test_records_of_another_erps_pair_and_unmapped_tables():
    sage = SagePro()
    with pytest.raises(PermanentError) as e:
        sage.send(sage.event("ICILOC", iciloc(), pair_id="xcart-sage300"))
    assert e.value.reason == "erp_mismatch"
    with pytest.raises(PermanentError) as e:
        sage.send(sage.event("ICILOC", iciloc(), pair_id="no-such-pair"))
    assert e.value.reason == "unknown_pair"
    line = sage.event("ICILOC", iciloc())
    line.value["table"] = "SOTRAN"                           # not a table the transform maps: skipped
    assert sage.send(line) == []
