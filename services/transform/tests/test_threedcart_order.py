"""3dcart SOAP order (the getOrder `<Order>` element read as a dict, shaped as the recorded mock
Menes1337/3dcart-api-php-client getOrders/response.xml) → canonical v3 order, payments and customers,
through Transform: status by getOrderStatus id (not the renamable text), thousands separators, the
mock's spaced times, "US-CA" states, order-level shipping, empty containers."""
from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from sagebridge_common.errors import PermanentError
from sagebridge_common.topics import CUSTOMERS, ORDERS, PAYMENTS
from sagebridge_transform.handler import make_handler

from .test_shift4shop_order import fresh_state, on, pairs, raw_event

SOAP = "threedcart"


def address(**over) -> dict:
    return {"FirstName": "Max", "LastName": "Mustermann", "Email": "max.mustermann@test.de",
            "Address": "12344 E. Happy Road", "Address2": "Suite 9", "City": "Palo Alto", "ZipCode": "94303",
            "StateCode": "US-CA", "CountryCode": "US", "Phone": "060337470162", "Company": "Test Company Inc.", **over}


def item(product_id: str, unit: str, option: str = "0.00", qty: str = "1") -> dict:
    return {"ShipmentID": "12", "ProductID": product_id, "ProductName": f"{product_id} name", "Quantity": qty,
            "UnitPrice": unit, "UnitCost": "0.49", "OptionPrice": option, "Weight": "3.00", "Dimension": "",
            "WarehouseID": "0", "DateAdded": "6/22/2009 12: 05: 07 PM", "PageAdded": "Tote-Bag_p_3.html",
            "ProdType": "Tangible", "Taxable": "0", "ItemPrice": unit, "Total": unit, "WarehouseLocation": "",
            "WarehouseBin": "", "WarehouseAisle": "", "WarehouseCustom": ""}


def soap_order(**over) -> dict:
    """The mock's order 1 with amounts that add up: 1,490.00 + 0.16 option − 3.33 + 5.99 + 3.00 + 4.18 tax."""
    shipment = {**{k: v for k, v in address().items() if k != "Email"}, "ShipmentID": "12", "ShipmentDate": "",
                "Shipping": "3.56", "Method": "Free Shipping", "Weight": "1.00", "Status": "New",
                "InternalComment": "test comment", "TrackingCode": ""}
    order = {
        "OrderID": "1", "InvoiceNumber": "AB-1000", "CustomerID": "1", "Date": "6/22/2009", "Total": "1,500.00",
        "Tax": "4.18", "Tax2": "1.00", "Tax3": "2.00", "Shipping": "5.99",
        "BillingAddress": address(StateCode="FL", City="Coral Springs", ZipCode="33065", Email="test@3dcart.com",
                                  Address2="", Company=""),
        "Comments": {"OrderComment": "Sample Order from 3dcart", "OrderInternalComment": "",
                     "OrderExternalComment": ""},
        "PaymentMethod": "Online Credit Card", "CardType": "", "Time": "12: 44:37 PM",
        "Transaction": [{"CVV2": "", "ResponseText": "", "AVS": "", "TransactionId": "", "ApprovalCode": "",
                         "TransactionType": "Sale", "Amount": "1,500.00"}],
        "Discount": "3.33", "Promotions": {"Promotion": [{"Code": "1% Shop renegrade Promo", "Amount": "0.30"}]},
        "GiftCertificatePurchased": "", "GiftCertificateUsed": "", "OrderStatus": "New",
        "Referer": "http: //www.google.com", "SalesPerson": "Administrator", "IP": "84.246.249.226",
        "DateStarted": "6/22/2009 10:23:09 AM", "UserID": "API", "LastUpdate": "6/22/2009", "Weight": "1.00",
        "AffiliateInformation": {"AffiliateID": "1234", "AffiliateCommission": "2.54", "AffiliateApproved": "",
                                 "AffiliateApprovedreason": ""},
        "ShippingInformation": {"Shipment": [shipment],
                                "OrderItems": {"Item": [item("1003K", "1,490.00", "0.16"), item("1001", "0.00")]}},
        "CheckoutQuestions": {"Question": [{"Id": "1", "Question": "What can a checkout question be?",
                                            "Answer": "Answer1"}]},
    }
    order.update(over)
    return order


def soap_event(order: dict | None = None, status_id: str | None = "1", offset: int = 0, version: str = ""):
    payload = {"order": order or soap_order()}
    if status_id is not None:
        payload["status_id"] = status_id
    return raw_event(payload, entity_id=str((order or {}).get("OrderID", "1")), kind=SOAP, offset=offset,
                     source_version=version)


def run(order=None, status_id="1", **mapping):
    return make_handler(pairs(SOAP, **mapping), fresh_state())(soap_event(order, status_id))


def mapped(order=None, status_id="1", **mapping) -> dict:
    [out] = on(ORDERS, run(order, status_id, **mapping))
    return out.value


def refused(order=None, status_id="1", **mapping) -> PermanentError:
    with pytest.raises(PermanentError) as e:
        run(order, status_id, **mapping)
    return e.value


def test_a_soap_order_maps_field_by_field():
    outputs = run()
    [out] = on(ORDERS, outputs)
    o = out.value
    assert (out.key, o["order_id"], o["order_number"]) == ("1", "1", "AB-1000")
    # 6/22/2009 12:44:37 PM in Los Angeles (PDT) is 19:44:37 UTC; the mock's "12: 44:37" spacing is read
    assert o["ordered_at"] == datetime(2009, 6, 22, 19, 44, 37, tzinfo=timezone.utc)
    assert o["updated_at"] == o["ordered_at"]                 # LastUpdate is date-only, the same day
    tote, cap = o["lines"]
    assert (tote["line_id"], tote["sku"], tote["unit_price"], tote["line_total"]) == (
        "1", "1003K", Decimal("1490.16"), Decimal("1490.16"))
    assert (cap["line_id"], cap["sku"], cap["unit_price"], cap["name"]) == ("2", "1001", 0, "1001 name")
    assert o["total"] == Decimal("1500") and o["subtotal"] == Decimal("1490.16")       # "1,500.00" parsed
    assert (o["discount_total"], o["shipping_total"], o["tax_total"]) == (Decimal("3.33"), Decimal("5.99"),
                                                                        Decimal("7.18"))    # order-level Shipping
    assert [(c["kind"], c["amount"], c["description"]) for c in o["charges"]] == [
        ("shipping", Decimal("5.99"), "Free Shipping"), ("discount", Decimal("3.33"), "Discount")]
    assert (o["status"], o["ready_for_erp"], o["fulfilment_status"]) == ("new", True, "new")
    assert o["customer"]["email_key"] == "test@3dcart.com" and o["customer"]["storefront_customer_id"] == "1"
    assert o["billing_address"]["region_code"] == "FL" and o["billing_address"]["company"] is None
    s = o["shipping_address"]
    assert (s["region"], s["region_code"], s["line2"], s["company"]) == ("CA", "CA", "Suite 9", "Test Company Inc.")
    assert (o["payment_method"], o["payment_method_code"], o["shipping_method"]) == ("Online Credit Card", "CC",
                                                                                    "Free Shipping")
    assert (o["notes"], o["coupon_codes"]) == ("Sample Order from 3dcart", ["1% Shop renegrade Promo"])
    [payment] = on(PAYMENTS, outputs)
    assert (payment.value["transaction_id"], payment.value["amount"]) == ("s1", Decimal("1500"))
    assert len(on(CUSTOMERS, outputs)) == 1


def test_status_is_the_getorderstatus_id_not_the_merchants_renamed_text():
    o = mapped(soap_order(OrderStatus="Versandt"), status_id="4")
    assert (o["status"], o["ready_for_erp"], o["fulfilment_status"]) == ("shipped", True, "shipped")
    o = mapped(soap_order(OrderStatus="Shipped"), status_id="5")               # a label saying shipped: id wins
    assert (o["status"], o["ready_for_erp"]) == ("cancelled", False)


def test_a_record_without_the_status_id_is_malformed():
    assert refused(status_id=None).reason == "malformed_payload"


def test_a_time_at_2330_in_winter_is_the_next_utc_day():
    o = mapped(soap_order(Date="1/15/2024", Time="11:30:00 PM", LastUpdate="1/16/2024 5:06:55 AM"))
    assert o["ordered_at"] == datetime(2024, 1, 16, 7, 30, tzinfo=timezone.utc)
    assert o["updated_at"] == datetime(2024, 1, 16, 13, 6, 55, tzinfo=timezone.utc)
    later = mapped(soap_order(Date="1/15/2024", Time="11:30:00 PM", LastUpdate="1/17/2024"))
    assert later["updated_at"] == datetime(2024, 1, 17, 8, 0, tzinfo=timezone.utc)   # that store day's start


def test_totals_that_do_not_add_up_are_a_mismatch():
    e = refused(soap_order(Total="1"))                      # the mock's own order 1 total
    assert e.reason == "totals_mismatch" and "1.0000" in str(e) and "1500.0000" in str(e)


def test_the_mocks_guest_order_with_empty_containers():
    order = soap_order(OrderID="27", InvoiceNumber="0", CustomerID="0", Transaction=[""], Promotions="",
                       GiftCertificateUsed="", Discount="0.00", Shipping="0", Tax="0.00", Tax2="0.00", Tax3="0.00",
                       Total="50.18", Comments={"OrderComment": "", "OrderInternalComment": "",
                                                "OrderExternalComment": ""})
    order["ShippingInformation"]["OrderItems"]["Item"] = [item("1001", "21.84"), item("1003K", "28.34")]
    o = mapped(order, status_id="7")                            # not completed: not exported, id as number
    assert (o["order_number"], o["ready_for_erp"], o["customer"]["is_guest"]) == ("27", False, True)
    assert (o["charges"], o["coupon_codes"], o["notes"]) == ([], [], None)
    outputs = run(order, "7")
    assert on(PAYMENTS, outputs) == [] and on(CUSTOMERS, outputs) == []
    assert refused(order, status_id="4").reason == "invalid_order"    # exported without an invoice number: no


def test_transaction_ids_and_types():
    txns = [{"TransactionId": "ABC123", "TransactionType": "Sale", "Amount": "1,000.00"},
            {"TransactionId": "", "TransactionType": "Authorize", "Amount": "500.00"},
            {"TransactionId": "", "TransactionType": "capture", "Amount": "500.00"},
            {"TransactionId": "X", "TransactionType": "Sale", "Amount": "0.00"}]
    got = [p.value for p in on(PAYMENTS, run(soap_order(Transaction=txns)))]
    assert [(p["transaction_id"], p["amount"]) for p in got] == [("sABC123", Decimal("1000")), ("s3", Decimal("500"))]
    assert got[0]["captured_at"] == datetime(2009, 6, 22, 19, 44, 37, tzinfo=timezone.utc)


def test_payments_are_not_emitted_again_by_a_later_version():
    handler = make_handler(pairs(SOAP), fresh_state())
    first = handler(soap_event(offset=1, version="0000000000000001|a"))
    second = handler(soap_event(offset=2, status_id="4", version="0000000000000002|b"))
    assert len(on(PAYMENTS, first)) == 1 and on(PAYMENTS, second) == [] and len(on(ORDERS, second)) == 1


@pytest.mark.parametrize("change,reason", [
    ({"Total": "1.500,00"}, "invalid_order"), ({"Date": "22.06.2009"}, "invalid_order"),
    ({"BillingAddress": ""}, "invalid_order"), ({"ShippingInformation": ""}, "invalid_order"),
    ({"Transaction": [{"TransactionType": "Sale", "Amount": "n/a"}]}, "invalid_transaction")])
def test_unusable_soap_orders_are_permanent(change, reason):
    assert refused(soap_order(**change)).reason == reason


def test_unusable_lines():
    for bad in (item("", "1.00"), item("A", "1.00", qty="0"), item("A", "-1,490.00")):
        order = soap_order()
        order["ShippingInformation"] = copy.deepcopy(order["ShippingInformation"])
        order["ShippingInformation"]["OrderItems"]["Item"] = [bad]
        assert refused(order).reason == "invalid_order"


def soap_customer(**over) -> dict:
    """The getCustomers mock's customer 2."""
    addr = {"FirstName": "Max", "LastName": "Mustermann", "Address": "Hauptstrasse 145", "Address2": "Suite 2a",
            "City": "Frankfurt", "StateCode": "HE", "ZipCode": "60431", "CountryCode": "DE",
            "Company": "Test Company", "Phone": "+4930123456789", "Email": "max.mustermann@test.de"}
    return {"CustomerID": "2", "UserID": "Administrator", "BillingAddress": addr, "ShippingAddress": dict(addr),
            "Comments": "", "LastLoginDate": "4/19/2016", "WebSite": "", "DiscountGroup": "New customer",
            "AccountNumber": "", "MailList": "0", "CustomerType": "0", "LastUpdate": "4/13/2014 4:44:50 AM",
            "CustEnabled": "1", "AditionalFields": {"AdditionalField1": "", "AdditionalField2": "",
                                                    "AdditionalField3": ""}, "AdditionalField4": "", **over}


def test_a_soap_customer_becomes_a_customer():
    event = raw_event({"customer": soap_customer()}, "customer", "2", kind=SOAP)
    [out] = on(CUSTOMERS, make_handler(pairs(SOAP), fresh_state())(event))
    c = out.value
    assert (out.key, c["customer_id"], c["first_name"], c["company"]) == (
        "max.mustermann@test.de", "2", "Max", "Test Company")
    assert (c["billing_address"]["country"], c["billing_address"]["region_code"]) == ("DE", "HE")
    assert c["updated_at"] == datetime(2014, 4, 13, 11, 44, 50, tzinfo=timezone.utc)   # PDT


def test_a_soap_customer_without_email_is_permanent_and_a_product_gives_nothing():
    bad = soap_customer(BillingAddress={**soap_customer()["BillingAddress"], "Email": ""})
    with pytest.raises(PermanentError) as e:
        make_handler(pairs(SOAP), fresh_state())(raw_event({"customer": bad}, "customer", "2", kind=SOAP))
    assert e.value.reason == "invalid_customer"
    product = raw_event(json.dumps({"product": {"ProductID": "1003K"}}), "product", "1003K", kind=SOAP)
    assert make_handler(pairs(SOAP), fresh_state())(product) == []
