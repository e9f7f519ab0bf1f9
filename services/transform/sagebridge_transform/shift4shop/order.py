"""Shift4Shop REST order (`GET /Orders/{id}`, element 0; shift4shop.md §2.1) → canonical v3 Order.

Ingest's payload is `{"order": <Order object>}` with its OrderItemList, ShipmentList and
TransactionList inside (issue 8 contract). Field choices:
- order_number = InvoiceNumberPrefix + InvoiceNumber ("AB-" + 1000), the number the merchant sees
  and the ERP reference is made of (shift4shop.md §2.1, [S6]).
- status by `OrderStatusID` through `mapping.order_status`, never by label.
- lines from OrderItemList: sku = ItemID (the variant SKU, AdvancedOptionSufix, §2.2),
  unit = ItemUnitPrice + ItemOptionPrice, quantity = ItemQuantity, location = ItemWarehouseID.
- discount = OrderDiscount; shipping = Σ ShipmentCost; tax = SalesTax + SalesTax2 + SalesTax3;
  total = OrderAmount (the recorded invariant, §2.1).
- dates OrderDate / LastUpdate are store-local without offset: read in the pair's zone.
- customer and billing address from the Billing* fields (BillingAddress, not the customer
  object's BillingAddress1); shipping address, method and (per shipment) cost from ShipmentList,
  the first shipment giving the address and method.
- coupons from PromotionList[].Coupon (v2 field, L); notes = CustomerComments.
"""
from __future__ import annotations

from decimal import Decimal

from sagebridge_common.errors import PermanentError
from sagebridge_common.pairs import PairConfig

from . import canonical
from .address import AddressParts, address, order_customer
from .values import malformed_is_permanent, money, parse_json, store_time, text


def billing_parts(o: dict) -> AddressParts:
    return AddressParts(o.get("BillingFirstName"), o.get("BillingLastName"), o.get("BillingCompany"),
                        o.get("BillingAddress"), o.get("BillingAddress2"), o.get("BillingCity"), o.get("BillingState"),
                        o.get("BillingZipCode"), o.get("BillingCountry"), o.get("BillingPhoneNumber"),
                        o.get("BillingEmail"))


def shipment_parts(s: dict) -> AddressParts:
    return AddressParts(s.get("ShipmentFirstName"), s.get("ShipmentLastName"), s.get("ShipmentCompany"),
                        s.get("ShipmentAddress"), s.get("ShipmentAddress2"), s.get("ShipmentCity"),
                        s.get("ShipmentState"), s.get("ShipmentZipCode"), s.get("ShipmentCountry"),
                        s.get("ShipmentPhone"), s.get("ShipmentEmail"))


def _line(item: dict, index: int) -> canonical.LineFacts:
    return canonical.LineFacts(
        line_id=str(item.get("ItemIndexID") if item.get("ItemIndexID") not in (None, "") else index),
        sku=item.get("ItemID"), name=item.get("ItemDescription"), quantity=item.get("ItemQuantity"),
        unit_price=item.get("ItemUnitPrice"), option_price=item.get("ItemOptionPrice"),
        warehouse=item.get("ItemWarehouseID"))


def _invoice_number(o: dict) -> str | None:
    number = text(o.get("InvoiceNumber"))
    if number is None or not number.lstrip("0"):
        return None
    return (text(o.get("InvoiceNumberPrefix")) or "") + number


def _dicts(value: object) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def parse_payload(payload: str) -> dict:
    return parse_json(payload, "order")


@malformed_is_permanent("Shift4Shop order", "invalid_order")
def to_canonical(doc: dict, pair: PairConfig, metadata: dict, source_version: str = "") -> dict:
    o = doc["order"]
    order_id = text(o.get("OrderID"))
    if order_id is None:
        raise PermanentError("Shift4Shop order without an OrderID", reason="invalid_order")
    if text(o.get("OrderStatusID")) is None:
        raise PermanentError(f"order {order_id} has no OrderStatusID", reason="invalid_order")
    where, zone = f"order {order_id}", pair.zone
    billing = billing_parts(o)
    customer = order_customer(o.get("CustomerID"), billing, pair, where)
    shipments = _dicts(o.get("ShipmentList"))
    first = shipments[0] if shipments else {}
    ordered_at = store_time(o.get("OrderDate"), zone, "OrderDate")
    updated_at = store_time(o["LastUpdate"], zone, "LastUpdate") if text(o.get("LastUpdate")) else ordered_at
    facts = canonical.OrderFacts(
        order_id=order_id, invoice_number=_invoice_number(o), status_id=o.get("OrderStatusID"),
        ordered_at=ordered_at, updated_at=updated_at, customer=customer,
        billing_address=address(billing, customer["email"], pair.mapping, f"{where} billing"),
        shipping_address=address(shipment_parts(first), customer["email"], pair.mapping, f"{where} shipping")
        if first else None,
        lines=[_line(i, n) for n, i in enumerate(_dicts(o.get("OrderItemList")), 1)],
        discount=o.get("OrderDiscount"),
        shipping=sum((money(s.get("ShipmentCost"), f"{where} ShipmentCost") for s in shipments), Decimal(0)),
        taxes=(o.get("SalesTax"), o.get("SalesTax2"), o.get("SalesTax3")), total=o.get("OrderAmount"),
        shipping_method=text(first.get("ShipmentMethodName")), payment_method=text(o.get("BillingPaymentMethod")),
        notes=text(o.get("CustomerComments")),
        coupon_codes=[c for c in (text(p.get("Coupon")) for p in _dicts(o.get("PromotionList"))) if c])
    return canonical.order(facts, pair, metadata, source_version)
