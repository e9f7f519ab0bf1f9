"""Sage 300 simulator, issue 6 resources: AR customers (e-mail lookup, create, PATCH), receipt and
adjustment batches, GL journal batches, currencies, full OE orders and the admin routes, over real HTTP
(uvicorn) with the tables checked through a second, independent ODBC connection.

Payload shapes are the Sage300-SDK samples (samples/WebApi_SamplePostPayloads/AR/ARCustomers.txt,
AR/ARReceiptAndAdjustmentBatches_Prepayment.txt, AR/ARReceiptAndAdjustmentBatches_Adjustment.txt,
GL/GLJournalBatches.txt), with the sample's customer and accounts swapped for seeded ones.
"""
from __future__ import annotations

import copy
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import httpx
import pyodbc
import pytest

from sagebridge_sim.faults import FaultInjector
from sagebridge_sim.sage300 import Sage300Database, create_app
from sagebridge_sim.sage300.testing import JSON_CT, assert_error, loads
from sagebridge_sim.serve import BackgroundServer

USER, PASSWORD = "WEBAPI", "Ledger!1"

PREPAYMENT = {  # the SDK's Prepayment sample, customer 1500 -> the seeded 1200
    "BatchRecordType": "CA", "BatchNumber": 146, "BatchDate": "2020-01-05", "Description": "prepay",
    "NumberOfEntries": 1, "BankCode": "SEATAC", "DefaultBankCurrency": "USD",
    "ReceiptsAdjustments": [{
        "BatchType": "CA", "BatchNumber": 146, "EntryNumber": 1, "CustomerNumber": "1200",
        "ReceiptDateAdjustmentDate": "2020-01-05", "EntryDescription": "1", "EntryReference": "",
        "BankReceiptAmount": 22, "CustomerReceiptAmount": 22, "TotalCustomerAmountApplied": 22,
        "ReceiptTransactionType": "Prepayment", "CustomerUnappliedAmount": 0,
        "AppliedReceiptsAdjustments": [{"BatchType": "CA", "BatchNumber": 146, "EntryNumber": 1, "LineNumber": 20,
                                        "CustomerNumber": "1200", "PaymentNumber": 1, "CustomerReceiptAmount": 22}],
    }],
}
ADJUSTMENT = {  # the SDK's Adjustment sample (customer 1200, account 4030 as in the sample)
    "BatchRecordType": "AD", "BatchNumber": 2, "BatchDate": "2020-11-02", "Description": "test adjustment webapi",
    "ReceiptsAdjustments": [{
        "BatchType": "AD", "BatchNumber": 2, "EntryNumber": 1, "CustomerNumber": "1200",
        "ReceiptDateAdjustmentDate": "2020-11-02", "EntryDescription": "webapi", "EntryReference": "",
        "AppliedReceiptsAdjustments": [{
            "BatchType": "AD", "BatchNumber": 2, "EntryNumber": 1, "LineNumber": 20, "CustomerNumber": "1200",
            "DocumentNumber": "TR-INV-003", "PaymentNumber": 1, "Description": "", "Reference": "",
            "AdjustmentGLDistributions": [{
                "BatchType": "AD", "BatchNumber": 2, "EntryNumber": 1, "LineNumber": 20, "SequenceNumber": 1,
                "TransactionType": 81, "DistributionAmount": -1, "DistributionCode": "DESK",
                "DistributionGLAccount": "4030"}],
        }],
    }],
}


def journal(description: str, amounts=(("1020", "30.00"), ("1000", "-10.00"), ("6100", "-20.00"))) -> dict:
    """The SDK's GLJournalBatches sample shape with seeded accounts."""
    return {"BatchNumber": "000490", "Status": "Open", "Description": description, "JournalHeaders": [{
        "BatchNumber": "000490", "EntryNumber": "00001", "SourceLedger": "GL", "SourceType": "JE",
        "Description": "entry 1", "DocumentDate": "2020-01-05",
        "JournalDetails": [{"TransactionNumber": f"{20 * (i + 1):010d}", "AccountNumber": acct, "Amount": amt,
                            "SourceCurrencyAmount": amt, "Description": "fee", "Reference": description}
                           for i, (acct, amt) in enumerate(amounts)]}]}


def order_body(ref: str, **extra) -> dict:
    return {"CustomerNumber": "WEBCUST", "OrderDate": "2024-11-05", "OrderReference": ref,
            "OrderDetails": [{"LineType": "Item", "Item": "A1-105/0", "Location": "1", "QuantityOrdered": 2,
                              "OrderUnitPrice": "19.99", "PriceOverride": True}], **extra}


def tag() -> str:
    return uuid.uuid4().hex[:8].upper()


@pytest.fixture(scope="module")
def db_path(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("sage300-ledgers") / "SAMINC.db"


@pytest.fixture(scope="module")
def injector() -> FaultInjector:
    return FaultInjector()


@pytest.fixture(scope="module")
def database(db_path):
    db = Sage300Database(str(db_path))
    db.seed_demo()
    yield db
    db.close()


@pytest.fixture(scope="module")
def server(database, injector):
    with BackgroundServer(create_app(database, user=USER, password=PASSWORD, injector=injector)) as srv:
        yield srv


@pytest.fixture()
def api(server, injector):
    injector.configure(reset=True)
    with httpx.Client(base_url=f"{server.url}/Sage300WebApi/v1.0/-/SAMINC", auth=(USER, PASSWORD),
                      headers=JSON_CT, timeout=10) as client:
        yield client


@pytest.fixture()
def admin(server):
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


@pytest.fixture()
def raw(db_path):
    """An independent ODBC connection, like the CDC reader's."""
    conn = pyodbc.connect(f"DRIVER={{SQLite3}};Database={db_path}", autocommit=True)
    yield conn.cursor()
    conn.close()


def new_customer(api: httpx.Client, **extra) -> dict:
    number = f"W{tag()}"
    body = {"CustomerNumber": number, "ShortName": number[:10], "GroupCode": "WEB", "Status": "Active",
            "OnHold": "No", "CustomerName": "Ada Shopper", "AddressLine1": "1 Loop Road", "City": "Albany",
            "StateProvince": "NY", "ZipPostalCode": "12207", "Country": "USA", "ContactName": "Ada Shopper",
            "PhoneNumber": "5185550100", "Email": f"{number.lower()}@example.com", "AccountSet": "USA",
            "Terms": "N30", "TaxGroup": "USDTAX", "CurrencyCode": "USD", "CheckForDuplicatePOs": "Error", **extra}
    r = api.post("/AR/ARCustomers", json=body)
    assert r.status_code == 201, r.text
    return loads(r)


# ----- AR customers ---------------------------------------------------------------------------------
def test_email_filter_is_case_sensitive_on_the_trimmed_stored_value(api, raw):
    mixed = f"Ada.{tag()}@Example.com"
    made = new_customer(api, Email=mixed)
    (stored,) = raw.execute('SELECT "EMAIL2" FROM "ARCUS" WHERE "IDCUST" = ?', made["CustomerNumber"].ljust(12)).fetchone()
    assert stored == mixed.ljust(50)                                   # CHAR(50), space-padded

    def found(text: str) -> list[str]:
        feed = loads(api.get("/AR/ARCustomers", params={"$filter": text, "$top": "5"}))
        return [c["CustomerNumber"] for c in feed["value"]]

    assert found(f"Email eq '{mixed}'") == [made["CustomerNumber"]]
    assert found(f"Email eq '{mixed.lower()}'") == []                 # case matters
    assert found(f"Email eq '{mixed.upper()}'") == []
    assert found(f"Email eq '{mixed.lower()}' or Email eq '{mixed}'") == [made["CustomerNumber"]]
    lower = new_customer(api, Email=mixed.lower())
    both = found(f"Email eq '{mixed.lower()}' or Email eq '{mixed}'")
    assert sorted(both) == sorted([made["CustomerNumber"], lower["CustomerNumber"]])
    assert found(f"Email eq '{'x' * 51}'") == []                       # longer than the column: no match
    padded = new_customer(api, Email=f"  Pad.{tag()}@example.com")    # as a clerk might have typed it
    assert padded["Email"] == padded["Email"].strip()
    (kept,) = raw.execute('SELECT "EMAIL2" FROM "ARCUS" WHERE "IDCUST" = ?', padded["CustomerNumber"].ljust(12)).fetchone()
    assert kept.startswith("  Pad.")                                   # stored as sent
    assert found(f"Email eq '{padded['Email']}'") == [padded["CustomerNumber"]]
    assert found(f"Email eq '{padded['Email'].lower()}'") == []


def test_customer_post_is_stored_field_by_field_with_the_duplicate_po_option(api, raw):
    made = new_customer(api)
    assert (made["Status"], made["OnHold"], made["CheckForDuplicatePOs"], made["CurrencyCode"]) == \
        ("Active", "No", "Error", "USD")
    row = raw.execute('SELECT "TEXTSNAM", "NAMECITY", "CODESTTE", "CODECTRY", "SWCHKDUPPO", "IDACCTSET", '
                      '"CODETERM", "CODETAXGRP", "SWACTV", "SWHOLD" FROM "ARCUS" WHERE "IDCUST" = ?',
                      made["CustomerNumber"].ljust(12)).fetchone()
    assert [v.rstrip() if isinstance(v, str) else int(v) for v in row] == \
        [made["CustomerNumber"][:10], "Albany", "NY", "USA", 2, "USA", "N30", "USDTAX", 1, 0]
    po = f"PO-{tag()}"
    body = order_body("DUP-PO", CustomerNumber=made["CustomerNumber"], PurchaseOrderNumber=po)
    assert api.post("/OE/OEOrders", json=body).status_code == 201
    assert "already been used" in assert_error(api.post("/OE/OEOrders", json=body), 400, "RecordInvalid")


@pytest.mark.parametrize("change, status, code, named", [
    ({"CustomerName": "N" * 61}, 400, "RecordInvalid", "CustomerName"),
    ({"ShortName": "S" * 11}, 400, "RecordInvalid", "ShortName"),
    ({"Email": "e" * 45 + "@x.com"}, 400, "RecordInvalid", "Email"),
    ({"CustomerNumber": "C" * 13}, 400, "RecordInvalid", "CustomerNumber"),
    ({"Status": 1}, 400, "InvalidPayload", "Status"),
    ({"OnHold": "Maybe"}, 400, "InvalidPayload", "OnHold"),
    ({"CheckForDuplicatePOs": "Strict"}, 400, "InvalidPayload", "CheckForDuplicatePOs"),
    ({"Emial": "typo@example.com"}, 400, "InvalidPayload", "Emial"),
    ({"CurrencyCode": "XYZ"}, 400, "RecordInvalid", "XYZ"),
])
def test_customer_post_refusals_store_nothing(api, raw, change, status, code, named):
    number = f"R{tag()}"
    body = {"CustomerNumber": number, "CustomerName": "Refused", **change}
    assert named in assert_error(api.post("/AR/ARCustomers", json=body), status, code)
    assert raw.execute('SELECT COUNT(*) FROM "ARCUS" WHERE "IDCUST" = ?', number.ljust(12)).fetchone()[0] == 0


def test_concurrent_creates_of_one_number_give_one_customer_and_409s(api, server):
    number = f"W{tag()}"
    url = f"{server.url}/Sage300WebApi/v1.0/-/SAMINC/AR/ARCustomers"
    body = {"CustomerNumber": number, "CustomerName": "Raced", "Email": f"{number}@example.com"}
    with ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(lambda _: httpx.post(url, json=body, auth=(USER, PASSWORD), headers=JSON_CT,
                                                      timeout=10), range(5)))
    assert sorted(r.status_code for r in answers) == [201, 409, 409, 409, 409]
    for r in answers:
        if r.status_code == 409:
            assert number in assert_error(r, 409, "RecordDuplicate")
    found = loads(api.get("/AR/ARCustomers", params={"$filter": f"Email eq '{number}@example.com'"}))["value"]
    assert [c["CustomerNumber"] for c in found] == [number]


def test_patch_changes_only_the_properties_sent(api, raw):
    made = new_customer(api)
    key = made["CustomerNumber"]
    r = api.patch(f"/AR/ARCustomers('{key}')", json={"AddressLine1": "9 New Street", "PhoneNumber": "5185550199"})
    assert r.status_code == 200, r.text
    patched = loads(r)
    assert (patched["AddressLine1"], patched["PhoneNumber"]) == ("9 New Street", "5185550199")
    assert {k: v for k, v in patched.items() if k not in ("AddressLine1", "PhoneNumber", "odata.context")} == \
        {k: v for k, v in made.items() if k not in ("AddressLine1", "PhoneNumber", "odata.context")}
    (street,) = raw.execute('SELECT "TEXTSTRE1" FROM "ARCUS" WHERE "IDCUST" = ?', key.ljust(12)).fetchone()
    assert street.rstrip() == "9 New Street"
    assert "CustomerName" in assert_error(api.patch(f"/AR/ARCustomers('{key}')", json={"CustomerName": "x" * 61}),
                                          400, "RecordInvalid")
    assert_error(api.patch(f"/AR/ARCustomers('{key}')", json={"CustomerNumber": "OTHER"}), 400, "InvalidPayload")
    assert_error(api.patch("/AR/ARCustomers('NOBODY')", json={"City": "Troy"}), 404, "RecordNotFound")
    assert loads(api.get(f"/AR/ARCustomers('{key}')"))["CustomerName"] == "Ada Shopper"   # refusals changed nothing
    assert_error(api.patch("/OE/OEOrders(1)", json={}), 405, "MethodNotAllowed")


# ----- receipts and adjustments ----------------------------------------------------------------------
def test_prepayment_sample_makes_a_receipt_batch_found_by_description(api, raw):
    body = copy.deepcopy(PREPAYMENT)
    body["Description"] = f"XC1-1001-P{tag()}"
    body["ReceiptsAdjustments"][0]["EntryReference"] = "XC1-1001"
    r = api.post("/AR/ARReceiptAndAdjustmentBatches", json=body)
    assert r.status_code == 201, r.text
    batch = loads(r)
    number = batch["BatchNumber"]
    assert isinstance(number, int) and batch["BatchRecordType"] == "CA" and batch["BankCode"] == "SEATAC"
    assert r.headers["location"].endswith(f"ARReceiptAndAdjustmentBatches(BatchRecordType='CA',BatchNumber={number})")
    (entry,) = batch["ReceiptsAdjustments"]
    assert (entry["EntryNumber"], entry["CustomerNumber"], entry["ReceiptTransactionType"]) == (1, "1200", "Prepayment")
    assert entry["BankReceiptAmount"] == entry["CustomerReceiptAmount"] == Decimal("22.000")
    assert [a["LineNumber"] for a in entry["AppliedReceiptsAdjustments"]] == [20]
    assert batch["BatchTotal"] == Decimal("22.000") and batch["NumberOfEntries"] == 1

    rows = raw.execute('SELECT "IDCUST", "AMTRMIT", "RMITTYPE", "TXTRMITREF" FROM "ARTCR" WHERE "CODEPYMTYP" = ? '
                       'AND "CNTBTCH" = ?', "CA", number).fetchall()
    assert [(c.rstrip(), Decimal(a), int(t), ref.rstrip()) for c, a, t, ref in rows] == \
        [("1200", Decimal("22"), 2, "XC1-1001")]
    (bank,) = raw.execute('SELECT "IDBANK" FROM "ARBTA" WHERE "CODEPYMTYP" = ? AND "CNTBTCH" = ?', "CA", number).fetchone()
    assert bank == "SEATAC  "

    feed = loads(api.get("/AR/ARReceiptAndAdjustmentBatches", params={
        "$filter": f"BatchRecordType eq 'CA' and Description eq '{body['Description']}'"}))
    assert [b["BatchNumber"] for b in feed["value"]] == [number]
    assert loads(api.get("/AR/ARReceiptAndAdjustmentBatches", params={
        "$filter": f"BatchRecordType eq 'AD' and Description eq '{body['Description']}'"}))["value"] == []
    by_number = loads(api.get("/AR/ARReceiptAndAdjustmentBatches", params={
        "$filter": f"BatchRecordType eq 'CA' and BatchNumber eq {number}"}))["value"]
    assert [b["Description"] for b in by_number] == [body["Description"]]
    one = loads(api.get(f"/AR/ARReceiptAndAdjustmentBatches(BatchRecordType = 'CA', BatchNumber = {number})"))
    assert one["Description"] == body["Description"] and len(one["ReceiptsAdjustments"]) == 1
    assert_error(api.get(f"/AR/ARReceiptAndAdjustmentBatches(BatchNumber = {number})"), 400, "InvalidEntityKey")
    assert_error(api.get("/AR/ARReceiptAndAdjustmentBatches(BatchRecordType = 'CA', BatchNumber = 999999)"),
                 404, "RecordNotFound")
    again = loads(api.post("/AR/ARReceiptAndAdjustmentBatches", json=body))      # no dedup: a second batch
    assert again["BatchNumber"] == number + 1


def test_adjustment_sample_stores_its_gl_distribution(api, raw):
    body = copy.deepcopy(ADJUSTMENT)
    body["Description"] = f"XC1-1001-R{tag()}"
    r = api.post("/AR/ARReceiptAndAdjustmentBatches", json=body)
    assert r.status_code == 201, r.text
    batch = loads(r)
    (entry,) = batch["ReceiptsAdjustments"]
    assert "ReceiptTransactionType" not in entry
    (line,) = entry["AppliedReceiptsAdjustments"]
    assert (line["LineNumber"], line["DocumentNumber"]) == (20, "TR-INV-003")
    (dist,) = line["AdjustmentGLDistributions"]
    assert (dist["DistributionGLAccount"], dist["DistributionAmount"], dist["DistributionCode"]) == \
        ("4030", Decimal("-1.000"), "DESK")
    rows = raw.execute('SELECT "IDACCT", "AMTDIST" FROM "ARTCU" WHERE "CODEPYMTYP" = ? AND "CNTBTCH" = ?',
                       "AD", batch["BatchNumber"]).fetchall()
    assert [(a.rstrip(), Decimal(v)) for a, v in rows] == [("4030", Decimal("-1"))]


def _with(body: dict, path: tuple, value) -> dict:
    out = copy.deepcopy(body)
    target = out
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return out


ENTRY, LINE = ("ReceiptsAdjustments", 0), ("ReceiptsAdjustments", 0, "AppliedReceiptsAdjustments", 0)


@pytest.mark.parametrize("body, code, named", [
    (_with(PREPAYMENT, ("BankCode",), "NOBANK"), "RecordInvalid", "NOBANK"),
    (_with(PREPAYMENT, ("BankCode",), ""), "InvalidPayload", "BankCode"),
    (_with(PREPAYMENT, (*ENTRY, "CustomerNumber"), "NOBODY"), "RecordInvalid", "NOBODY"),
    (_with(PREPAYMENT, (*ENTRY, "BankReceiptAmount"), 21), "RecordInvalid", "BankReceiptAmount"),
    (_with(PREPAYMENT, (*LINE, "CustomerReceiptAmount"), 23), "RecordInvalid", "exceed"),
    (_with(PREPAYMENT, (*ENTRY, "ReceiptTransactionType"), "Gift"), "InvalidPayload", "ReceiptTransactionType"),
    (_with(PREPAYMENT, ("BatchRecordType",), "XX"), "InvalidPayload", "BatchRecordType"),
    (_with(PREPAYMENT, ("Memo",), "x"), "InvalidPayload", "Memo"),
    (_with(PREPAYMENT, (*ENTRY, "Amount"), 22), "InvalidPayload", "Amount"),
    (_with(PREPAYMENT, ("Description",), "d" * 61), "RecordInvalid", "Description"),
    (_with(ADJUSTMENT, (*LINE, "AdjustmentGLDistributions", 0, "DistributionGLAccount"), "9999"),
     "RecordInvalid", "9999"),
    (_with(ADJUSTMENT, (*LINE, "AdjustmentGLDistributions"), []), "InvalidPayload", "AdjustmentGLDistributions"),
])
def test_receipt_batch_refusals_store_nothing(api, admin, body, code, named):
    description = f"REFUSED-{tag()}"
    if len(body.get("Description", "")) <= 60:
        body = {**body, "Description": description}
    assert named in assert_error(api.post("/AR/ARReceiptAndAdjustmentBatches", json=body), 400, code)
    assert all(b["Description"] != description for b in admin.get("/_sim/receipts").json())


@pytest.mark.parametrize("path, make, find", [
    ("/AR/ARReceiptAndAdjustmentBatches", lambda d: _with(PREPAYMENT, ("Description",), d),
     lambda d: f"Description eq '{d}'"),
    ("/GL/GLJournalBatches", journal, lambda d: f"Description eq '{d}'"),
    ("/AR/ARCustomers", lambda d: {"CustomerNumber": d[:12], "CustomerName": "Late", "Email": f"{d}@x.com"},
     lambda d: f"Email eq '{d}@x.com'"),
])
def test_a_write_commits_after_the_client_gave_up(api, injector, path, make, find):
    """Fault commit_late_ms: the POST is validated, held, then committed although the client timed out."""
    injector.configure(commit_late_ms=1500, commit_late_count=1)
    description = f"L{tag()}"
    with pytest.raises(httpx.ReadTimeout):
        api.post(path, json=make(description), timeout=0.3)
    query = {"$filter": find(description)}
    assert loads(api.get(path, params=query))["value"] == []                 # not committed yet
    deadline = time.monotonic() + 10
    while not (landed := loads(api.get(path, params=query))["value"]):
        assert time.monotonic() < deadline, "the late commit never landed"
        time.sleep(0.05)
    assert len(landed) == 1


def test_injected_fault_on_a_batch_post_has_the_sage_error_body(api, admin):
    admin.post("/_sim/faults", json={"error_status": 503, "error_count": 1, "retry_after_s": 3})
    body = _with(PREPAYMENT, ("Description",), f"FAULT-{tag()}")
    r = api.post("/AR/ARReceiptAndAdjustmentBatches", json=body)
    assert r.headers["retry-after"] == "3"
    assert_error(r, 503, "InternalServerError")
    assert all(b["Description"] != body["Description"] for b in admin.get("/_sim/receipts").json())


# ----- GL journals ------------------------------------------------------------------------------------
def test_balanced_journal_is_numbered_and_found_by_description(api, raw):
    description = f"FEES-{tag()}"
    r = api.post("/GL/GLJournalBatches", json=journal(description))
    assert r.status_code == 201, r.text
    batch = loads(r)
    assert len(batch["BatchNumber"]) == 6 and batch["BatchNumber"].isdigit() and batch["Status"] == "Open"
    (header,) = batch["JournalHeaders"]
    assert (header["EntryNumber"], header["SourceLedger"], header["SourceType"]) == ("00001", "GL", "JE")
    assert (header["Debits"], header["Credits"]) == (Decimal("30.000"), Decimal("30.000"))
    assert [(d["TransactionNumber"], d["AccountNumber"], d["Amount"]) for d in header["JournalDetails"]] == [
        ("0000000020", "1020", Decimal("30.000")), ("0000000040", "1000", Decimal("-10.000")),
        ("0000000060", "6100", Decimal("-20.000"))]
    rows = raw.execute('SELECT "ACCTID", "TRANSAMT" FROM "GLJED" WHERE "BATCHID" = ? ORDER BY "TRANSNBR"',
                       batch["BatchNumber"]).fetchall()
    assert [(a.rstrip(), Decimal(v)) for a, v in rows] == [("1020", 30), ("1000", -10), ("6100", -20)]
    feed = loads(api.get("/GL/GLJournalBatches", params={"$filter": f"Description eq '{description}'"}))
    assert [b["BatchNumber"] for b in feed["value"]] == [batch["BatchNumber"]]
    assert loads(api.get(f"/GL/GLJournalBatches('{batch['BatchNumber']}')"))["Description"] == description
    second = loads(api.post("/GL/GLJournalBatches", json=journal(description)))
    assert int(second["BatchNumber"]) == int(batch["BatchNumber"]) + 1


@pytest.mark.parametrize("amounts, code, named", [
    ((("1020", "30.00"), ("1000", "-29.99")), "RecordInvalid", "out of balance"),
    ((("1020", "30.00"), ("9999", "-30.00")), "RecordInvalid", "9999"),
    ((("1020", "30.0001"), ("1000", "-30.0001")), "InvalidPayload", "decimal places"),
    ((), "InvalidPayload", "JournalDetails"),
])
def test_journal_refusals_store_nothing(api, admin, amounts, code, named):
    description = f"BAD-{tag()}"
    assert named in assert_error(api.post("/GL/GLJournalBatches", json=journal(description, amounts)), 400, code)
    assert all(b["Description"] != description for b in admin.get("/_sim/journals").json())


# ----- currencies -------------------------------------------------------------------------------------
def test_currency_codes_one_and_feed(api):
    assert loads(api.get("/CS/CSCurrencyCodes('EUR')"))["Description"] == "Euro"
    assert_error(api.get("/CS/CSCurrencyCodes('XYZ')"), 404, "RecordNotFound")
    codes = [c["CurrencyCode"] for c in loads(api.get("/CS/CSCurrencyCodes"))["value"]]
    assert {"USD", "CAD", "EUR", "GBP"} <= set(codes)


# ----- full OE orders ----------------------------------------------------------------------------------
def test_order_with_misc_lines_tax_override_and_addresses(api, raw):
    ref = f"XC1-{tag()}"
    lines = order_body(ref)["OrderDetails"] + [
        {"LineType": "Miscellaneous", "MiscellaneousChargesCode": code, "ExtendedAmount": amount, "Description": desc}
        for code, amount, desc in (("FRT", "7.50", "Shipping"), ("HAND", "1.25", "Handling"),
                                   ("MISC", "0.99", "Gift wrap"))]
    body = order_body(ref, OrderDetails=lines, OrderDiscountAmount="4.00", TaxOverride=True, TaxAmount1="3.21",
                      BillToName="Ada Shopper", BillToAddressLine1="1 Loop Road", BillToAddressLine3="Floor 3",
                      BillToCity="Albany", BillToStateProvince="NY", BillToZipPostalCode="12207",
                      BillToCountry="USA", ShipToName="Bob Receiver", ShipToAddressLine1="5 Dock St",
                      ShipToCity="Toronto", ShipToStateProvince="ON", ShipToZipPostalCode="M5V 2T6",
                      ShipToCountry="CAN", ShipToContact="Bob", OrderSourceCurrency="USD")
    r = api.post("/OE/OEOrders", json=body)
    assert r.status_code == 201, r.text
    entry = loads(r)
    items, misc = Decimal("39.98"), Decimal("7.50") + Decimal("1.25") + Decimal("0.99")
    assert (entry["ItemTotal"], entry["MiscellaneousChargesTotal"]) == (items, misc)
    assert entry["OrderTotal"] == items + misc - Decimal("4.00") + Decimal("3.21")
    assert (entry["TaxOverride"], entry["TaxAmount1"]) == (True, Decimal("3.21"))
    assert [d["MiscellaneousChargesCode"] for d in entry["OrderDetails"][1:]] == ["FRT", "HAND", "MISC"]
    assert [d["LineNumber"] for d in entry["OrderDetails"]] == [32, 64, 96, 128]
    row = raw.execute('SELECT "BILCOUNTRY", "BILADDR3", "SHPCOUNTRY", "SHPCITY", "SHPCONTACT", "ORHOMECURR", '
                      '"TAXOVERRD" FROM "OEORDH" WHERE "ORDUNIQ" = ?', entry["OrderUniquifier"]).fetchone()
    assert [v.rstrip() if isinstance(v, str) else int(v) for v in row] == \
        ["USA", "Floor 3", "CAN", "Toronto", "Bob", "USD", 1]


def test_order_without_ship_to_takes_the_customer_address_and_zero_tax(api):
    made = new_customer(api)
    entry = loads(api.post("/OE/OEOrders", json=order_body(f"XC1-{tag()}", CustomerNumber=made["CustomerNumber"])))
    assert (entry["BillToCountry"], entry["ShipToCountry"], entry["ShipToCity"]) == ("USA", "USA", "Albany")
    assert (entry["BillToPhoneNumber"], entry["BillToEmail"]) == (made["PhoneNumber"], made["Email"])
    assert (entry["TaxOverride"], entry["TaxAmount1"], entry["OrderTotal"]) == (False, Decimal("0.000"),
                                                                               Decimal("39.980"))


@pytest.mark.parametrize("extra, code, named", [
    ({"OrderSourceCurrency": "XYZ"}, "RecordInvalid", "XYZ"),
    ({"OrderSourceCurrency": "EUR"}, "RecordInvalid", "EUR"),             # WEBCUST is a USD customer
    ({"OrderRateType": "SPOT"}, "RecordInvalid", "OrderRateType"),
    ({"TaxOverride": "yes"}, "InvalidPayload", "TaxOverride"),
    ({"ShipToCountry": "C" * 31}, "RecordInvalid", "ShipToCountry"),
])
def test_order_currency_tax_and_address_refusals(api, extra, code, named):
    ref = f"XC1-{tag()}"
    assert named in assert_error(api.post("/OE/OEOrders", json=order_body(ref, **extra)), 400, code)
    assert loads(api.get("/OE/OEOrders", params={"$filter": f"OrderReference eq '{ref}'"}))["value"] == []


def test_unknown_misc_charge_code_is_record_invalid(api):
    body = order_body(f"XC1-{tag()}")
    body["OrderDetails"].append({"LineType": "Miscellaneous", "MiscellaneousChargesCode": "COUPON",
                                 "ExtendedAmount": "1.00"})
    assert "COUPON" in assert_error(api.post("/OE/OEOrders", json=body), 400, "RecordInvalid")


def test_foreign_currency_order_carries_the_rate_type(api):
    made = new_customer(api, CurrencyCode="EUR")
    entry = loads(api.post("/OE/OEOrders", json=order_body(
        f"XC1-{tag()}", CustomerNumber=made["CustomerNumber"], OrderSourceCurrency="EUR", OrderRateType="SP")))
    assert (entry["OrderSourceCurrency"], entry["OrderHomeCurrency"], entry["OrderRateType"]) == ("EUR", "USD", "SP")


def test_strict_tax_ignores_tax_amount_without_override(database):
    with BackgroundServer(create_app(database, user=USER, password=PASSWORD, strict_tax=True)) as srv, \
            httpx.Client(base_url=f"{srv.url}/Sage300WebApi/v1.0/-/SAMINC", auth=(USER, PASSWORD),
                         headers=JSON_CT, timeout=10) as strict:
        plain = loads(strict.post("/OE/OEOrders", json=order_body(f"XC1-{tag()}", TaxAmount1="3.00")))
        kept = loads(strict.post("/OE/OEOrders", json=order_body(f"XC1-{tag()}", TaxAmount1="3.00",
                                                                  TaxOverride=True)))
    assert (plain["TaxAmount1"], plain["OrderTotal"]) == (Decimal("0.000"), Decimal("39.980"))
    assert (kept["TaxAmount1"], kept["OrderTotal"]) == (Decimal("3.000"), Decimal("42.980"))


# ----- admin --------------------------------------------------------------------------------------------
def test_admin_duplicate_then_delete_an_order(api, admin, raw):
    ref, po = f"XC1-{tag()}", f"XC1-{tag()}"
    original = loads(api.post("/OE/OEOrders", json=order_body(ref, PurchaseOrderNumber=po)))
    stock = 'SELECT "QTYCOMMIT" FROM "ICILOC" WHERE "ITEMNO" = ? AND "LOCATION" = ?'
    key = ("A11050".ljust(24), "1".ljust(6))
    before = Decimal(raw.execute(stock, *key).fetchone()[0])

    r = admin.post(f"/_sim/orders/{original['OrderNumber']}/duplicate")
    assert r.status_code == 201, r.text
    dup = loads(r)
    assert dup["OrderNumber"] != original["OrderNumber"] and dup["OrderUniquifier"] != original["OrderUniquifier"]
    same = ("OrderReference", "PurchaseOrderNumber", "CustomerNumber", "OrderTotal", "OrderDate")
    assert {k: dup[k] for k in same} == {k: original[k] for k in same}
    assert [d["Item"] for d in dup["OrderDetails"]] == [d["Item"] for d in original["OrderDetails"]]
    assert Decimal(raw.execute(stock, *key).fetchone()[0]) == before + 2
    found = loads(api.get("/OE/OEOrders", params={"$filter": f"OrderReference eq '{ref}'"}))["value"]
    assert sorted(o["OrderNumber"] for o in found) == sorted([original["OrderNumber"], dup["OrderNumber"]])
    listed = loads(admin.get("/_sim/orders", params={"reference": [ref, "XC1-none"]}))
    assert sorted(o["OrderNumber"] for o in listed) == sorted([original["OrderNumber"], dup["OrderNumber"]])
    assert all(o["OrderDetails"] for o in listed)

    gone = admin.delete(f"/_sim/orders/{original['OrderNumber']}")
    assert gone.status_code == 200 and gone.json()["deleted"] == original["OrderNumber"]
    assert_error(api.get(f"/OE/OEOrders({original['OrderUniquifier']})"), 404, "RecordNotFound")
    assert Decimal(raw.execute(stock, *key).fetchone()[0]) == before
    left = loads(api.get("/OE/OEOrders", params={"$filter": f"OrderReference eq '{ref}'"}))["value"]
    assert [o["OrderNumber"] for o in left] == [dup["OrderNumber"]]
    assert_error(admin.delete(f"/_sim/orders/{original['OrderNumber']}"), 404, "RecordNotFound")
    assert_error(admin.post("/_sim/orders/NOPE/duplicate"), 404, "RecordNotFound")


def test_admin_lists_customers_receipts_journals_and_reset_clears_documents(api, admin):
    made = new_customer(api)
    receipt = loads(api.post("/AR/ARReceiptAndAdjustmentBatches", json=_with(PREPAYMENT, ("Description",),
                                                                             f"LIST-{tag()}")))
    entry = loads(api.post("/GL/GLJournalBatches", json=journal(f"LIST-{tag()}")))
    assert made["CustomerNumber"] in [c["CustomerNumber"] for c in admin.get("/_sim/customers").json()]
    listed = [b for b in admin.get("/_sim/receipts").json() if b["Description"] == receipt["Description"]]
    assert len(listed) == 1 and listed[0]["ReceiptsAdjustments"][0]["CustomerNumber"] == "1200"
    by_reference = admin.get("/_sim/receipts", params={"reference": "LIST"}).json()
    assert receipt["Description"] in [b["Description"] for b in by_reference]
    assert all(b["Description"].startswith("LIST-") for b in by_reference)
    assert admin.get("/_sim/receipts", params={"reference": "NOPE"}).json() == []
    journals = [b for b in admin.get("/_sim/journals").json() if b["Description"] == entry["Description"]]
    assert len(journals) == 1 and len(journals[0]["JournalHeaders"][0]["JournalDetails"]) == 3

    cleared = admin.post("/_sim/reset").json()
    assert cleared["cleared_receipt_batches"] >= 1 and cleared["cleared_journal_batches"] >= 1
    assert admin.get("/_sim/receipts").json() == [] and admin.get("/_sim/journals").json() == []
    assert made["CustomerNumber"] in [c["CustomerNumber"] for c in admin.get("/_sim/customers").json()]
    assert len(loads(api.get("/CS/CSCurrencyCodes"))["value"]) >= 4                      # seeds stay
    after = loads(api.post("/AR/ARReceiptAndAdjustmentBatches", json=_with(PREPAYMENT, ("Description",), "AFTER")))
    assert after["BatchNumber"] > receipt["BatchNumber"]                                  # numbers never reused


# ----- schema upgrade -------------------------------------------------------------------------------------
def test_an_older_database_gets_the_new_columns(tmp_path):
    path = tmp_path / "old.db"
    conn = pyodbc.connect(f"DRIVER={{SQLite3}};Database={path}", autocommit=True)
    conn.execute('CREATE TABLE "ARCUS" ("IDCUST" CHAR(12) NOT NULL, "AUDTDATE" DECIMAL(9,0) NOT NULL, '
                 '"AUDTTIME" DECIMAL(9,0) NOT NULL, "AUDTUSER" CHAR(8) NOT NULL, "AUDTORG" CHAR(6) NOT NULL, '
                 'PRIMARY KEY ("IDCUST"))')
    conn.execute('INSERT INTO "ARCUS" VALUES (?, 20240101, 0, ?, ?)', "OLD".ljust(12), "ADMIN".ljust(8), "SAMINC")
    conn.close()
    db = Sage300Database(str(path))
    try:
        db.create_schema()
        old = db.get("ARCUS", {"IDCUST": "OLD"})
        assert old is not None and old["CODETAXGRP"] == "" and old["SWCHKDUPPO"] == 0
    finally:
        db.close()


# ----- record locks -----------------------------------------------------------------------------------
@pytest.mark.parametrize("resource, path, make", [
    ("ARReceiptAndAdjustmentBatches", "/AR/ARReceiptAndAdjustmentBatches",
     lambda d: _with(PREPAYMENT, ("Description",), d)),
    ("GLJournalBatches", "/GL/GLJournalBatches", journal),
    ("OEOrders", "/OE/OEOrders", lambda d: order_body(d)),
])
def test_a_record_lock_refuses_writes_with_general_then_clears(api, admin, resource, path, make):
    assert admin.post("/_sim/record_locks", json={"resource": resource, "count": 1}).status_code == 200
    description = f"LOCK-{tag()}"
    assert "locked" in assert_error(api.post(path, json=make(description)), 400, "General")
    assert api.post(path, json=make(description)).status_code == 201            # the lock cleared
    stored = {"OEOrders": lambda: [o for o in admin.get("/_sim/orders").json() if o["OrderReference"] == description],
              "GLJournalBatches": lambda: [b for b in admin.get("/_sim/journals").json()
                                           if b["Description"] == description],
              "ARReceiptAndAdjustmentBatches": lambda: [b for b in admin.get("/_sim/receipts").json()
                                                        if b["Description"] == description]}[resource]()
    assert len(stored) == 1                                                      # the refused write stored nothing
    assert_error(admin.post("/_sim/record_locks", json={"resource": resource}), 400, "InvalidPayload")
