"""Shift4Shop REST transactions → payments (sale-type, positive, "t<TransactionIndexID>", emitted once per
order) and REST customer records (GET /Customers/{id}, shift4shop.md §2.3) → v2 customers, through Transform."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from sagebridge_common.errors import PermanentError
from sagebridge_common.topics import CUSTOMERS, ORDERS, PAYMENTS
from sagebridge_transform.handler import make_handler

from .test_shift4shop_order import fresh_state, on, pairs, raw_event, rest_order


def txn(index, type_, amount, when="2013-09-15T20:13:10", **over) -> dict:
    return {"TransactionIndexID": index, "OrderID": 47620, "TransactionID": f"gw{index}", "TransactionDateTime": when,
            "TransactionType": type_, "TransactionMethod": "Credit Card", "TransactionAmount": amount,
            "TransactionApproval": "", "TransactionReference": "", "TransactionGatewayID": 1, "TransactionCVV2": "",
            "TransactionAVS": "", "TransactionResponseText": "", "TransactionResponseCode": "",
            "TransactionCaptured": 0, **over}


def payments_of(txns, handler=None, offset=0, **order_over) -> list[dict]:
    handler = handler or make_handler(pairs(), fresh_state())
    outputs = handler(raw_event({"order": rest_order(TransactionList=txns, **order_over)}, offset=offset,
                                source_version=f"{offset:016d}|abc"))
    return [p.value for p in on(PAYMENTS, outputs)]


def test_a_sale_is_a_payment_with_its_bank_and_the_store_local_time_in_utc():
    [p] = payments_of([txn(555, "Sale", 61.34)])
    assert (p["transaction_id"], p["amount"], p["currency"], p["order_number"]) == ("t555", Decimal("61.34"), "USD",
                                                                                     "AB-1000")
    assert (p["method"], p["method_code"], p["bank_code"], p["receipt_type"]) == ("Online Credit Card", "CC", "SEATAC",
                                                                                   "Prepayment")
    assert p["captured_at"] == datetime(2013, 9, 16, 3, 13, 10, tzinfo=timezone.utc)
    assert p["customer"]["email_key"] == "ann@example.com" and p["fee_amount"] is None


def test_only_sale_type_transactions_with_a_positive_amount_are_money():
    got = payments_of([txn(1, "Authorize", 61.34), txn(2, "AUTHCAPTURE", 10), txn(3, "capture", 20),
                       txn(4, "Charge", 31.34, TransactionCaptured=1), txn(5, "Sale", 0), txn(6, "CBA", 5),
                       txn(7, "Void", 61.34), txn(8, "Sale", -3)])
    assert [p["transaction_id"] for p in got] == ["t2", "t3", "t4"]


def test_a_transaction_without_a_date_is_dated_by_the_order():
    [p] = payments_of([txn(9, "Sale", 61.34, when="")])
    assert p["captured_at"] == datetime(2013, 9, 16, 15, 0, tzinfo=timezone.utc)   # LastUpdate, PDT


@pytest.mark.parametrize("bad", [txn(None, "Sale", 61.34), txn(5, "Sale", "lots"), txn(5, "Sale", 1, when="soon")])
def test_unreadable_transactions_are_permanent(bad):
    with pytest.raises(PermanentError) as e:
        payments_of([bad])
    assert e.value.reason == "invalid_transaction"


def test_a_new_order_version_emits_only_the_new_payments():
    handler = make_handler(pairs(), fresh_state())
    first = payments_of([txn(1, "Sale", 30)], handler, offset=1, OrderAmount=61.34)
    second = payments_of([txn(1, "Sale", 30), txn(2, "Sale", 31.34)], handler, offset=2, OrderStatusID=4)
    assert [p["transaction_id"] for p in first] == ["t1"] and [p["transaction_id"] for p in second] == ["t2"]


def test_an_unchanged_customer_is_emitted_once_and_a_changed_one_again():
    handler = make_handler(pairs(), fresh_state())
    versions = [{}, {"OrderStatusID": 4}, {"OrderStatusID": 4, "BillingPhoneNumber": "555-9"}]
    runs = [handler(raw_event({"order": rest_order(**over)}, offset=n, source_version=f"{n:016d}|h{n}"))
            for n, over in enumerate(versions, 1)]
    assert [len(on(CUSTOMERS, r)) for r in runs] == [1, 0, 1] and all(len(on(ORDERS, r)) == 1 for r in runs)


def rest_customer(**over) -> dict:
    """Field names of GET /Customers/{id} (shift4shop.md §2.3; the customer's street is BillingAddress1)."""
    return {"CustomerID": 12, "Email": "Ann@Example.com", "Password": "", "BillingCompany": "Lee Ltd",
            "BillingFirstName": "Ann", "BillingLastName": "Lee", "BillingAddress1": "1 Main St",
            "BillingAddress2": "", "BillingCity": "Los Angeles", "BillingState": "CA", "BillingZipCode": "90001",
            "BillingCountry": "US", "BillingPhoneNumber": "555-0100", "BillingTaxID": "", "ShippingCompany": "",
            "ShippingFirstName": "Bob", "ShippingLastName": "Lee", "ShippingAddress1": "2 Side St",
            "ShippingAddress2": "", "ShippingCity": "San Diego", "ShippingState": "CA", "ShippingZipCode": "92101",
            "ShippingCountry": "US", "ShippingPhoneNumber": "", "ShippingAddressType": 0, "CustomerGroupID": 0,
            "Enabled": True, "MailList": False, "NonTaxable": False, "DisableBillingSameAsShipping": False,
            "Comments": "", "AdditionalField1": "", "AdditionalField2": "", "AdditionalField3": "", **over}


def customer_outputs(customer: dict):
    event = raw_event({"customer": customer}, "customer", str(customer.get("CustomerID")), source_version="v1")
    return make_handler(pairs(), fresh_state())(event)


def test_a_customer_record_becomes_a_customer_keyed_by_email_key():
    [out] = on(CUSTOMERS, customer_outputs(rest_customer()))
    c = out.value
    assert (out.key, out.schema) == ("ann@example.com", "sagebridge.v2.Customer")
    assert (c["customer_id"], c["email"], c["first_name"], c["last_name"], c["company"], c["phone"]) == (
        "12", "Ann@Example.com", "Ann", "Lee", "Lee Ltd", "555-0100")
    assert c["billing_address"]["line1"] == "1 Main St" and c["billing_address"]["region_code"] == "CA"
    assert c["shipping_address"]["name"] == "Bob Lee" and c["shipping_address"]["city"] == "San Diego"
    assert c["is_guest"] is False and c["new_customer_number"] == pairs()["3dcart-sage300"].mapping.customer_number(
        "ann@example.com")
    assert c["created_at"] == c["updated_at"] == datetime(2024, 1, 16, 8, 0, tzinfo=timezone.utc)


def test_a_customers_last_update_is_store_local():
    [out] = on(CUSTOMERS, customer_outputs(rest_customer(LastUpdate="2024-01-15T23:30:00")))
    assert out.value["updated_at"] == datetime(2024, 1, 16, 7, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("change", [{"Email": " "}, {"CustomerID": None}, {"BillingCountry": "Narnia"}])
def test_unusable_customers_are_permanent(change):
    with pytest.raises(PermanentError) as e:
        customer_outputs(rest_customer(**change))
    assert e.value.reason in ("invalid_customer", "invalid_address")


def test_a_redelivered_record_emits_its_payments_and_customer_again():
    handler = make_handler(pairs(), fresh_state())
    event = raw_event({"order": rest_order(TransactionList=[txn(1, "Sale", 61.34)])}, offset=5,
                      source_version="0000000000000005|x")
    first, again = handler(event), handler(event)       # crash between the changelog write and the commit
    assert [len(on(PAYMENTS, r)) for r in (first, again)] == [1, 1]
    assert [len(on(CUSTOMERS, r)) for r in (first, again)] == [1, 1]


def test_a_shift4shop_record_for_a_pair_of_another_kind_is_refused():
    event = raw_event({"order": rest_order()})
    with pytest.raises(PermanentError) as e:
        make_handler(pairs("threedcart") | {"3dcart-sage300": pairs("xcart")["3dcartsoap-sage300"].model_copy(
            update={"pair": "3dcart-sage300"})}, fresh_state())(event)
    assert e.value.reason == "storefront_mismatch"
