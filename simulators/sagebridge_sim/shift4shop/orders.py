"""Order records in the shape of Shift4Shop's REST Order (shift4shop.md §2.1).

A record is a dict with the wire's keys in the API's order; amounts are Decimal, times UTC epoch
seconds (rendered store-local by `render`). Fields and their order follow §2.1 including the v2
additions; `OrderAmount` always satisfies the recorded invariant (§2.1, H)::

    OrderAmount = Σ (ItemUnitPrice + ItemOptionPrice) · ItemQuantity − OrderDiscount
                  + Σ ShipmentCost + SalesTax + SalesTax2 + SalesTax3

Write models: which Order and Shipment fields a PUT may change (§1.4 "OrderStatusID is a writable
field of the Order PUT model"); everything else in a body is ignored, as ASP.NET's binder ignores
read-only and unknown members (`values`).
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from .values import DEC, INT, STR, Coercer, FieldError

ZERO = Decimal("0.00")
TIME_KEYS = {"OrderDate", "LastUpdate", "ItemDateAdded", "TransactionDateTime", "ShipmentLastUpdate",
             "DateCreated", "DateUpdated"}

ORDER_WRITABLE: dict[str, Coercer] = {
    "OrderStatusID": INT, "SalesPerson": STR, "AlternateOrderID": STR, "CustomerComments": STR,
    "InternalComments": STR, "ExternalComments": STR, "Referer": STR,
    **{f"Billing{n}": STR for n in ("FirstName", "LastName", "Company", "Address", "Address2", "City", "State",
                                     "ZipCode", "Country", "PhoneNumber", "Email")},
}

SHIPMENT_WRITABLE: dict[str, Coercer] = {
    "ShipmentBoxes": INT, "ShipmentInternalComment": STR, "ShipmentOrderStatus": INT, "ShipmentAddress": STR,
    "ShipmentAddress2": STR, "ShipmentAlias": STR, "ShipmentCity": STR, "ShipmentCompany": STR,
    "ShipmentCost": DEC, "ShipmentCountry": STR, "ShipmentEmail": STR, "ShipmentFirstName": STR,
    "ShipmentLastName": STR, "ShipmentMethodID": INT, "ShipmentMethodName": STR, "ShipmentShippedDate": STR,
    "ShipmentPhone": STR, "ShipmentState": STR, "ShipmentZipCode": STR, "ShipmentTax": DEC,
    "ShipmentWeight": DEC, "ShipmentTrackingCode": STR, "ShipmentUserID": STR, "ShipmentNumber": INT,
    "ShipmentAddressTypeID": INT,
}


def check_shipped_date(value: str) -> None:
    """`ShipmentShippedDate` is a `m/d/yyyy` string (§2.1); "" clears it. Anything else is refused
    (400): the simulator's assumption, the reference records only that format."""
    if value == "":
        return
    try:
        datetime.strptime(value.strip(), "%m/%d/%Y")
    except ValueError:
        raise FieldError("ShipmentShippedDate", value) from None


def order_amount(o: dict[str, Any]) -> Decimal:
    items = sum(((i["ItemUnitPrice"] + i["ItemOptionPrice"]) * i["ItemQuantity"] for i in o["OrderItemList"]), ZERO)
    shipping = sum((s["ShipmentCost"] for s in o["ShipmentList"]), ZERO)
    total = items - o["OrderDiscount"] + shipping + o["SalesTax"] + o["SalesTax2"] + o["SalesTax3"]
    return total.quantize(Decimal("0.01"))


def new_order(*, order_id: int, prefix: str, number: int, now: float, spec: dict[str, Any]) -> dict[str, Any]:
    """An order as checkout creates it. `spec` (from `/_sim/orders`): customer_id, billing{...},
    payment_method, status_id, items[...] (already resolved to catalogue lines), shipment{...},
    discount, tax, tax2, tax3, questions, promotions, comments."""
    b = spec["billing"]
    o: dict[str, Any] = {
        "InvoiceNumberPrefix": prefix, "InvoiceNumber": number, "OrderID": order_id,
        "CustomerID": spec.get("customer_id", 0), "OrderDate": now, "OrderStatusID": spec.get("status_id", 1),
        "LastUpdate": now, "UserID": "", "SalesPerson": "", "ContinueURL": "", "AlternateOrderID": "",
        "OrderType": "", "PaymentTokenID": 0,
        "BillingFirstName": b.get("first_name", ""), "BillingLastName": b.get("last_name", ""),
        "BillingCompany": b.get("company", ""), "BillingAddress": b.get("address", ""),
        "BillingAddress2": b.get("address2", ""), "BillingCity": b.get("city", ""),
        "BillingState": b.get("state", ""), "BillingZipCode": b.get("zip", ""),
        "BillingCountry": b.get("country", "US"), "BillingPhoneNumber": b.get("phone", ""),
        "BillingEmail": b.get("email", ""), "BillingPaymentMethod": spec.get("payment_method", "Credit Card"),
        "BillingOnLinePayment": bool(spec.get("online_payment", True)),
        "BillingPaymentMethodID": str(spec.get("payment_method_id", "1")),
        "ShipmentList": [], "OrderItemList": [], "PromotionList": [],
        "OrderDiscount": Decimal(spec.get("discount", ZERO)), "OrderDiscountCoupon": ZERO,
        "OrderDiscountPromotion": Decimal(spec.get("discount", ZERO)),
        "SalesTax": Decimal(spec.get("tax", ZERO)), "SalesTax2": Decimal(spec.get("tax2", ZERO)),
        "SalesTax3": Decimal(spec.get("tax3", ZERO)), "OrderAmount": ZERO, "AffiliateCommission": ZERO,
        "TransactionList": [],
        "CardType": "", "CardNumber": "", "CardName": "", "CardExpirationMonth": "", "CardExpirationYear": "",
        "CardIssueNumber": "", "CardStartMonth": "", "CardStartYear": "", "CardAddress": "",
        "CardVerification": "", "RewardPoints": "0", "QuestionList": [], "Referer": "", "IP": "127.0.0.1",
        "CustomerComments": spec.get("customer_comments", ""), "InternalComments": "", "ExternalComments": "",
    }
    return o


def new_shipment(shipment_id: int, number: int, now: float, status_id: int, address: dict[str, Any],
                 fields: dict[str, Any]) -> dict[str, Any]:
    s: dict[str, Any] = {
        "ShipmentID": shipment_id, "ShipmentLastUpdate": now, "ShipmentBoxes": 1, "ShipmentInternalComment": "",
        "ShipmentOrderStatus": status_id, "ShipmentAddress": address.get("address", ""),
        "ShipmentAddress2": address.get("address2", ""), "ShipmentAlias": "", "ShipmentCity": address.get("city", ""),
        "ShipmentCompany": address.get("company", ""), "ShipmentCost": ZERO,
        "ShipmentCountry": address.get("country", "US"), "ShipmentEmail": address.get("email", ""),
        "ShipmentFirstName": address.get("first_name", ""), "ShipmentLastName": address.get("last_name", ""),
        "ShipmentMethodID": 1, "ShipmentMethodName": "UPS Ground", "ShipmentShippedDate": "",
        "ShipmentPhone": address.get("phone", ""), "ShipmentState": address.get("state", ""),
        "ShipmentZipCode": address.get("zip", ""), "ShipmentTax": ZERO, "ShipmentWeight": ZERO,
        "ShipmentTrackingCode": "", "ShipmentUserID": "", "ShipmentNumber": number, "ShipmentAddressTypeID": 0,
    }
    s.update(fields)
    return s


def new_item(index_id: int, shipment_id: int, now: float, line: dict[str, Any]) -> dict[str, Any]:
    """An order line. `line`: catalog_id, sku (the variant SKU when a variant was bought, §2.2),
    name, quantity, unit_price, option_price, options (",390,493"), unit_stock, unit_cost, weight."""
    item: dict[str, Any] = {
        "CatalogID": line["catalog_id"], "ItemIndexID": index_id, "ItemID": line["sku"],
        "ItemShipmentID": shipment_id, "ItemQuantity": Decimal(line["quantity"]), "ItemWarehouseID": 0,
        "ItemDescription": line.get("name", ""), "ItemUnitPrice": Decimal(line["unit_price"]),
        "ItemWeight": Decimal(line.get("weight", ZERO)), "ItemOptionPrice": Decimal(line.get("option_price", ZERO)),
        "ItemAdditionalField1": "", "ItemAdditionalField2": "", "ItemAdditionalField3": "",
        "ItemPageAdded": "", "ItemAvailability": "", "ItemDateAdded": now,
        "ItemUnitCost": Decimal(line.get("unit_cost", ZERO)), "ItemUnitStock": Decimal(line.get("unit_stock", ZERO)),
        "ItemOptions": line.get("options", ""), "ItemCatalogIDOptions": "", "ItemSerial": "",
        "ItemImage1": "", "ItemImage2": "", "ItemImage3": "", "ItemImage4": "",
        "ItemWarehouseLocation": "", "ItemWarehouseBin": "", "ItemWarehouseAisle": "", "ItemWarehouseCustom": "",
        "RecurringOrderFrequency": 0,
    }
    return item


def new_transaction(index_id: int, order_id: int, now: float, t: dict[str, Any]) -> dict[str, Any]:
    return {
        "TransactionIndexID": index_id, "OrderID": order_id, "TransactionID": t.get("transaction_id", f"T{index_id}"),
        "TransactionDateTime": now, "TransactionType": t.get("type", "Sale"),
        "TransactionMethod": t.get("method", "Credit Card"), "TransactionAmount": Decimal(t["amount"]),
        "TransactionApproval": t.get("approval", "APPROVED"), "TransactionReference": t.get("reference", ""),
        "TransactionGatewayID": t.get("gateway_id", 1), "TransactionCVV2": "M", "TransactionAVS": "Y",
        "TransactionResponseText": t.get("response_text", "Approved"), "TransactionResponseCode": "1",
        "TransactionCaptured": t.get("captured", 1),
    }


def new_question(order_id: int, index: int, q: dict[str, Any]) -> dict[str, Any]:
    return {"OrderID": order_id, "QuestionAnswerIndexID": index, "QuestionID": q.get("id", index),
            "QuestionTitle": q.get("title", ""), "QuestionAnswer": q.get("answer", ""),
            "QuestionType": q.get("type", "text"), "QuestionCheckoutStep": 1, "QuestionSorting": index,
            "QuestionDiscountGroup": 0}


def new_promotion(index: int, p: dict[str, Any]) -> dict[str, Any]:
    return {"PromotionID": p.get("id", index), "PromotionName": p.get("name", ""), "Coupon": p.get("coupon", ""),
            "DiscountAmount": Decimal(p.get("amount", ZERO))}


def render(record: dict[str, Any], wire_time) -> dict[str, Any]:
    """A copy (records are dicts of scalars, dicts and lists) with every time field as store-local
    text (`wire_time(epoch)`); one pass, no `deepcopy` (a list call renders up to 200 records)."""
    return _copy(record, wire_time)


def _copy(node: Any, wire_time) -> Any:
    if isinstance(node, dict):
        return {k: (wire_time(v) if k in TIME_KEYS and isinstance(v, (int, float)) and not isinstance(v, bool)
                    else _copy(v, wire_time)) for k, v in node.items()}
    if isinstance(node, list):
        return [_copy(v, wire_time) for v in node]
    return node
