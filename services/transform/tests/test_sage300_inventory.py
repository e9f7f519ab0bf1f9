"""ICILOC rows -> erp.inventory.v1: live on-hand and available as reference §2.2 gives them, Sage
locations summed or picked into store locations, deletes, positions as source versions."""
from __future__ import annotations

from decimal import Decimal

from sagebridge_common.topics import INVENTORY

from .sage300_raw import Sage, icitem, iciloc, pairs_with, values

D = Decimal


def test_live_on_hand_and_available_from_the_uncosted_columns():
    sage = Sage()
    sage.row("ICITEM", "WIDGET1", icitem())
    out = sage.row("ICILOC", "WIDGET1|1", iciloc(on_hand="10.0000", QTYRENOCST="5.0000", QTYADNOCST="-1.0000",
                                                  QTYSHNOCST="2.0000", QTYCOMMIT="3.0000"))
    [level] = values(out, INVENTORY)
    assert (level["sku"], level["location"]) == ("WIDGET-1", "default")
    assert level["on_hand"] == D("12.0000") and level["committed"] == D("3.0000")
    assert level["available"] == D("9.0000") and level["quantity"] == D("9.0000")
    assert level["erp_item"] == "WIDGET1" and level["erp_locations"] == ["1"]
    assert level["source_version"].partition("#")[0].endswith("|WIDGET1|1") and level["metadata"]["source_system"] == "sage300"
    assert [o.key for o in out if o.topic == INVENTORY] == ["WIDGET-1|default"]


def test_on_hand_choice_shows_live_on_hand():
    sage = Sage(pairs_with(inventory={"locations": {"1": "default"}, "quantity": "on_hand"}))
    sage.row("ICITEM", "WIDGET1", icitem())
    [level] = values(sage.row("ICILOC", "WIDGET1|1", iciloc(on_hand="7.0000", QTYCOMMIT="5.0000")), INVENTORY)
    assert level["quantity"] == D("7.0000") and level["available"] == D("2.0000")


def test_mapped_locations_are_summed_and_unmapped_ignored():
    sage = Sage(pairs_with(inventory={"locations": {"1": "default", "2": "default"}, "combine": "sum"}))
    sage.row("ICITEM", "WIDGET1", icitem())
    sage.row("ICILOC", "WIDGET1|1", iciloc(location="1", on_hand="10.0000"))
    [level] = values(sage.row("ICILOC", "WIDGET1|2", iciloc(location="2", on_hand="4.0000")), INVENTORY)
    assert level["quantity"] == D("14.0000") and level["erp_locations"] == ["1", "2"]
    assert level["source_version"].partition("#")[0].endswith("|WIDGET1|2")       # the newest contributing row
    assert values(sage.row("ICILOC", "WIDGET1|9", iciloc(location="9", on_hand="98.0000")), INVENTORY) == []
    # an older-position change of location 1 than the one of 2 still gives the whole sum, newest version
    [again] = values(sage.row("ICILOC", "WIDGET1|1", iciloc(location="1", on_hand="11.0000")), INVENTORY)
    assert again["quantity"] == D("15.0000") and again["source_version"] > level["source_version"]


def test_pick_takes_the_first_listed_location_that_has_the_item():
    sage = Sage(pairs_with(inventory={"locations": {"2": "default", "1": "default"}, "combine": "pick"}))
    sage.row("ICITEM", "WIDGET1", icitem())
    [only_1] = values(sage.row("ICILOC", "WIDGET1|1", iciloc(location="1", on_hand="10.0000")), INVENTORY)
    assert only_1["quantity"] == D("10.0000") and only_1["erp_locations"] == ["1"]
    [picked] = values(sage.row("ICILOC", "WIDGET1|2", iciloc(location="2", on_hand="3.0000")), INVENTORY)
    assert picked["quantity"] == D("3.0000") and picked["erp_locations"] == ["2"]


def test_a_deleted_location_row_drops_out_of_the_sum():
    sage = Sage(pairs_with(inventory={"locations": {"1": "default", "2": "default"}}))
    sage.row("ICITEM", "WIDGET1", icitem())
    sage.row("ICILOC", "WIDGET1|1", iciloc(location="1", on_hand="10.0000"))
    sage.row("ICILOC", "WIDGET1|2", iciloc(location="2", on_hand="4.0000"))
    [level] = values(sage.row("ICILOC", "WIDGET1|2", None), INVENTORY)
    assert level["quantity"] == D("10.0000") and level["erp_locations"] == ["1"]
    assert level["source_version"].partition("#")[0].endswith("|WIDGET1|2")       # the delete is the newest state


def test_stock_before_its_item_row_waits_for_the_formatted_number():
    """as_is SKUs are formatted numbers ("WIDGET-1"); ICILOC has the unformatted ITEMNO only."""
    sage = Sage()
    assert sage.row("ICILOC", "WIDGET1|1", iciloc(on_hand="6.0000")) == []
    out = sage.row("ICITEM", "WIDGET1", icitem())
    [level] = values(out, INVENTORY)
    assert level["sku"] == "WIDGET-1" and level["quantity"] == D("6.0000")
    assert values(sage.row("ICITEM", "WIDGET1", icitem(DESC="Renamed")), INVENTORY) == []   # SKU unchanged


def test_formatted_rule_maps_without_waiting_for_icitem():
    sage = Sage(pairs_with(items={"rule": "formatted", "structure": "XX-XXX/X"}))
    [level] = values(sage.row("ICILOC", "A14000|1", iciloc(itemno="A14000", on_hand="2.0000")), INVENTORY)
    assert level["sku"] == "A14000" and level["erp_item"] == "A14000"
