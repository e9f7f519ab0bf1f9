"""Which entities a Shift4Shop webhook body names (shift4shop.md §2 object shapes, §3 formats)."""
from __future__ import annotations

import json

import pytest

from sagebridge_ingest.webhook_parse import Refusal
from sagebridge_ingest.webhook_parse_shift4shop import media_type, parse_shift4shop


def _json(doc) -> list[tuple[str, str]]:
    return [(n["entity_type"], n["entity_id"]) for n in parse_shift4shop(json.dumps(doc).encode(), b"application/json")]


def _xml(text: str) -> list[tuple[str, str]]:
    return [(n["entity_type"], n["entity_id"]) for n in parse_shift4shop(text.encode(), b"application/xml")]


def test_entity_from_the_object_keys():
    assert _json({"OrderID": 5, "CustomerID": 7}) == [("order", "5")]       # an order names its customer too
    assert _json({"CustomerID": "7", "Email": "a@b.c"}) == [("customer", "7")]
    assert _json({"CatalogID": 3}) == [("product", "3")]
    assert _json({"SKUInfo": {"CatalogID": 3, "SKU": "W-1"}, "MFGID": ""}) == [("product", "3")]
    assert _json({"CatalogID": 3, "SKUInfo": {"CatalogID": "3"}}) == [("product", "3")]


def test_events_name_the_entity_type():
    notes = parse_shift4shop(b'[{"OrderID":1},{"CustomerID":2},{"CatalogID":3}]', b"application/json")
    assert [n["event"] for n in notes] == ["order.updated", "customer.updated", "product.updated"]


def test_an_entity_named_twice_is_one_notification():
    assert _json([{"OrderID": 5}, {"OrderID": "005"}, {"CustomerID": 5}]) == [("order", "5"), ("customer", "5")]


def test_xml_root_is_an_object_or_a_list_of_them():
    assert _xml("<Order><OrderID>5</OrderID><CustomerID>7</CustomerID></Order>") == [("order", "5")]
    assert _xml("<Orders><Order><OrderID>5</OrderID><OrderItemList><OrderItem><CatalogID>3</CatalogID></OrderItem>"
                "<OrderItem><CatalogID>4</CatalogID></OrderItem></OrderItemList></Order>"
                "<Order>\n  <OrderID>\n 6 \n</OrderID>\n</Order></Orders>") == [("order", "5"), ("order", "6")]
    assert _xml("<Products><Product><SKUInfo><CatalogID>3</CatalogID></SKUInfo></Product></Products>") == \
        [("product", "3")]
    assert _xml('<o:Customers xmlns:o="urn:x"><o:Customer><o:CustomerID>9</o:CustomerID></o:Customer></o:Customers>') \
        == [("customer", "9")]


@pytest.mark.parametrize("value", [None, 0, -1, True, 1.0, "", " 1", "1e3", "٣", 2 ** 63, "9" * 20, [], {}])
def test_an_id_that_is_not_a_positive_integer_is_refused(value):
    with pytest.raises(Refusal) as refused:
        _json({"OrderID": value, "CustomerID": 7})      # a bad OrderID never falls back to the customer
    assert refused.value.status == 400 and "OrderID" in str(refused.value)


@pytest.mark.parametrize("doc", [
    {"SKUInfo": {"CatalogID": 3}, "CatalogID": 4},
    {"SKUInfo": "3"},
    "OrderID",
    [1, 2],
    [[{"OrderID": 1}]],
])
def test_other_json_shapes_are_refused(doc):
    with pytest.raises(Refusal) as refused:
        _json(doc)
    assert refused.value.status == 400


@pytest.mark.parametrize("text", [
    "<Order><OrderID><x>5</x></OrderID></Order>",                          # an id must be text
    "<Order><SKUInfo><CatalogID>3</CatalogID><CatalogID>4</CatalogID></SKUInfo></Order>",
    "<Orders>5</Orders>",
    "<Orders><Order>5</Order></Orders>",
    "<Orders/>",
    "not xml",
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><Order><OrderID>&lol2;'
    '</OrderID></Order>',
    '<?xml version="1.0"?><!DOCTYPE Order><Order><OrderID>5</OrderID></Order>',     # any DTD, even harmless
    '<?xml version="1.0"?><!DOCTYPE Order [<!ENTITY x SYSTEM "file:///etc/passwd">]><Order><OrderID>&x;</OrderID>'
    '</Order>',
])
def test_other_xml_is_refused(text):
    with pytest.raises(Refusal) as refused:
        _xml(text)
    assert refused.value.status == 400


def test_media_type():
    assert media_type(b"Application/JSON; charset=UTF-8") == "application/json"
    assert media_type(None) == "" and media_type(b"") == ""
    with pytest.raises(Refusal):
        parse_shift4shop(b'{"OrderID":1}', b"application/x-www-form-urlencoded")
