"""ICITEM + ICPRICP -> erp.products.v1: the whole product on either change, price by the pair's
list and type (sale inside its dates), inactive / not on web, categories, deletes, item numbers."""
from __future__ import annotations

from decimal import Decimal

import pytest

from sagebridge_common.errors import PermanentError
from sagebridge_common.topics import PRODUCTS

from .sage300_raw import DAY, Sage, icitem, icpricp, pairs_with, price_key, values

D = Decimal


def test_item_then_price_emit_the_whole_product():
    sage = Sage(pairs_with(catalogue={"categories": {"WIDG": "Widgets"}, "create_missing_categories": True}))
    [first] = values(sage.row("ICITEM", "WIDGET1", icitem()), PRODUCTS)
    assert first["sku"] == "WIDGET-1" and first["name"] == "Widget, standard" and first["price"] is None
    assert first["active"] is True and first["categories"] == ["Widgets"] and first["erp_category"] == "WIDG"
    assert first["weight"] == D("0.5000") and first["currency"] == "USD" and first["create_missing_categories"]
    out = sage.row("ICPRICP", price_key(), icpricp(price="12.345650"))
    [priced] = values(out, PRODUCTS)
    assert [o.key for o in out if o.topic == PRODUCTS] == ["WIDGET-1"]
    assert priced["price"] == D("12.3457") and priced["name"] == "Widget, standard"
    assert priced["source_version"] > first["source_version"] and priced["source_version"].partition("#")[0].endswith(price_key())


def test_price_of_another_list_or_currency_is_ignored():
    sage = Sage()
    sage.row("ICITEM", "WIDGET1", icitem())
    [p] = values(sage.row("ICPRICP", "CAD|WIDGET1|WEB|1|EA|", icpricp(CURRENCY="CAD", price="9")), PRODUCTS)
    assert p["price"] is None
    [p] = values(sage.row("ICPRICP", "USD|WIDGET1|WHSE|1|EA|", icpricp(PRICELIST="WHSE", price="8")), PRODUCTS)
    assert p["price"] is None


@pytest.mark.parametrize("start, end, expected", [
    (DAY - 1, DAY + 1, "9.0000"),        # inside the sale
    (DAY + 1, DAY + 5, "12.5000"),       # sale not started: base price
    (DAY - 5, DAY - 1, "12.5000"),       # sale over
    (0, 0, "9.0000"),                    # open-ended sale
])
def test_sale_price_inside_its_dates(start, end, expected):
    """Dates come as erp_cdc writes DECIMAL(9,0) columns: integer strings."""
    sage = Sage(pairs_with(prices={"price_list": "WEB", "price_type": "sale"}))
    sage.row("ICITEM", "WIDGET1", icitem())
    sage.row("ICPRICP", price_key(), icpricp(price="12.5"))
    [p] = values(sage.row("ICPRICP", price_key(kind=2), icpricp(price="9", kind=2, SALESTART=str(start), SALEEND=str(end))),
                 PRODUCTS)
    assert p["price"] == D(expected)


def test_base_price_type_ignores_sales():
    sage = Sage()
    sage.row("ICITEM", "WIDGET1", icitem())
    sage.row("ICPRICP", price_key(), icpricp(price="12.5"))
    [p] = values(sage.row("ICPRICP", price_key(kind=2), icpricp(price="9", kind=2)), PRODUCTS)
    assert p["price"] == D("12.5000")


@pytest.mark.parametrize("inactive, on_web, disable, active", [
    (0, 1, True, True), (1, 1, True, False), (0, 0, True, False), (0, 0, False, True), (1, 0, False, False)])
def test_active_means_not_inactive_and_allowed_on_web(inactive, on_web, disable, active):
    sage = Sage(pairs_with(catalogue={"disable_when_not_on_web": disable}))
    [p] = values(sage.row("ICITEM", "WIDGET1", icitem(INACTIVE=inactive, ALLOWONWEB=on_web)), PRODUCTS)
    assert p["active"] is active


def test_deleted_item_disables_the_product():
    sage = Sage()
    sage.row("ICITEM", "WIDGET1", icitem())
    out = sage.row("ICITEM", "WIDGET1", None)
    [p] = values(out, PRODUCTS)
    assert p["deleted"] is True and p["active"] is False and p["sku"] == "WIDGET-1"
    assert p["metadata"]["event_type"] == "product.deleted"


def test_formatted_rule_gives_the_unformatted_sku():
    sage = Sage(pairs_with(items={"rule": "formatted", "structure": "XX-XXX/X"}))
    [p] = values(sage.row("ICITEM", "A14000", icitem(itemno="A14000", fmt="A1-400/0")), PRODUCTS)
    assert p["sku"] == "A14000" and p["erp_item"] == "A14000"


def test_formatted_rule_refuses_a_number_outside_the_structure():
    sage = Sage(pairs_with(items={"rule": "formatted", "structure": "XX-XXX/X"}))
    with pytest.raises(PermanentError) as e:
        sage.row("ICITEM", "WIDGET1", icitem())
    assert e.value.reason == "item_not_in_item_structure"


def test_item_the_table_does_not_map_is_a_permanent_error_with_a_reason():
    sage = Sage(pairs_with(items={"rule": "table", "table": {"W1": "WIDGET-2"}}))
    with pytest.raises(PermanentError) as e:
        sage.row("ICITEM", "WIDGET1", icitem())
    assert e.value.reason == "item_not_mapped" and "WIDGET-1" in str(e.value)
    [p] = values(sage.row("ICITEM", "WIDGET2", icitem(itemno="WIDGET2", fmt="WIDGET-2")), PRODUCTS)
    assert p["sku"] == "W1"


def test_malformed_row_is_a_permanent_error():
    sage = Sage()
    event = sage.event("ICITEM", "WIDGET1", icitem())
    event.value["after"] = "{not json"
    with pytest.raises(PermanentError) as e:
        sage.send(event)
    assert e.value.reason == "malformed_row"


def test_the_item_description_goes_to_the_store_unless_the_pair_keeps_the_stores_own():
    [synced] = values(Sage().row("ICITEM", "WIDGET1", icitem()), PRODUCTS)
    assert synced["description"] == "Widget, standard"
    kept = Sage(pairs_with(catalogue={"sync_description": False}))
    [left] = values(kept.row("ICITEM", "WIDGET1", icitem()), PRODUCTS)
    assert left["description"] is None and left["name"] == "Widget, standard"
