"""Issue 9 end to end, X-Cart <-> Sage Intacct (pair `xcart-intacct`): the X-Cart simulator, the
Intacct XML gateway simulator and all five services as real processes on the session broker, one
stack for the module. The tests use their own orders, e-mails and items, so they share it; each
waits for a positive signal before it checks that nothing else happened.

Store -> Intacct: a new customer's order becomes one CUSTOMER and one Sales Order (field by field),
its payment one ARPYMT; a CUSTOMERID that already exists (BL34000061) is taken as that customer
when its e-mail is the order's; an unknown item goes to the DLQ with Intacct's own message and
correction. Intacct -> store: a stock count, a price change and a shipped order (a Shipper with a
tracking number) end in X-Cart's state. `sagebridge reconcile` proves the pair's orders and payments.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from sagebridge_common.dead_letter import ERROR_PREFIX, header_dict
from sagebridge_common.topics import ORDERS

from .conftest import read_all, wait_until
from .intacct_pair import PREFIX, D, customer_number, new_email, running_pair

SAGEBRIDGE = str(Path(sys.executable).parent / "sagebridge")
ADDRESS = {"street": "9 Elm St", "city": "Albany", "state_name": "New York", "zipcode": "12207",
           "country_code": "US", "phone": "518-555-0101"}


@pytest.fixture(scope="module")
def pair(bootstrap, serde, tmp_path_factory):
    with running_pair(bootstrap, serde, tmp_path_factory.mktemp("intacct-flows"), first_order=71000) as p:
        yield p


# -- X-Cart -> Intacct ---------------------------------------------------------------------------

def test_a_new_customers_order_is_one_customer_and_one_sales_order_and_its_payment_one_arpymt(pair):
    email = new_email("Nora.Quinn")
    made = pair.store.order(email=email, first_name="Nora", last_name="Quinn", address=ADDRESS, shipping="5.00",
                            tax="1.20", items=[{"sku": "WIDGET-1", "name": "Widget", "price": "12.50", "amount": 2}])
    ref = PREFIX + made["order_number"]
    so = pair.in_intacct(made)
    want = customer_number(email)

    [customer] = wait_until(lambda: pair.intacct.customers_with(email), message="the CUSTOMER")
    assert customer["CUSTOMERID"] == want
    assert customer["DISPLAYCONTACT.EMAIL1"] == email.lower()
    assert customer["NAME"] == "Nora Quinn" and customer["DISPLAYCONTACT.PRINTAS"] == "Nora Quinn"
    assert customer["DISPLAYCONTACT.FIRSTNAME"] == "Nora" and customer["DISPLAYCONTACT.LASTNAME"] == "Quinn"
    assert customer["DISPLAYCONTACT.MAILADDRESS.ADDRESS1"] == "9 Elm St"
    assert customer["DISPLAYCONTACT.MAILADDRESS.CITY"] == "Albany"
    assert customer["DISPLAYCONTACT.MAILADDRESS.ZIP"] == "12207"

    assert so["CUSTVENDID"] == want and so["REFERENCENO"] == ref
    assert so["DOCID"].startswith("Sales Order-") and so["STATE"] == "Pending"
    assert D(so["TOTAL"]) == D("31.20")                  # 2 x 12.50 + FRT 5.00 + Tax 1.20
    doc = pair.intacct.document(so["DOCID"])
    assert doc["termname"] == "N30" and doc["SHIPVIAKEY"] == "UPS Ground"
    lines = [(l["itemid"], D(l["quantity"]), D(l["price"])) for l in doc["lines"]]
    assert lines == [("WIDGET-1", D(2), D("12.50")), ("FRT", D(1), D("5.00"))]
    assert doc["lines"][0]["warehouseid"] == "WH1"
    assert [(s["description"], D(s["total"])) for s in doc["subtotals"]] == [("Tax", D("1.20"))]

    [payment] = wait_until(lambda: pair.intacct.payments(made["order_number"]), message="the ARPYMT")
    assert payment["CUSTOMERID"] == want and payment["DOCNUMBER"].startswith(ref + "-P")
    assert D(payment["TRX_PAYMENTAMOUNT"]) == D("31.20")
    assert payment["FINANCIALENTITY"] == "BOA" and payment["PAYMENTMETHOD"] == "Credit Card"

    # a second order of the same customer: no second CUSTOMER
    again = pair.store.order(email=email, first_name="Nora", last_name="Quinn", address=ADDRESS)
    assert pair.in_intacct(again)["CUSTVENDID"] == want
    assert len(pair.intacct.customers_with(email)) == 1
    assert len(pair.intacct.orders(made["order_number"])) == 1


def test_a_customerid_intacct_already_holds_bl34000061_is_that_customer_updated(pair):
    """An ERP user keyed the customer first, the e-mail with capitals: the lookup by e-mail misses
    (Intacct compares case-sensitively), the create is refused with BL34000061, and the customer
    read by CUSTOMERID carries the same e-mail: it is the order's customer, brought up to date."""
    email = new_email("mia.ross")
    number = customer_number(email)
    pair.intacct.seed_customer(**{"CUSTOMERID": number, "NAME": "M. Ross (keyed)",
                                  "DISPLAYCONTACT.EMAIL1": email.upper()})
    made = pair.store.order(email=email, first_name="Mia", last_name="Ross", address=ADDRESS)
    so = pair.in_intacct(made)
    assert so["CUSTVENDID"] == number
    holders = [c for c in pair.intacct.objects("CUSTOMER") if c["CUSTOMERID"] == number]
    assert len(holders) == 1
    wait_until(lambda: pair.intacct.customer(number)["NAME"] == "Mia Ross", message="the customer updated")


# -- Intacct -> X-Cart ---------------------------------------------------------------------------

def test_a_stock_count_in_intacct_sets_the_xcart_amount(pair):
    sku = "A1-310/0"
    pair.intacct.stock(sku, "WH2", "500")                   # WH2 is not the store's warehouse
    pair.intacct.stock(sku, "WH1", "437", on_hold="12")
    record = pair.store.product_becomes(sku, "amount 425 (on hand - on hold)", amount=425)
    assert record["enabled"] is True


def test_a_price_change_in_intacct_sets_the_xcart_price(pair):
    sku = "WIDGET-2"
    pair.intacct.item(sku, BASEPRICE="16.75")
    record = pair.store.product_becomes(sku, "price 16.75", price=16.75)
    assert record["enabled"] is True
    pair.intacct.item(sku, STATUS="inactive")
    pair.store.product_becomes(sku, "disabled", enabled=False)
    pair.intacct.item(sku, STATUS="active")
    pair.store.product_becomes(sku, "enabled again", enabled=True)


def test_an_order_shipped_in_intacct_is_shipped_in_xcart_with_its_tracking_number(pair):
    made = pair.store.order(email=new_email("Sam.Ship"), items=[{"sku": "GADGET-1", "name": "Gadget, small",
                                                                 "price": "24.50", "amount": 1}])
    pair.in_intacct(made)
    pair.intacct.ship(referenceno=PREFIX + made["order_number"], tracking="1ZIT0000000000091", carrier="UPS Ground")
    order = wait_until(lambda: (o := pair.store.api_order(made["id"]))["tracking_numbers"]
                       and o["shipping_status"]["code"] == "S" and o, timeout=45,
                       message="shipped with its tracking number")
    assert [t["value"] for t in order["tracking_numbers"]] == ["1ZIT0000000000091"]
    assert order["payment_status"]["code"] == "P"          # the pair sets only the shipping status
    [so] = pair.intacct.orders(made["order_number"])
    assert so["STATE"] == "Converted"


# -- reconcile (before the DLQ test: every order placed so far is in Intacct) ----------------------

def test_sagebridge_reconcile_proves_the_pairs_orders_and_payments(pair):
    for made in pair.store.placed:
        pair.in_intacct(made)
    wait_until(lambda: all(pair.intacct.payments(m["order_number"]) for m in pair.store.placed), timeout=60,
               message="every order's ARPYMT")
    now = datetime.now(timezone.utc)
    env = {**os.environ, **pair.stack.service_env("storefront-writer"), **pair.stack.service_env("erp-writer")}
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    window = ["--from", (now - timedelta(hours=1)).isoformat(), "--to", (now + timedelta(minutes=5)).isoformat()]
    done = subprocess.run([SAGEBRIDGE, "reconcile", "--pair", pair.id, "--pairs-path", str(pair.stack.pair_file),
                           *window, "--payments", "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["clean"] is True and report["gaps"] == [], report
    counts = report["counts"]
    assert counts["matched"] == len(pair.store.placed), report
    assert counts["receipts_matched"] == len(pair.store.placed), report
    assert counts["missing_in_erp"] == counts["duplicated"] == counts["total_mismatch"] == 0, report


# -- refusals ----------------------------------------------------------------------------------

def test_an_unknown_item_goes_to_the_dlq_with_intaccts_message_and_correction(pair, bootstrap):
    made = pair.store.order(email=new_email("Una.Known"),
                            items=[{"sku": "WIDGET-1", "name": "Widget", "price": "12.50", "amount": 1},
                                   {"sku": "DISCONTINUED-9", "name": "Old stock", "price": "1.00", "amount": 1}])
    later = pair.store.order(email=new_email("Lou.Later"))
    key = str(made["id"]).encode()
    [dead] = wait_until(lambda: [header_dict(m.headers()) for m in read_all(bootstrap, ORDERS + ".dlq", idle=0.5)
                                 if m.key() == key], timeout=60, message="the order's DLQ record")
    message = dead[ERROR_PREFIX + "exception.message"]
    assert dead[ERROR_PREFIX + "reason"] == "intacct_BL03000018", dead
    assert "Invalid Item DISCONTINUED-9" in message and "Use a valid item ID" in message, message
    pair.in_intacct(later)                                    # the flow goes on
    assert pair.intacct.orders(made["order_number"]) == []
