"""Strict reading of a Shift4Shop webhook body: which orders, customers and products it names.

What the platform sends is not confirmed (shift4shop.md §3: "the delivered body shape ... not
confirmed"). The working assumption of the reference is used: the body is the same object(s) the
REST GET returns (shift4shop.md §2: an Order, Customer or Product object, an array of them for
orders), in the webhook's configured Format, JSON or XML (§3, `Format` "JSON"|"XML"). Ingest reads
only the ids and fetches each record itself (the API is the truth), so everything else in the body
is allowed and ignored.

Which entity an object names, from its keys (§2.1-§2.3): `OrderID` -> order (an Order also carries
`CustomerID`, so the order wins); `CustomerID` without `OrderID` -> customer; `CatalogID`, or
`SKUInfo.CatalogID` (§2.2), -> product. Ids are positive integers below 2^63 (JSON integers or
ASCII digits; XML text, surrounding whitespace ignored).

Everything else is a 400, never a 500 and never a guess: a body that is not UTF-8 JSON (repeated
keys refused, as for X-Cart: webhook_parse.py) or well-formed XML; XML with a DTD, entity
declarations or external references (defusedxml; the body comes from the internet unsigned); a
content type other than JSON/XML; an empty body or array; an object naming no entity; an id that
is not a positive integer; an XML object repeating one of the id elements (as a repeated JSON key).
One body naming one entity twice yields it once.
"""
from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as _xml_fromstring

from .webhook_parse import Refusal, id_of, loads_strict

JSON_TYPES = frozenset({"application/json"})
XML_TYPES = frozenset({"application/xml", "text/xml"})
# entity_type -> the notification's event name; the body does not say which of the platform's
# events (Order New, Order Status Change, ...; §3) fired, and the fetch is the same for all of them.
EVENTS = {"order": "order.updated", "customer": "customer.updated", "product": "product.updated"}
_ID_KEYS = ("OrderID", "CustomerID", "CatalogID")
_ABSENT = object()


def media_type(content_type: bytes | None) -> str:
    """`application/json; charset=utf-8` -> `application/json` (RFC 9110 §8.3.1: case-insensitive)."""
    if not content_type:
        return ""
    return content_type.split(b";", 1)[0].strip().decode("latin-1").lower()


def parse_shift4shop(body: bytes, content_type: bytes | None) -> list[dict]:
    """The notifications `[{"event", "entity_type", "entity_id"}, ...]` a webhook body names, in
    body order, each entity once; raises Refusal(400) for anything else (see the module docstring)."""
    kind = media_type(content_type)
    if kind in JSON_TYPES:
        objects = _json_objects(body)
    elif kind in XML_TYPES:
        objects = _xml_objects(body)
    else:
        raise Refusal(400, "Content-Type must be application/json, application/xml or text/xml")
    if not objects:
        raise Refusal(400, "body names no order, customer or product")
    notes, seen = [], set()
    for position, ids in enumerate(objects):
        entity = _entity(ids, position)
        if entity not in seen:
            seen.add(entity)
            notes.append({"event": EVENTS[entity[0]], "entity_type": entity[0], "entity_id": entity[1]})
    return notes


def _entity(ids: dict[str, object], position: int) -> tuple[str, str]:
    """(entity_type, canonical id) from one object's id fields (only those the object has; one
    present with a bad value, JSON null included, is refused rather than skipped)."""
    for key, entity_type in (("OrderID", "order"), ("CustomerID", "customer"), ("CatalogID", "product")):
        if key not in ids:
            continue
        entity_id = id_of(ids[key])
        if entity_id is None:
            raise Refusal(400, f"object {position}: {key} must be an integer 1 <= id < 2^63")
        return entity_type, entity_id
    raise Refusal(400, f"object {position} names no order, customer or product "
                       "(no OrderID, CustomerID, CatalogID or SKUInfo.CatalogID)")


def _with_catalog_id(ids: dict[str, object], nested: object, position: int) -> dict[str, object]:
    """`ids` plus the product id from `SKUInfo.CatalogID` (`nested`, _ABSENT when there is none);
    both present must agree."""
    if nested is _ABSENT:
        return ids
    if "CatalogID" in ids and id_of(ids["CatalogID"]) != id_of(nested):
        raise Refusal(400, f"object {position}: CatalogID and SKUInfo.CatalogID disagree")
    return {**ids, "CatalogID": ids.get("CatalogID", nested)}


# --- JSON -------------------------------------------------------------------------------------------

def _json_objects(body: bytes) -> list[dict[str, object]]:
    doc = loads_strict(body)
    items = doc if type(doc) is list else [doc]
    out = []
    for position, item in enumerate(items):
        if type(item) is not dict:
            raise Refusal(400, "body must be a JSON object or an array of objects")
        sku = item.get("SKUInfo")
        nested = sku.get("CatalogID", _ABSENT) if type(sku) is dict else _ABSENT
        ids = {key: item[key] for key in _ID_KEYS if key in item}
        out.append(_with_catalog_id(ids, nested, position))
    return out


# --- XML --------------------------------------------------------------------------------------------

def _xml_objects(body: bytes) -> list[dict[str, object]]:
    """A root that carries an id element is one object (`<Order><OrderID>..`); otherwise each of
    its child elements is one (`<Orders><Order><OrderID>..</Order>...</Orders>`)."""
    root = _xml_root(body)
    if _names_an_id(root):
        return [_xml_ids(root, 0)]
    return [_xml_ids(child, position) for position, child in enumerate(root)]


def _xml_root(body: bytes) -> Element:
    try:
        return _xml_fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise Refusal(400, "XML body with a DTD, entity declarations or external references is refused") from None
    except (ParseError, ValueError, RecursionError):
        raise Refusal(400, "body is not well-formed XML") from None


def _local(tag: object) -> str:
    """The element name without its namespace (`{urn:x}OrderID` -> `OrderID`); comments and
    processing instructions (callable tags) name nothing."""
    return tag.rsplit("}", 1)[-1] if type(tag) is str else ""


def _names_an_id(element: Element) -> bool:
    return any(_local(child.tag) in (*_ID_KEYS, "SKUInfo") for child in element)


def _only_child(element: Element, name: str, position: int) -> Element | None:
    found = [child for child in element if _local(child.tag) == name]
    if len(found) > 1:
        raise Refusal(400, f"object {position} repeats the element {name}")
    return found[0] if found else None


def _leaf_text(element: Element, name: str, position: int) -> str:
    if len(element):
        raise Refusal(400, f"object {position}: {name} must be a text element")
    return (element.text or "").strip()


def _xml_ids(element: Element, position: int) -> dict[str, object]:
    ids: dict[str, object] = {}
    for key in _ID_KEYS:
        child = _only_child(element, key, position)
        if child is not None:
            ids[key] = _leaf_text(child, key, position)
    sku = _only_child(element, "SKUInfo", position)
    nested_element = None if sku is None else _only_child(sku, "CatalogID", position)
    nested = _ABSENT if nested_element is None else _leaf_text(nested_element, "SKUInfo.CatalogID", position)
    return _with_catalog_id(ids, nested, position)
