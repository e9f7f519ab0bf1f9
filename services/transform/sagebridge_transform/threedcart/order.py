"""3dcart SOAP order (`getOrder` result, `GetOrdersResponse/Order`; shift4shop.md §4 and the recorded
mock Menes1337/3dcart-api-php-client tests/Unit/Mocks/Api/Soap/ClientTest/getOrders/response.xml)
→ canonical v3 Order, through the same builder as the REST order (`shift4shop.canonical`).

Ingest's payload is `{"order": <the Order element as a dict>, "status_id": "<StatusId from
getOrderStatus>"}` (issue 8 contract): the XML has only the editable status text, so the status is
mapped by that id. Field choices:
- order_number = InvoiceNumber, already the full "AB-1000".
- lines from ShippingInformation.OrderItems.Item: sku = ProductID (the merchant SKU, §4),
  unit = UnitPrice + OptionPrice, quantity = Quantity, location = WarehouseID; line ids are the
  item's position (the SOAP item has no key of its own).
- discount = Discount; tax = Tax + Tax2 + Tax3; total = Total, all order-level, with thousands
  separators parsed. Shipping = the ORDER-level `Shipping`: it is the amount the order total is
  made of, beside the other order-level amounts; each `Shipment/Shipping` is that shipment's share
  (the mock's order 1 shows 5.99 on the order and 3.56 on its one shipment, so they are not
  interchangeable and only the order-level one belongs in the order's arithmetic).
- dates: `Date` ("6/22/2009") + `Time` ("12:44:37 PM", whitespace tolerated), store-local;
  LastUpdate may be date-only: then the later of the order time and that store day's start.
- customer and billing address from BillingAddress{...}; shipping address and method from the
  first Shipment; notes = Comments.OrderComment; coupons = Promotions.Promotion[].Code.
"""
from __future__ import annotations

from sagebridge_common.errors import PermanentError
from sagebridge_common.pairs import PairConfig

from ..shift4shop import canonical
from ..shift4shop.address import AddressParts, address, order_customer
from ..shift4shop.values import (children, is_date_only, malformed_is_permanent, parse_json, store_day_start,
                                 store_time, text)


def parts(a: object) -> AddressParts:
    """A SOAP address element (BillingAddress, Shipment, ShippingAddress) as address parts."""
    a = a if isinstance(a, dict) else {}
    return AddressParts(a.get("FirstName"), a.get("LastName"), a.get("Company"), a.get("Address"),
                        a.get("Address2"), a.get("City"), a.get("StateCode"), a.get("ZipCode"),
                        a.get("CountryCode"), a.get("Phone"), a.get("Email"))


def _line(item: dict, index: int) -> canonical.LineFacts:
    return canonical.LineFacts(line_id=str(index), sku=item.get("ProductID"), name=item.get("ProductName"),
                               quantity=item.get("Quantity"), unit_price=item.get("UnitPrice"),
                               option_price=item.get("OptionPrice"), warehouse=item.get("WarehouseID"))


def _times(o: dict, pair: PairConfig) -> tuple:
    date, clock = text(o.get("Date")), text(o.get("Time"))
    ordered_at = store_time(f"{date} {clock}" if date and clock else date, pair.zone, "Date/Time")
    last = text(o.get("LastUpdate"))
    if not last:
        return ordered_at, ordered_at
    updated = store_time(last, pair.zone, "LastUpdate")
    if is_date_only(last):
        updated = max(ordered_at, store_day_start(updated, pair.zone))
    return ordered_at, updated


def parse_payload(payload: str) -> dict:
    return parse_json(payload, "order")


@malformed_is_permanent("3dcart SOAP order", "invalid_order")
def to_canonical(doc: dict, pair: PairConfig, metadata: dict, source_version: str = "") -> dict:
    o = doc["order"]
    order_id = text(o.get("OrderID"))
    if order_id is None:
        raise PermanentError("3dcart order without an OrderID", reason="invalid_order")
    status_id = text(doc.get("status_id"))
    if status_id is None:
        raise PermanentError(f"order {order_id}: the raw record has no status_id (getOrderStatus)",
                             reason="malformed_payload")
    where = f"order {order_id}"
    billing = parts(o.get("BillingAddress"))
    customer = order_customer(o.get("CustomerID"), billing, pair, where)
    info = o.get("ShippingInformation")
    shipments = children(info, "Shipment")
    first = shipments[0] if shipments else None
    items = children(info.get("OrderItems") if isinstance(info, dict) else None, "Item")
    comments = o.get("Comments") if isinstance(o.get("Comments"), dict) else {}
    ordered_at, updated_at = _times(o, pair)
    facts = canonical.OrderFacts(
        order_id=order_id, invoice_number=text(o.get("InvoiceNumber")), status_id=status_id,
        ordered_at=ordered_at, updated_at=updated_at, customer=customer,
        billing_address=address(billing, customer["email"], pair.mapping, f"{where} billing"),
        shipping_address=address(parts(first), customer["email"], pair.mapping, f"{where} shipping")
        if first else None,
        lines=[_line(i, n) for n, i in enumerate(items, 1)], discount=o.get("Discount"), shipping=o.get("Shipping"),
        taxes=(o.get("Tax"), o.get("Tax2"), o.get("Tax3")), total=o.get("Total"),
        shipping_method=text(first.get("Method")) if first else None, payment_method=text(o.get("PaymentMethod")),
        notes=text(comments.get("OrderComment")),
        coupon_codes=[c for c in (text(p.get("Code")) for p in children(o.get("Promotions"), "Promotion")) if c])
    return canonical.order(facts, pair, metadata, source_version)
