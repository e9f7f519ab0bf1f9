"""The Sage 300 Web API client against the simulator over real HTTP: lookups, creates, the
customer's duplicate-PO option, and the classification of every kind of failure (through the
shared HTTP base and the Sage error-body parser)."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import httpx
import pytest

from sagebridge_common.errors import BudgetedError, OutcomeUnknownError, PermanentError, TransientError, classify
from sagebridge_connectors.sage300.errors import DuplicatePoRefused, make_error_for, parse_error_body
from sagebridge_connectors.sage300.config import DEFAULT_DUPLICATE_PO_CODES, DEFAULT_DUPLICATE_PO_MESSAGE
from sagebridge_connectors.sage300.oe_order import order_payload
from sagebridge_connectors.sage300.web_api import Sage300Client

from .conftest import canonical_order


@pytest.fixture
def client(sage, make_pair):
    sage.injector.configure(reset=True)
    c = Sage300Client(make_pair().erp)
    yield c
    c.close()
    sage.injector.configure(reset=True)


def payload(number="WEB-1", sku="WIDGET-1", customer="WEBCUST"):
    return order_payload(canonical_order(number, sku, customer), reference=number, order_date=date(2024, 11, 5),
                         shipping_charge_code="FRT")


def test_payload_is_exact_decimal_text():
    body = payload()
    line, misc = body["OrderDetails"]
    assert (line["QuantityOrdered"], line["OrderUnitPrice"]) == ("3", "19.99")
    assert misc == {"LineType": "Miscellaneous", "MiscellaneousChargesCode": "FRT", "ExtendedAmount": "5",
                    "Description": "UPS Ground"}
    assert body["OrderDiscountAmount"] == "1" and body["TaxAmount1"] == "0.88"
    assert body["ShipToName"] == "Ann Lee"          # ship-to falls back to the billing address
    assert list(body)[0] == "CustomerNumber"        # Sage applies properties in order: customer first


def test_payload_refuses_a_reference_longer_than_the_po_number():
    with pytest.raises(ValueError, match="22"):
        order_payload(canonical_order(), reference="X" * 23, order_date=date(2024, 1, 1), shipping_charge_code="FRT")


def test_create_then_lookup_finds_it_with_an_exact_total(client):
    assert client.find_orders_by_reference("WEB-LOOKUP") == []
    created = client.create_order(payload("WEB-LOOKUP"))
    [found] = client.find_orders_by_reference("WEB-LOOKUP")
    assert found["OrderNumber"] == created["OrderNumber"]
    assert created["OrderTotal"] == Decimal("3") * Decimal("19.99") + 5 - 1 + Decimal("0.88")
    assert isinstance(created["OrderTotal"], Decimal)


def test_reference_with_a_quote_is_escaped(client):
    client.create_order(payload("O'BRIEN-7"))
    assert client.find_orders_by_reference("O'BRIEN-7")[0]["OrderReference"] == "O'BRIEN-7"


def test_duplicate_po_check_is_read_by_name(client):
    assert client.duplicate_po_check("1200") == "Error"
    assert client.duplicate_po_check("WEBCUST") == "None"
    with pytest.raises(PermanentError) as e:
        client.duplicate_po_check("NOBODY")
    assert e.value.reason == "sage300_RecordNotFound"


def test_duplicate_po_refusal_is_recognised_and_names_the_po(client):
    client.create_order(payload("PO-DUP-1", customer="1200"))
    with pytest.raises(DuplicatePoRefused) as e:
        client.create_order(payload("PO-DUP-1", customer="1200"))
    assert e.value.po == "PO-DUP-1" and classify(e.value) == "permanent"


def test_unknown_item_is_permanent(client):
    with pytest.raises(PermanentError) as e:
        client.create_order(payload("WEB-BAD", sku="NOPE-1"))
    assert e.value.reason == "sage300_RecordInvalid" and "NOPE-1" in str(e.value)
    assert not isinstance(e.value, DuplicatePoRefused)


def test_rate_limit_is_transient_with_retry_after(client, sage):
    sage.injector.configure(rate_limit_count=1, retry_after_s=2)
    with pytest.raises(TransientError) as e:
        client.find_orders_by_reference("X")
    assert e.value.retry_after == 2 and e.value.reason == "sage300_TooManyRequests"


def test_outage_is_transient_and_creates_nothing(client, sage):
    sage.injector.configure(outage_seconds=5, outage_status=503)
    with pytest.raises(TransientError) as e:
        client.create_order(payload("WEB-OUT"))
    assert classify(e.value) == "transient"               # 503: refused before Sage saw it
    sage.injector.configure(reset=True)
    assert client.find_orders_by_reference("WEB-OUT") == []


def test_500_on_a_post_is_an_unknown_outcome_but_on_a_get_transient(client, sage):
    sage.injector.configure(error_status=500, error_count=2)
    with pytest.raises(OutcomeUnknownError):
        client.create_order(payload("WEB-500"))
    with pytest.raises(TransientError) as e:
        client.find_orders_by_reference("WEB-500")
    assert classify(e.value) == "transient"


def test_a_post_answered_after_the_timeout_is_an_unknown_outcome(sage, make_pair):
    sage.injector.configure(commit_late_ms=2500, commit_late_count=1)
    c = Sage300Client(make_pair(timeout_s=0.5).erp)
    try:
        with pytest.raises(OutcomeUnknownError):
            c.create_order(payload("WEB-LATE"))
    finally:
        c.close()
        sage.injector.configure(reset=True)


def test_bad_credentials_hold_records_rather_than_dead_letter(make_pair):
    c = Sage300Client(make_pair(password="wrong").erp)
    with pytest.raises(TransientError) as e:
        c.find_orders_by_reference("X")
    assert e.value.reason == "sage300_Unauthorized"


def test_iis_500_without_an_error_body_falls_back_to_the_status_table(client):
    client._http._http.headers.pop("Content-Type")            # Sage answers a plain-text 500
    with pytest.raises(TransientError) as e:
        client.find_orders_by_reference("X")
    assert e.value.reason == "sage300_500"


def test_unreachable_is_transient(make_pair):
    c = Sage300Client(make_pair(base_url="http://127.0.0.1:9").erp)
    with pytest.raises(TransientError) as e:
        c.find_orders_by_reference("X")
    assert classify(e.value) == "transient"


def sage_answer(status: int, code: str, text: str) -> httpx.Response:
    body = json.dumps({"error": {"code": code, "message": {"lang": "en-US", "value": text}}})
    return httpx.Response(status, content=body, headers={"Content-Type": "application/json", "Retry-After": "3"})


@pytest.mark.parametrize("status,code,write,kind", [
    (400, "General", True, "budgeted"), (500, "General", False, "budgeted"),
    (401, "SessionError", False, "transient"), (400, "DBLinkError", True, "transient"),
    (500, "InternalServerError", True, "outcome_unknown"), (500, "InternalServerError", False, "transient"),
    (400, "RecordInvalid", True, "permanent"), (409, "RecordDuplicate", True, "permanent"),
    (400, "InvalidPayload", True, "permanent"), (429, "TooManyRequests", True, "transient"),
])
def test_error_bodies_classify(status, code, write, kind):
    err = make_error_for(DEFAULT_DUPLICATE_PO_CODES, DEFAULT_DUPLICATE_PO_MESSAGE)(
        sage_answer(status, code, "Something."), "create_order", write)
    assert classify(err) == kind and err.reason == f"sage300_{code}"
    if isinstance(err, BudgetedError):
        assert err.budget == "record_lock" and err.retry_after == 3


def test_duplicate_po_recognition_is_configurable():
    refusal = sage_answer(400, "General", "PO number XC1-9 already exists for customer WEBCUST.")
    default = make_error_for(DEFAULT_DUPLICATE_PO_CODES, DEFAULT_DUPLICATE_PO_MESSAGE)
    assert isinstance(default(refusal, "create_order", True), BudgetedError)       # not recognised by default
    custom = make_error_for(("General",), r"PO number (?P<po>\S+) already exists")(refusal, "create_order", True)
    assert isinstance(custom, DuplicatePoRefused) and custom.po == "XC1-9"


def test_non_sage_bodies_are_not_parsed():
    assert parse_error_body(httpx.Response(500, content=b"500 - Internal server error.")) is None
    assert parse_error_body(httpx.Response(400, json={"error": "nope"})) is None
