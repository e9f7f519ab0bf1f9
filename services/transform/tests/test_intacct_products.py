"""ITEM -> erp.products.v1 and ITEMWAREHOUSEINFO -> erp.inventory.v1, field by field: price,
status, description, product line categories, the items rule backwards, warehouses summed or
picked into store locations, unmapped warehouses ignored, stale and equal positions dropped."""
from __future__ import annotations

from decimal import Decimal

import pytest

from sagebridge_common.errors import PermanentError
from sagebridge_common.topics import INVENTORY, PRODUCTS

from .test_intacct_raw import T0, Intacct, item, pairs_with, stock, values

D = Decimal


def test_an_item_becomes_the_whole_product():
    intacct = Intacct()
    out = intacct.row("ITEM", item(), recordno=7)
    [p] = values(out, PRODUCTS)
    assert [o.key for o in out] == ["WIDGET-1"] and out[0].schema == "sagebridge.v2.Product"
    assert (p["sku"], p["name"], p["description"]) == ("WIDGET-1", "Widget", "A standard widget.")
    assert p["price"] == D("12.5000") and p["currency"] == "USD" and p["active"] is True
    assert p["weight"] is None and p["categories"] == [] and p["erp_item"] == "WIDGET-1"
    assert p["erp_category"] is None and p["create_missing_categories"] is False and p["deleted"] is False
    assert p["source_version"].partition("#")[0] == f"{int(T0.timestamp()) + 1:012d}|000000000007"
    assert p["metadata"]["source_system"] == "intacct" and p["metadata"]["pair_id"] == "xcart-intacct"
    assert p["metadata"]["event_type"] == "product.changed" and p["metadata"]["correlation_id"] == "c0"


def test_inactive_blank_price_and_no_description_sync():
    intacct = Intacct(pairs_with(catalogue={"sync_description": False}))
    [p] = values(intacct.row("ITEM", item(STATUS="inactive", BASEPRICE="")), PRODUCTS)
    assert p["active"] is False and p["price"] is None and p["description"] is None


def test_a_blank_extended_description_is_null_and_the_name_falls_back_to_the_sku():
    [p] = values(Intacct().row("ITEM", item(EXTENDED_DESCRIPTION="", NAME="")), PRODUCTS)
    assert p["description"] is None and p["name"] == "WIDGET-1"


def test_product_line_maps_to_the_store_category():
    intacct = Intacct(pairs_with(catalogue={"categories": {"PL-TOOLS": "Tools"}, "create_missing_categories": True}))
    [p] = values(intacct.row("ITEM", item(PRODUCTLINEID="PL-TOOLS")), PRODUCTS)
    assert p["categories"] == ["Tools"] and p["erp_category"] == "PL-TOOLS" and p["create_missing_categories"]
    [q] = values(intacct.row("ITEM", item(PRODUCTLINEID="PL-OTHER")), PRODUCTS)
    assert q["categories"] == [] and q["erp_category"] == "PL-OTHER"


def test_the_items_rule_is_read_backwards():
    intacct = Intacct(pairs_with(items={"rule": "table", "table": {"SKU-A": "ITEM-1"}}))
    [p] = values(intacct.row("ITEM", item("ITEM-1")), PRODUCTS)
    assert p["sku"] == "SKU-A" and p["erp_item"] == "ITEM-1"
    [level] = values(intacct.row("ITEMWAREHOUSEINFO", stock("ITEM-1")), INVENTORY)
    assert level["sku"] == "SKU-A"
    with pytest.raises(PermanentError) as e:
        intacct.row("ITEM", item("OTHER-9"))
    assert e.value.reason == "item_not_mapped"


def test_a_price_text_that_is_no_number_is_the_records_fault():
    with pytest.raises(PermanentError) as e:
        Intacct().row("ITEM", item(BASEPRICE="twelve"))
    assert e.value.reason == "malformed_row"


def test_stock_available_is_on_hand_minus_on_hold():
    out = Intacct().row("ITEMWAREHOUSEINFO", stock(on_hand="10", on_hold="3"), recordno=4)
    [level] = values(out, INVENTORY)
    assert [o.key for o in out] == ["WIDGET-1|default"] and out[0].schema == "sagebridge.v2.InventoryLevel"
    assert (level["sku"], level["location"], level["erp_item"]) == ("WIDGET-1", "default", "WIDGET-1")
    assert level["on_hand"] == D("10.0000") and level["committed"] == D("3.0000")
    assert level["available"] == D("7.0000") and level["quantity"] == D("7.0000")
    assert level["erp_locations"] == ["WH1"] and level["as_of"] == T0.replace(second=1)
    assert level["source_version"].partition("#")[0] == f"{int(T0.timestamp()) + 1:012d}|000000000004"


def test_on_hand_choice_and_no_on_hold_field():
    intacct = Intacct(pairs_with(inventory={"locations": {"WH1": "default"}, "quantity": "on_hand"}))
    [level] = values(intacct.row("ITEMWAREHOUSEINFO", stock(on_hand="7", on_hold="5")), INVENTORY)
    assert level["quantity"] == D("7.0000") and level["available"] == D("2.0000")
    no_hold = Intacct(pairs_with(erp={"on_hold_field": None}))
    [level] = values(no_hold.row("ITEMWAREHOUSEINFO", stock(on_hand="7", on_hold="5")), INVENTORY)
    assert level["committed"] == D("0.0000") and level["quantity"] == D("7.0000")


def test_mapped_warehouses_are_summed_and_an_unmapped_one_is_ignored():
    intacct = Intacct(pairs_with(inventory={"locations": {"WH1": "default", "WH2": "default"}, "combine": "sum"}))
    intacct.row("ITEMWAREHOUSEINFO", stock(warehouse="WH1", on_hand="10"), recordno=1)
    [level] = values(intacct.row("ITEMWAREHOUSEINFO", stock(warehouse="WH2", on_hand="4", on_hold="1"), recordno=2),
                     INVENTORY)
    assert level["quantity"] == D("13.0000") and level["on_hand"] == D("14.0000")
    assert level["erp_locations"] == ["WH1", "WH2"] and level["source_version"].partition("#")[0].endswith("|000000000002")
    assert intacct.row("ITEMWAREHOUSEINFO", stock(warehouse="WH9", on_hand="98"), recordno=3) == []
    [again] = values(intacct.row("ITEMWAREHOUSEINFO", stock(warehouse="WH1", on_hand="11"), recordno=1), INVENTORY)
    assert again["quantity"] == D("14.0000") and again["source_version"] > level["source_version"]


def test_pick_takes_the_first_listed_warehouse_that_has_the_item():
    intacct = Intacct(pairs_with(inventory={"locations": {"WH2": "default", "WH1": "default"}, "combine": "pick"}))
    [only_1] = values(intacct.row("ITEMWAREHOUSEINFO", stock(warehouse="WH1", on_hand="10"), recordno=1), INVENTORY)
    assert only_1["quantity"] == D("10.0000") and only_1["erp_locations"] == ["WH1"]
    [picked] = values(intacct.row("ITEMWAREHOUSEINFO", stock(warehouse="WH2", on_hand="3"), recordno=2), INVENTORY)
    assert picked["quantity"] == D("3.0000") and picked["erp_locations"] == ["WH2"]
    [still] = values(intacct.row("ITEMWAREHOUSEINFO", stock(warehouse="WH1", on_hand="50"), recordno=1), INVENTORY)
    assert still["quantity"] == D("3.0000") and still["erp_locations"] == ["WH2"]


def test_warehouses_feed_their_own_store_locations():
    intacct = Intacct(pairs_with(inventory={"locations": {"WH1": "east", "WH2": "west"}}))
    intacct.row("ITEMWAREHOUSEINFO", stock(warehouse="WH1", on_hand="10"), recordno=1)
    out = intacct.row("ITEMWAREHOUSEINFO", stock(warehouse="WH2", on_hand="4"), recordno=2)
    assert [(o.key, o.value["quantity"]) for o in out] == [("WIDGET-1|west", D("4.0000"))]


def test_an_older_or_equal_position_is_dropped_but_a_redelivery_passes():
    intacct = Intacct()
    event = intacct.event("ITEM", item(BASEPRICE="20.00"), second=10)
    assert values(intacct.send(event), PRODUCTS)[0]["price"] == D("20.0000")
    assert intacct.row("ITEM", item(BASEPRICE="19.00"), second=9) == []          # older: a late re-read
    assert intacct.row("ITEM", item(BASEPRICE="20.00"), second=10) == []         # equal: the overlap re-read
    assert values(intacct.send(event), PRODUCTS)[0]["price"] == D("20.0000")     # same offset: redelivery
    assert intacct.row("ITEMWAREHOUSEINFO", stock(on_hand="5"), second=10, recordno=2) != []  # its own record


def test_a_record_with_a_sage_300_position_is_malformed():
    intacct = Intacct()
    event = intacct.event("ITEM", item())
    event.value["position"] = "0002024110510000000|X"
    with pytest.raises(PermanentError) as e:
        intacct.send(event)
    assert e.value.reason == "malformed_row"


def test_the_pairs_charge_items_are_not_store_products():
    """FRT (shipping line) changes in Intacct never reach the store; an ordinary item still does."""
    intacct = Intacct()
    assert intacct.row("ITEM", item("FRT", ITEMTYPE="Non-Inventory"), recordno=1) == []
    assert intacct.row("ITEMWAREHOUSEINFO", stock("FRT"), recordno=2) == []
    [p] = values(intacct.row("ITEM", item("WIDGET-1"), recordno=3), PRODUCTS)
    assert p["sku"] == "WIDGET-1"
