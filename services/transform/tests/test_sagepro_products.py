"""ICITEM + ICPRIC -> erp.products.v1: the product field by field, the price list's price else the
item's, inactive status, categories, and an item delete disabling the product."""
from __future__ import annotations

from decimal import Decimal

from sagebridge_common.topics import PRODUCTS

from .test_sagepro_raw import SagePro, icitem, icpric, pairs_with, position, values


def test_icitem_row_becomes_the_product_field_by_field():
    sage = SagePro(pairs_with(catalogue={"categories": {"WIDG": "Widgets"}, "create_missing_categories": True}))
    out = sage.row("ICITEM", icitem(), second=3)
    [p] = values(out, PRODUCTS)
    assert [(o.key, o.schema) for o in out] == [("A100", "sagebridge.v2.Product")]
    assert (p["sku"], p["name"], p["description"], p["currency"], p["active"], p["deleted"]) == (
        "A100", "Widget, standard", "Widget, standard", "USD", True, False)
    assert (p["price"], p["weight"]) == (Decimal("11.0000"), Decimal("0.5000"))
    assert isinstance(p["price"], Decimal) and str(p["price"]) == "11.0000"
    assert (p["categories"], p["erp_category"], p["erp_item"], p["create_missing_categories"]) == (
        ["Widgets"], "WIDG", "A100", True)
    assert p["source_version"].partition("#")[0] == position(3, "A100")
    assert (p["metadata"]["source_system"], p["metadata"]["event_type"]) == ("sagepro", "product.changed")


def test_the_price_lists_row_wins_over_the_item_price():
    sage = SagePro()
    sage.row("ICITEM", icitem(), second=1)
    [p] = values(sage.row("ICPRIC", icpric(price="12.5000"), second=2), PRODUCTS)
    assert p["price"] == Decimal("12.5000") and p["name"] == "Widget, standard"
    assert p["source_version"].partition("#")[0] == position(2, "A100|WEB")
    [p] = values(sage.row("ICITEM", icitem(descrip="Widget, blue"), second=3), PRODUCTS)
    assert (p["price"], p["name"]) == (Decimal("12.5000"), "Widget, blue")


def test_another_price_code_is_not_the_stores_price():
    sage = SagePro()
    sage.row("ICITEM", icitem())
    [p] = values(sage.row("ICPRIC", icpric(pcode="RETAIL", price="15.0000")), PRODUCTS)
    assert p["price"] == Decimal("11.0000")


def test_a_deleted_price_row_falls_back_to_the_item_price():
    sage = SagePro()
    sage.row("ICITEM", icitem(), second=1)
    sage.row("ICPRIC", icpric(), second=2)
    [p] = values(sage.row("ICPRIC", icpric(), delete=True, second=3), PRODUCTS)
    assert p["price"] == Decimal("11.0000") and p["source_version"].partition("#")[0] == position(3, "A100|WEB")


def test_a_price_before_its_item_waits_for_the_item():
    sage = SagePro()
    assert sage.row("ICPRIC", icpric(price="9.9900")) == []
    [p] = values(sage.row("ICITEM", icitem()), PRODUCTS)
    assert p["price"] == Decimal("9.9900")


def test_no_price_field_leaves_the_store_price_alone():
    fields = icitem()
    del fields["price"], fields["weight"]
    [p] = values(SagePro().row("ICITEM", fields), PRODUCTS)
    assert (p["price"], p["weight"]) == (None, None)


def test_status_i_disables_the_product():
    [p] = values(SagePro().row("ICITEM", icitem(status="I")), PRODUCTS)
    assert p["active"] is False and p["deleted"] is False
    [p] = values(SagePro().row("ICITEM", icitem(status="")), PRODUCTS)
    assert p["active"] is True


def test_description_left_alone_when_not_synced_and_unmapped_category_has_none():
    [p] = values(SagePro(pairs_with(catalogue={"sync_description": False})).row("ICITEM", icitem()), PRODUCTS)
    assert (p["description"], p["name"], p["categories"], p["erp_category"]) == (None, "Widget, standard", [], "WIDG")


def test_a_deleted_item_disables_the_product_with_its_last_values():
    sage = SagePro()
    sage.row("ICITEM", icitem(), second=1)
    [p] = values(sage.row("ICITEM", {"item": "A100"}, delete=True, second=2), PRODUCTS)
    assert (p["deleted"], p["active"], p["name"], p["price"]) == (True, False, "Widget, standard", Decimal("11.0000"))
    assert p["metadata"]["event_type"] == "product.deleted" and p["source_version"].partition("#")[0] == position(2, "A100")
    assert sage.row("ICITEM", icitem(), second=1) == []                      # an older read cannot revive it


def test_sku_by_the_pairs_rule_and_charge_items_are_no_products():
    sage = SagePro(pairs_with(items={"rule": "table", "table": {"WIDGET-BLUE": "A100"}}))
    [p] = values(sage.row("ICITEM", icitem()), PRODUCTS)
    assert (p["sku"], p["erp_item"]) == ("WIDGET-BLUE", "A100")
    assert SagePro().row("ICITEM", icitem(item="MISC")) == []
