"""The Sage 300 connector against the Sage 300 simulator over real HTTP: lookups, creates, and the
classification of every kind of failure."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from sagebridge_common.errors import PermanentError, TransientError
from sagebridge_erp_writer.sage300.oe_order import order_payload
from sagebridge_erp_writer.sage300.web_api import Sage300Client, Sage300UnexpectedResponse
from sagebridge_sim.faults import FaultInjector
from sagebridge_sim.sage300 import Sage300Database, create_app
from sagebridge_sim.serve import BackgroundServer

PASSWORD = "pw-for-tests"


@pytest.fixture(scope="module")
def sage(tmp_path_factory):
    db = Sage300Database(str(tmp_path_factory.mktemp("sage") / "sage.sqlite"))
    db.create_schema()
    db.seed_demo()
    injector = FaultInjector()
    with BackgroundServer(create_app(db, password=PASSWORD, injector=injector)) as server:
        yield server, injector


@pytest.fixture
def client(sage):
    server, injector = sage
    injector.configure(reset=True)
    c = Sage300Client(server.url, "SAMINC", "WEBAPI", PASSWORD, timeout=5)
    yield c
    c.close()


def order(number="WEB-1", sku="WIDGET-1"):
    return {"order_id": "1", "order_number": number, "ordered_at": datetime(2024, 11, 5, 15, 0, tzinfo=timezone.utc),
            "currency": "USD", "customer": {"erp_customer_id": "WEBCUST", "email": "a@b.com"},
            "billing_address": {"name": "Ann Lee", "line1": "1 Main", "line2": None, "city": "NYC", "region": "NY",
                                "postal_code": "10001", "country": "US", "phone": "555"},
            "shipping_address": None, "ship_via_code": "UPSGRD", "notes": None, "shipping_method": "UPS Ground",
            "discount_total": Decimal("1.0000"), "tax_total": Decimal("0.8800"), "shipping_total": Decimal("5.0000"),
            "lines": [{"sku": sku, "name": "Widget", "location_code": "1", "quantity": Decimal("3.0000"),
                       "unit_price": Decimal("19.9900")}]}


def test_payload_is_exact_decimal_text():
    body = order_payload(order(), shipping_charge_code="FRT")
    line, misc = body["OrderDetails"]
    assert (line["QuantityOrdered"], line["OrderUnitPrice"]) == ("3", "19.99")
    assert misc == {"LineType": "Miscellaneous", "MiscellaneousChargesCode": "FRT", "ExtendedAmount": "5",
                    "Description": "UPS Ground"}
    assert body["OrderDiscountAmount"] == "1" and body["TaxAmount1"] == "0.88"
    assert body["ShipToName"] == "Ann Lee"          # ship-to falls back to the billing address
    assert list(body)[0] == "CustomerNumber"        # Sage applies properties in order: customer first


def test_create_then_lookup_finds_it(client):
    assert client.find_order_by_reference("WEB-LOOKUP") is None
    created = client.create_order(order_payload(order("WEB-LOOKUP"), shipping_charge_code="FRT"))
    found = client.find_order_by_reference("WEB-LOOKUP")
    assert found and found["OrderNumber"] == created["OrderNumber"]
    assert Decimal(str(found["OrderTotal"])) == Decimal("3") * Decimal("19.99") + 5 - 1 + Decimal("0.88")


def test_reference_with_a_quote_is_escaped(client):
    client.create_order(order_payload(order("O'BRIEN-7"), shipping_charge_code="FRT"))
    assert client.find_order_by_reference("O'BRIEN-7")["OrderReference"] == "O'BRIEN-7"


def test_unknown_item_is_permanent(client):
    with pytest.raises(PermanentError) as e:
        client.create_order(order_payload(order("WEB-BAD", sku="NOPE-1"), shipping_charge_code="FRT"))
    assert e.value.reason == "sage300_RecordInvalid" and "NOPE-1" in str(e.value)


def test_rate_limit_is_transient_with_retry_after(client, sage):
    sage[1].configure(rate_limit_count=1, retry_after_s=2)
    with pytest.raises(TransientError) as e:
        client.find_order_by_reference("X")
    assert e.value.retry_after == 2


def test_outage_is_transient(client, sage):
    sage[1].configure(outage_seconds=5, outage_status=503)
    with pytest.raises(TransientError):
        client.create_order(order_payload(order("WEB-OUT"), shipping_charge_code="FRT"))
    sage[1].configure(reset=True)
    assert client.find_order_by_reference("WEB-OUT") is None      # nothing was created during the outage


def test_bad_credentials_hold_records_rather_than_dead_letter(sage):
    c = Sage300Client(sage[0].url, "SAMINC", "WEBAPI", "wrong", timeout=5)
    with pytest.raises(TransientError) as e:
        c.find_order_by_reference("X")
    assert e.value.reason == "sage300_Unauthorized"


def test_answer_without_error_body_is_unknown(sage):
    c = Sage300Client(sage[0].url, "SAMINC", "WEBAPI", PASSWORD, timeout=5)
    c._http.headers.pop("Content-Type")            # Sage answers a 500 with no JSON body
    with pytest.raises(Sage300UnexpectedResponse):
        c.find_order_by_reference("X")


def test_unreachable_is_transient():
    c = Sage300Client("http://127.0.0.1:9", "SAMINC", "WEBAPI", PASSWORD, timeout=1)
    with pytest.raises(TransientError):
        c.find_order_by_reference("X")
