"""ICILOC -> erp.inventory.v1: quantities as Decimal, locations mapped, summed or picked, deletes as
"the location holds nothing", SKUs by the pair's item rule backwards."""
from __future__ import annotations

from decimal import Decimal

from sagebridge_common.topics import INVENTORY

from .test_sagepro_raw import SagePro, at, iciloc, pairs_with, position, values

TWO_LOCATIONS = {"locations": {"MAIN": "default", "WH2": "default"}, "combine": "sum", "quantity": "available"}


def test_iciloc_row_becomes_the_stock_level_field_by_field():
    out = SagePro().row("ICILOC", iciloc(on_hand="10.50", committed="2.25"), second=5)
    [level] = values(out, INVENTORY)
    assert [(o.key, o.schema) for o in out] == [("A100|default", "sagebridge.v2.InventoryLevel")]
    assert (level["sku"], level["location"], level["erp_item"], level["erp_locations"]) == (
        "A100", "default", "A100", ["MAIN"])
    assert (level["on_hand"], level["committed"], level["available"], level["quantity"]) == (
        Decimal("10.5000"), Decimal("2.2500"), Decimal("8.2500"), Decimal("8.2500"))
    assert all(isinstance(level[f], Decimal) for f in ("on_hand", "committed", "available", "quantity"))
    assert str(level["quantity"]) == "8.2500"
    assert level["as_of"] == at(5) and level["source_version"].partition("#")[0] == position(5, "A100|MAIN")
    m = level["metadata"]
    assert (m["source_system"], m["pair_id"], m["event_type"], m["correlation_id"]) == (
        "sagepro", "xcart-sagepro", "inventory.changed", "c0")


def test_quantity_on_hand_when_the_pair_says_so():
    sage = SagePro(pairs_with(inventory={**TWO_LOCATIONS, "quantity": "on_hand"}))
    [level] = values(sage.row("ICILOC", iciloc(on_hand="7.00", committed="3.00")), INVENTORY)
    assert (level["quantity"], level["available"]) == (Decimal("7.0000"), Decimal("4.0000"))


def test_a_layout_without_committed_counts_nothing_committed():
    fields = iciloc(on_hand="4.00")
    del fields["committed"]
    [level] = values(SagePro().row("ICILOC", fields), INVENTORY)
    assert (level["committed"], level["quantity"]) == (Decimal("0.0000"), Decimal("4.0000"))


def test_two_locations_on_one_store_location_are_summed():
    sage = SagePro(pairs_with(inventory=TWO_LOCATIONS))
    sage.row("ICILOC", iciloc(on_hand="10.00", committed="1.00"), second=1)
    [level] = values(sage.row("ICILOC", iciloc(loctid="WH2", on_hand="4.00", committed="0.00"), second=2), INVENTORY)
    assert (level["on_hand"], level["committed"], level["quantity"]) == (
        Decimal("14.0000"), Decimal("1.0000"), Decimal("13.0000"))
    assert level["erp_locations"] == ["MAIN", "WH2"] and level["source_version"].partition("#")[0] == position(2, "A100|WH2")


def test_pick_takes_the_first_listed_location_that_has_the_item():
    sage = SagePro(pairs_with(inventory={**TWO_LOCATIONS, "combine": "pick"}))
    [level] = values(sage.row("ICILOC", iciloc(loctid="WH2", on_hand="4.00", committed="0.00")), INVENTORY)
    assert (level["quantity"], level["erp_locations"]) == (Decimal("4.0000"), ["WH2"])
    [level] = values(sage.row("ICILOC", iciloc(on_hand="10.00", committed="0.00")), INVENTORY)
    assert (level["quantity"], level["erp_locations"]) == (Decimal("10.0000"), ["MAIN"])


def test_a_location_the_pair_does_not_map_is_ignored():
    assert SagePro().row("ICILOC", iciloc(loctid="BACK")) == []


def test_a_deleted_location_holds_nothing():
    sage = SagePro()
    sage.row("ICILOC", iciloc(on_hand="10.00"), second=1)
    [level] = values(sage.row("ICILOC", iciloc(), delete=True, second=2), INVENTORY)
    assert (level["on_hand"], level["committed"], level["quantity"]) == (Decimal(0), Decimal(0), Decimal(0))
    assert level["erp_locations"] == [] and level["source_version"].partition("#")[0] == position(2, "A100|MAIN")
    assert level["as_of"] == at(2)
    assert sage.row("ICILOC", iciloc(on_hand="99.00"), second=1) == []      # an older read cannot revive it


def test_a_location_deleted_and_set_up_again_holds_its_new_stock():
    sage = SagePro()
    sage.row("ICILOC", iciloc(on_hand="10.00"), second=1)
    sage.row("ICILOC", iciloc(), delete=True, second=2)
    [level] = values(sage.row("ICILOC", iciloc(on_hand="3.00", committed="0.00"), second=3), INVENTORY)
    assert (level["quantity"], level["erp_locations"]) == (Decimal("3.0000"), ["MAIN"])


def test_a_deleted_location_drops_out_of_the_sum():
    sage = SagePro(pairs_with(inventory=TWO_LOCATIONS))
    sage.row("ICILOC", iciloc(on_hand="10.00", committed="0.00"), second=1)
    sage.row("ICILOC", iciloc(loctid="WH2", on_hand="4.00", committed="0.00"), second=2)
    [level] = values(sage.row("ICILOC", iciloc(), delete=True, second=3), INVENTORY)
    assert (level["quantity"], level["erp_locations"]) == (Decimal("4.0000"), ["WH2"])


def test_sku_is_the_item_number_through_the_pairs_rule_backwards():
    sage = SagePro(pairs_with(items={"rule": "table", "table": {"WIDGET-BLUE": "A100"}}))
    out = sage.row("ICILOC", iciloc())
    assert [(o.key, o.value["sku"], o.value["erp_item"]) for o in out] == [
        ("WIDGET-BLUE|default", "WIDGET-BLUE", "A100")]


def test_the_hubs_charge_items_are_no_store_stock():
    assert SagePro().row("ICILOC", iciloc(item="HANDLING")) == []
