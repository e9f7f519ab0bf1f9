"""v3 orders through the sink against the simulator over real HTTP: item numbers, misc charge lines,
the header discount, both tax modes, the rate type, normalised addresses, and a currency Sage does
not hold going to the DLQ with that reason."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import httpx
import pytest

from sagebridge_common.errors import PermanentError
from sagebridge_connectors.sage300.oe_order import order_payload
from sagebridge_connectors.sage300.sink import Sage300Sink

from .conftest import WHEN, address, api_calls, customer, order_customer, unique


def charge(kind: str, amount: str, placement: str = "line", code: str | None = None, description: str = "") -> dict:
    return {"kind": kind, "code": code, "placement": placement, "amount": Decimal(amount),
            "description": description or kind}


def v3_order(number: str, customer_number: str = "WEBCUST", **over) -> dict:
    """2 × 19.99 + shipping 5 + handling 2 + surcharge 1.50 − coupon 3 + tax 0.88 = 46.36."""
    o = {"order_id": f"id-{number}", "order_number": number, "ordered_at": WHEN, "currency": "USD",
         "customer": order_customer("ann@example.com", customer_number),
         "billing_address": address(), "shipping_address": address(name="Bo Lee", phone="646-555-0111",
                                                                    region_code="CA", erp_country="USA"),
         "ship_via_code": "UPSGRD", "notes": None, "shipping_method": "UPS Ground",
         "lines": [{"line_id": "1", "sku": "widget-1", "item_number": "WIDGET-1", "name": "Widget",
                    "location_code": "1", "quantity": Decimal("2"), "unit_price": Decimal("19.99"),
                    "discount": Decimal("0"), "line_total": Decimal("39.98")}],
         "charges": [charge("shipping", "5.00", code="FRT", description="UPS Ground"),
                     charge("handling", "2.00", code="HAND"), charge("surcharge", "1.50", code="MISC"),
                     charge("discount", "3.00", placement="header", description="coupon SAVE3")],
         "subtotal": Decimal("39.98"), "discount_total": Decimal("3"), "shipping_total": Decimal("5"),
         "tax_total": Decimal("0.88"), "total": Decimal("46.36"), "tax_mode": "store", "rate_type": None,
         "coupon_codes": ["SAVE3"]}
    return {**o, **over}


def sage_order(sage, reference: str) -> dict:
    [made] = [o for o in httpx.get(f"{sage.url}/_sim/orders").json() if o["OrderReference"] == reference]
    return made


def test_v3_order_lands_field_by_field(sage, make_pair):
    number = unique()
    done = Sage300Sink(make_pair()).ensure_order(v3_order(number))
    assert done.outcome == "created"                              # Sage's total equals the store's 46.36
    made = sage_order(sage, f"XC1-{number}")
    item, *misc = made["OrderDetails"]
    assert (item["LineType"], item["Item"], item["OrderUnitPrice"], item["PriceOverride"]) == \
        ("Item", "WIDGET-1", 19.99, True)
    assert [(m["LineType"], m["MiscellaneousChargesCode"], m["ExtendedAmount"]) for m in misc] == [
        ("Miscellaneous", "FRT", 5), ("Miscellaneous", "HAND", 2), ("Miscellaneous", "MISC", 1.5)]
    assert made["OrderDiscountAmount"] == 3 and made["TaxAmount1"] == 0.88 and made["OrderTotal"] == 46.36
    assert (made["BillToStateProvince"], made["BillToCountry"]) == ("NY", "USA")
    assert (made["ShipToName"], made["ShipToStateProvince"], made["ShipToCountry"]) == ("Bo Lee", "CA", "USA")
    assert made["ShipToAddressLine1"] == "1 Main Street"          # trimmed
    assert made["ShipToPhoneNumber"] == "646-555-0111" and made["OrderDate"].startswith("2024-11-05")


def test_discount_on_a_line_is_a_negative_misc_line(sage, make_pair):
    number = unique()
    order = v3_order(number, charges=[charge("shipping", "5.00", code="FRT"),
                                      charge("discount", "3.00", code="DISC", description="coupon")])
    order["total"] = Decimal("39.98") + 5 - 3 + Decimal("0.88")
    assert Sage300Sink(make_pair()).ensure_order(order).outcome == "created"
    made = sage_order(sage, f"XC1-{number}")
    assert [(m["MiscellaneousChargesCode"], m["ExtendedAmount"]) for m in made["OrderDetails"][1:]] == \
        [("FRT", 5), ("DISC", -3)]
    assert not made["OrderDiscountAmount"]


def test_tax_modes(sage, make_pair):
    store = order_payload(v3_order("1"), reference="XC1-1", order_date=date(2024, 11, 5))
    assert (store["TaxAmount1"], store["TaxOverride"]) == ("0.88", True)
    erp = order_payload(v3_order("1", tax_mode="erp"), reference="XC1-1", order_date=date(2024, 11, 5))
    assert "TaxAmount1" not in erp and "TaxOverride" not in erp
    number = unique()
    order = v3_order(number, tax_mode="erp", total=Decimal("45.48"))
    assert Sage300Sink(make_pair()).ensure_order(order).outcome == "created"
    assert not sage_order(sage, f"XC1-{number}")["TaxAmount1"]     # Sage computed it from its (empty) tables


def test_rate_type_goes_with_the_source_currency(sage, make_pair):
    number = unique()
    body = order_payload(v3_order(number, currency="EUR", rate_type="SP"), reference="XC1-1",
                         order_date=date(2024, 11, 5))
    keys = list(body)
    assert body["OrderSourceCurrency"] == "EUR" and body["OrderRateType"] == "SP"
    assert keys.index("OrderSourceCurrency") < keys.index("OrderRateType")
    sink = Sage300Sink(make_pair(new_customers={"currency": "EUR"}))     # O/E wants the customer's currency
    euro = unique("E")
    sink.ensure_customer(customer(f"euro{euro}@example.com", euro))
    order = v3_order(number, customer_number=euro, currency="EUR", rate_type="SP")
    assert sink.ensure_order(order).outcome == "created"
    made = sage_order(sage, f"XC1-{number}")
    assert (made["OrderSourceCurrency"], made["OrderRateType"]) == ("EUR", "SP")


def test_currency_sage_does_not_hold_goes_to_the_dlq_with_that_reason(sage, make_pair):
    sink = Sage300Sink(make_pair())
    number = unique()
    with pytest.raises(PermanentError) as e:
        sink.ensure_order(v3_order(number, currency="JPY"))
    assert e.value.reason == "currency_not_in_sage" and "JPY" in str(e.value) and "DLQ" in str(e.value)
    assert [o for o in httpx.get(f"{sage.url}/_sim/orders").json() if o["OrderReference"] == f"XC1-{number}"] == []
    sink.ensure_order(v3_order(unique()))
    reads = sink.orders.currencies.reads
    sink.ensure_order(v3_order(unique()))
    assert sink.orders.currencies.reads == reads                  # USD is asked once per process


def test_a_customer_just_created_costs_one_call_for_its_first_order(sage, make_pair):
    sink = Sage300Sink(make_pair())
    sink.ensure_order(v3_order(unique()))                         # USD known
    number = unique("W")
    sink.ensure_customer(customer(f"first{number}@example.com", number), update=False)
    before = api_calls(sage)
    assert sink.ensure_order(v3_order(unique(), customer_number=number)).outcome == "created"
    assert api_calls(sage) - before == 1                          # the POST: no option read, no lookup
