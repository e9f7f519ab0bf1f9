"""The Intacct sink against the scripted gateway of test_intacct_gateway.py: payloads field by field
in DTD order, what each document costs in API transactions, and every exactly-once path (uniqueid
refusal, 524 then found / absent, BL34000061), payments on an invoice or as an advance, the fee
journal, refunds and the ledger listing."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import httpx
import pytest
from lxml import etree

from sagebridge_common.errors import PermanentError, TransientError
from sagebridge_connectors.intacct.ledger import IntacctLedger
from sagebridge_connectors.intacct.sink import IntacctSink

from .test_intacct_gateway import (DUPLICATE, FakeIntacct, clean_faults, fresh_limiter, make_pair,  # noqa: F401
                                   result_failed, result_ok)

WHEN = datetime(2024, 11, 6, 2, 30, tzinfo=timezone.utc)      # 5 November in New York


def address(**over) -> dict:
    a = {"name": "Ann Lee", "company": None, "line1": "1 Main Street", "line2": "Apt 4", "city": "New York",
         "region": "New York", "postal_code": "10001", "country": "US", "phone": "212-555-0100", "email": None,
         "region_code": "NY", "erp_country": "USA"}
    return {**a, **over}


def order(number: str = "1001", erp_id: str = "C100", **over) -> dict:
    """2 x 19.99 (10% off one line: 3.998 -> 35.982) + shipping 5 + handling 2 - coupon 3 + tax 0.88."""
    o = {"order_id": f"id-{number}", "order_number": number, "ordered_at": WHEN, "currency": "USD",
         "customer": {"email": "ann@example.com", "email_key": "ann@example.com", "erp_customer_id": erp_id,
                      "first_name": "Ann", "last_name": "Lee", "phone": None, "new_customer_number": None},
         "billing_address": address(), "shipping_address": address(), "ship_via_code": "UPS Ground", "notes": None,
         "lines": [{"line_id": "1", "sku": "widget-1", "item_number": "WIDGET-1", "name": "Widget",
                    "location_code": "WH1", "quantity": Decimal("2"), "unit_price": Decimal("19.99"),
                    "discount": Decimal("3.998"), "line_total": Decimal("35.982")}],
         "charges": [{"kind": "shipping", "code": "FRT", "placement": "line", "amount": Decimal("5.00"),
                      "description": "UPS Ground"},
                     {"kind": "handling", "code": "HAND", "placement": "header", "amount": Decimal("2.00"),
                      "description": "Handling"},
                     {"kind": "discount", "code": None, "placement": "header", "amount": Decimal("3.00"),
                      "description": "coupon SAVE3"}],
         "tax_total": Decimal("0.88"), "total": Decimal("40.86"), "tax_mode": "store", "rate_type": None}
    return {**o, **over}


def customer(email: str = "Ann@Example.com", number: str = "C100", **over) -> dict:
    c = {"customer_id": "7", "email": email, "email_key": email.strip().lower(), "first_name": "Ann",
         "last_name": "Lee", "company": None, "phone": "212-555-0100", "is_guest": False,
         "billing_address": address(), "shipping_address": None, "erp_customer_id": None,
         "new_customer_number": number}
    return {**c, **over}


def payment(**over) -> dict:
    p = {"order_id": "id-1001", "order_number": "1001", "transaction_id": "t55", "customer": {"erp_customer_id": "C100"},
         "method": "Visa", "method_code": "CC", "amount": Decimal("40.86"), "currency": "USD", "captured_at": WHEN,
         "bank_code": "BOA", "receipt_type": "Receipt", "fee_amount": None, "fee_expense_account": None,
         "fee_clearing_account": None}
    return {**p, **over}


def rows(listtype: str, *records: dict) -> str:
    def el(tag, value):
        if isinstance(value, dict):
            return f"<{tag}>" + "".join(el(k, v) for k, v in value.items()) + f"</{tag}>"
        return f"<{tag}>{value}</{tag}>"
    body = "".join(el(listtype, r) for r in records)
    return (f'<data listtype="{listtype}" count="{len(records)}" totalcount="{len(records)}" numremaining="0" '
            f'resultId="">{body}</data>')


class Books(FakeIntacct):
    """The scripted gateway plus a few tables, answering readByQuery by object and a field = 'x'."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[dict]] = {"SODOCUMENT": [], "CUSTOMER": [], "ARPYMT": [], "ARINVOICE": [],
                                              "GLBATCH": [], "ARADJUSTMENT": []}
        self.on("readByQuery", self._query)
        self.on("create_sotransaction", self._create_so)
        self.on("create", self._create)
        self.on("update", lambda fn, cid: result_ok("update", cid, '<data listtype="objects" count="1"/>'))
        self.on("create_aradjustment", lambda fn, cid: result_ok("create_aradjustment", cid, "<key>91</key>"))

    def _query(self, fn, cid):
        obj, query = fn.findtext("object"), fn.findtext("query")
        hits = []
        for record in self.tables[obj]:
            flat = _flat(record)
            for clause in query.split(" OR "):
                field, _, value = clause.partition(" = ")
                if " like " in clause:
                    field, _, value = clause.partition(" like ")
                    if flat.get(field.strip(), "").startswith(value.strip("'%")):
                        hits.append(record)
                        break
                elif flat.get(field.strip().split(" AND ")[0]) == value.split(" AND ")[0].strip("'"):
                    hits.append(record)
                    break
        return result_ok("readByQuery", cid, rows(obj.lower(), *hits))

    def _create_so(self, fn, cid):
        docid = f"Sales Order-SO-{len(self.tables['SODOCUMENT']) + 1:05d}"
        self.tables["SODOCUMENT"].append({"RECORDNO": str(len(self.tables["SODOCUMENT"]) + 1), "DOCID": docid,
                                          "REFERENCENO": fn.findtext("referenceno"), "TOTAL": "0",
                                          "CUSTVENDID": fn.findtext("customerid")})
        return result_ok("create_sotransaction", cid, f"<key>{docid}</key>")

    def _create(self, fn, cid):
        record = fn[0]
        n = len(self.tables[record.tag]) + 1
        self.tables[record.tag].append({"RECORDNO": str(n), **_nested(record)})
        ident = f"<CUSTOMERID>{record.findtext('CUSTOMERID')}</CUSTOMERID>" if record.tag == "CUSTOMER" else ""
        return result_ok("create", cid, f'<data listtype="objects" count="1"><{record.tag.lower()}>'
                                        f"<RECORDNO>{n}</RECORDNO>{ident}</{record.tag.lower()}></data>")


def _nested(el) -> dict:
    return {c.tag: (_nested(c) if len(c) else (c.text or "")) for c in el}


def _flat(record: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in record.items():
        out.update(_flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
    return out


@pytest.fixture
def books():
    return Books()


@pytest.fixture
def sink(tmp_path, books):
    return IntacctSink(make_pair(tmp_path), transport=books.transport())


def billed(books: Books) -> list[str]:
    """Functions answered after the login."""
    return [f for f in books.functions if f != "getAPISession"]


# -- orders -----------------------------------------------------------------------------------------
def test_a_multicurrency_company_gets_the_currency_with_its_rate_type(tmp_path, books):
    sink = IntacctSink(make_pair(tmp_path, exchange_rate_type="Intacct Daily Rate"), transport=books.transport())
    sink.ensure_order(order(currency="EUR"))
    [fn] = books.calls("create_sotransaction")
    tags = [c.tag for c in fn]
    assert tags[tags.index("currency") + 1] == "exchratetype"
    assert (fn.findtext("currency"), fn.findtext("exchratetype")) == ("EUR", "Intacct Daily Rate")


def test_another_currency_in_a_single_currency_company_is_refused_before_any_call(sink, books):
    with pytest.raises(PermanentError) as e:
        sink.ensure_order(order(currency="EUR"))
    assert e.value.reason == "intacct_currency_not_held" and billed(books) == []


def test_known_customers_order_is_one_transaction_in_dtd_order(sink, books):
    done = sink.ensure_order(order())
    assert (done.outcome, done.document_id) == ("created", "Sales Order-SO-00001")
    assert billed(books) == ["create_sotransaction"]
    [fn] = books.calls("create_sotransaction")
    assert [c.tag for c in fn] == ["transactiontype", "datecreated", "customerid", "referenceno", "termname",
                                   "shippingmethod", "sotransitems", "subtotals"]    # single currency: none sent
    assert fn.findtext("transactiontype") == "Sales Order" and fn.findtext("customerid") == "C100"
    assert [fn.findtext(f"datecreated/{p}") for p in ("year", "month", "day")] == ["2024", "11", "05"]
    assert (fn.findtext("referenceno"), fn.findtext("termname"), fn.findtext("shippingmethod")) == \
        ("XI1-1001", "N30", "UPS Ground")
    item, freight = fn.findall("sotransitems/sotransitem")
    assert [(c.tag, c.text) for c in item] == [("itemid", "WIDGET-1"), ("warehouseid", "WH1"), ("quantity", "2"),
                                               ("discountpercent", "10"), ("price", "19.99")]
    assert [(c.tag, c.text) for c in freight] == [("itemid", "FRT"), ("itemdesc", "UPS Ground"), ("quantity", "1"),
                                                  ("price", "5.00")]
    assert [(s.findtext("description"), s.findtext("total")) for s in fn.findall("subtotals/subtotal")] == \
        [("Handling", "2.00"), ("coupon SAVE3", "-3.00"), ("Tax", "0.88")]
    root = books.requests[-1][1]
    assert root.findtext("control/uniqueid") == "true"
    assert root.find("operation/content/function").get("controlid") == "so-xcart-intacct-1001"


def test_order_total_differing_from_the_store_is_a_mismatch(sink, books):
    done = sink.ensure_order(order(total=Decimal("50.00")))
    assert done.outcome == "created_with_mismatch" and done.details == {"erp_total": "40.86", "store_total": "50.00"}


def test_repeat_refused_by_uniqueid_is_already_present_via_the_referenceno_query(sink, books):
    sink.ensure_order(order())
    books.on("create_sotransaction", lambda fn, cid: result_failed(
        "create_sotransaction", cid, tuple(t.format(cid=cid) for t in DUPLICATE)))
    done = sink.ensure_order(order())
    assert (done.outcome, done.document_id) == ("already_present", "Sales Order-SO-00001")
    [query] = [q for q in books.calls("readByQuery")]
    assert query.findtext("object") == "SODOCUMENT" and query.findtext("query") == "REFERENCENO = 'XI1-1001'"
    assert query.findtext("docparid") == "Sales Order"


def test_524_then_the_query_finds_it_is_already_present_without_resend(sink, books):
    def commit_then_524(fn, cid):
        books._create_so(fn, cid)
        return httpx.Response(524, text="<html>timeout</html>")
    books.on("create_sotransaction", commit_then_524)
    done = sink.ensure_order(order())
    assert (done.outcome, done.document_id) == ("already_present", "Sales Order-SO-00001")
    assert billed(books) == ["create_sotransaction", "readByQuery"]


def test_524_and_nothing_found_is_transient(sink, books):
    books.on("create_sotransaction", lambda fn, cid: httpx.Response(524, text="<html>timeout</html>"))
    with pytest.raises(TransientError) as e:
        sink.ensure_order(order())
    assert "so-xcart-intacct-1001" in str(e.value) and len(books.calls("create_sotransaction")) == 1


def test_unknown_item_is_permanent_with_errorno_description2_and_correction(sink, books):
    books.on("create_sotransaction", lambda fn, cid: result_failed(
        "create_sotransaction", cid,
        ("BL03000018", "Invalid item", "Invalid Item WIDGET-1", "Use a valid item ID or create the item first."),
        ("BL01001973", "Could not create Document record!", "", "")))
    with pytest.raises(PermanentError) as e:
        sink.ensure_order(order())
    assert e.value.reason == "intacct_BL03000018"
    assert "BL03000018" in str(e.value) and "Invalid Item WIDGET-1" in str(e.value)
    assert "correction: Use a valid item ID or create the item first." in str(e.value)


def test_v2_order_without_charges_uses_the_shipping_rule(sink, books):
    sink.ensure_order(order(charges=None, shipping_total=Decimal("5"), discount_total=Decimal("3"),
                            total=Decimal("38.862")))
    [fn] = books.calls("create_sotransaction")
    assert [i.findtext("itemid") for i in fn.findall("sotransitems/sotransitem")] == ["WIDGET-1", "FRT"]
    assert [s.findtext("total") for s in fn.findall("subtotals/subtotal")] == ["-3.00", "0.88"]


# -- customers --------------------------------------------------------------------------------------
def test_new_customer_is_one_query_and_one_create(sink, books):
    done = sink.ensure_customer(customer(), update=False)
    assert (done.outcome, done.document_id) == ("created", "C100") and billed(books) == ["readByQuery", "create"]
    query = books.calls("readByQuery")[0].findtext("query")
    assert query == "DISPLAYCONTACT.EMAIL1 = 'ann@example.com' OR DISPLAYCONTACT.EMAIL1 = 'Ann@Example.com'"
    [made] = books.tables["CUSTOMER"]
    assert made["CUSTOMERID"] == "C100" and made["DISPLAYCONTACT"]["EMAIL1"] == "ann@example.com"
    assert made["DISPLAYCONTACT"]["MAILADDRESS"]["CITY"] == "New York"


def test_a_new_customers_order_costs_at_most_three(sink, books):
    number = sink.ensure_customer(customer(), update=False).document_id
    sink.ensure_order(order(erp_id=number))
    assert billed(books) == ["readByQuery", "create", "create_sotransaction"]


def test_present_customer_is_updated_only_where_it_differs(sink, books):
    sink.ensure_customer(customer())
    assert sink.ensure_customer(customer()).outcome == "already_present"
    done = sink.ensure_customer(customer(phone="212-555-0199"))
    assert done.outcome == "updated" and done.details == {"changed": "DISPLAYCONTACT.PHONE1"}
    [upd] = books.calls("update")
    assert etree.tostring(upd[0]) == b"<CUSTOMER><CUSTOMERID>C100</CUSTOMERID><DISPLAYCONTACT><PHONE1>212-555-0199" \
                                      b"</PHONE1></DISPLAYCONTACT></CUSTOMER>"


def test_customerid_taken_by_the_same_email_is_exists_then_update(sink, books):
    books.tables["CUSTOMER"].append({"RECORDNO": "1", "CUSTOMERID": "C100", "NAME": "Ann Lee",
                                     "DISPLAYCONTACT": {"EMAIL1": "ANN@example.com "}})
    books.script = [lambda fn, cid: result_ok("readByQuery", cid, rows("customer"))]   # the e-mail query misses
    books.on("create", lambda fn, cid: result_failed(
        "create", cid, ("BL34000061", "Another Customer with the given value(s) C100 already exists", "",
                        "Use a unique value instead."), ("BL01001973", "Could not create Customer record!", "", "")))
    done = sink.ensure_customer(customer())
    assert (done.outcome, done.document_id) == ("updated", "C100")
    assert books.calls("readByQuery")[-1].findtext("query") == "CUSTOMERID = 'C100'"


def test_customerid_taken_by_another_email_is_permanent(sink, books):
    books.tables["CUSTOMER"].append({"RECORDNO": "1", "CUSTOMERID": "C100", "DISPLAYCONTACT": {"EMAIL1": "bo@x.test"}})
    books.on("create", lambda fn, cid: result_failed("create", cid, ("BL34000061", "already exists", "", "")))
    with pytest.raises(PermanentError) as e:
        sink.ensure_customer(customer())
    assert "bo@x.test" in str(e.value) and "ann@example.com" in str(e.value)


def test_customer_create_answered_524_is_found_by_customerid(sink, books):
    def commit_then_524(fn, cid):
        books._create(fn, cid)
        return httpx.Response(524, text="<html>timeout</html>")
    books.on("create", commit_then_524)
    done = sink.ensure_customer(customer(), update=False)
    assert (done.outcome, done.document_id) == ("already_present", "C100")
    assert billed(books) == ["readByQuery", "create", "readByQuery"] and len(books.tables["CUSTOMER"]) == 1


def test_no_secret_reaches_a_log_or_an_error(sink, books, caplog):
    caplog.set_level("DEBUG")
    books.script = [lambda fn, cid: httpx.Response(503, text="down")] * 4
    with pytest.raises(TransientError) as e:
        sink.ensure_order(order())
    shown = caplog.text + str(e.value)
    for secret in ("sender-secret", "user-secret", "sess1"):
        assert secret not in shown


# -- payments, fees, refunds ------------------------------------------------------------------------
def test_payment_applied_to_the_orders_invoice(sink, books):
    books.tables["ARINVOICE"].append({"RECORDNO": "77", "CUSTOMERID": "C100", "DOCNUMBER": "XI1-1001",
                                      "TOTALDUE": "40.86"})
    done = sink.ensure_payment(payment())
    assert done.outcome == "created" and billed(books) == ["readByQuery", "create"]
    [create] = books.calls("create")
    pymt = create[0]
    assert [c.tag for c in pymt] == ["FINANCIALENTITY", "PAYMENTMETHOD", "CUSTOMERID", "DOCNUMBER", "DESCRIPTION",
                                     "RECEIPTDATE", "PAYMENTDATE", "CURRENCY", "TRX_PAYMENTAMOUNT", "ARPYMTDETAILS"]
    assert (pymt.findtext("FINANCIALENTITY"), pymt.findtext("PAYMENTMETHOD"), pymt.findtext("DOCNUMBER"),
            pymt.findtext("RECEIPTDATE"), pymt.findtext("TRX_PAYMENTAMOUNT")) == \
        ("BOA", "Credit Card", "XI1-1001-Pt55", "11/05/2024", "40.86")
    assert (pymt.findtext("ARPYMTDETAILS/ARPYMTDETAIL/RECORDKEY"),
            pymt.findtext("ARPYMTDETAILS/ARPYMTDETAIL/TRX_PAYMENTAMOUNT")) == ("77", "40.86")


def test_payment_without_an_invoice_is_an_advance(sink, books):
    sink.ensure_payment(payment(method_code="PAYPAL"))
    [create] = books.calls("create")
    assert create[0].find("ARPYMTDETAILS") is None and create[0].findtext("PAYMENTMETHOD") == "EFT"


def test_payment_repeat_is_already_present(sink, books):
    first = sink.ensure_payment(payment())
    books.on("create", lambda fn, cid: result_failed("create", cid, tuple(t.format(cid=cid) for t in DUPLICATE)))
    again = sink.ensure_payment(payment())
    assert (again.outcome, again.document_id) == ("already_present", first.document_id)


def test_fee_journal_balances(sink, books):
    done = sink.ensure_payment(payment(fee_amount=Decimal("1.49"), fee_expense_account="6100",
                                       fee_clearing_account="1050"))
    assert done.outcome == "created" and done.details["fee_outcome"] == "created"
    journal = books.calls("create")[1][0]
    assert journal.tag == "GLBATCH" and journal.findtext("JOURNAL") == "GJ"
    assert journal.findtext("REFERENCENO") == "XI1-1001-Ft55"
    entries = [(e.findtext("ACCOUNTNO"), e.findtext("TR_TYPE"), Decimal(e.findtext("TRX_AMOUNT")))
               for e in journal.findall("ENTRIES/GLENTRY")]
    assert entries == [("6100", "1", Decimal("1.49")), ("1050", "-1", Decimal("1.49"))]
    assert books.requests[-1][1].find("operation/content/function").get("controlid") == "fee-xcart-intacct-t55"


def test_fee_without_accounts_writes_nothing(sink, books):
    with pytest.raises(PermanentError):
        sink.ensure_payment(payment(fee_amount=Decimal("1.49")))
    assert billed(books) == []


def test_refund_is_an_ar_adjustment(sink, books):
    done = sink.ensure_refund({"order_number": "1001", "refund_id": "r9", "customer": {"erp_customer_id": "C100"},
                               "amount": Decimal("10"), "currency": "USD", "reason": "damaged",
                               "refunded_at": WHEN, "gl_account": "4900"})
    assert (done.outcome, done.document_id) == ("created", "91")
    [fn] = books.calls("create_aradjustment")
    assert [c.tag for c in fn] == ["customerid", "datecreated", "adjustmentno", "description", "aradjustmentitems"]
    assert (fn.findtext("adjustmentno"), fn.findtext("aradjustmentitems/lineitem/glaccountno"),
            fn.findtext("aradjustmentitems/lineitem/amount")) == ("XI1-1001-Rr9", "4900", "10.00")


# -- ledger -----------------------------------------------------------------------------------------
def test_ledger_lists_orders_and_receipts_by_prefix(tmp_path, books):
    books.tables["SODOCUMENT"] += [
        {"RECORDNO": "1", "DOCID": "Sales Order-SO-00001", "REFERENCENO": "XI1-1001", "TOTAL": "40.86",
         "CUSTVENDID": "C100"},
        {"RECORDNO": "2", "DOCID": "Sales Order-SO-00002", "REFERENCENO": "POS-9", "TOTAL": "1", "CUSTVENDID": "C1"}]
    books.tables["ARPYMT"].append({"RECORDNO": "5", "DOCNUMBER": "XI1-1001-Pt55", "TRX_PAYMENTAMOUNT": "40.86"})
    pair = make_pair(tmp_path)
    from sagebridge_connectors.intacct.gateway import IntacctGateway
    ledger = IntacctLedger(pair, IntacctGateway(pair.erp, pair_id=pair.pair, transport=books.transport()))
    [doc] = ledger.orders("XI1-")
    assert (doc.document_id, doc.reference, doc.total, doc.customer) == \
        ("Sales Order-SO-00001", "XI1-1001", Decimal("40.86"), "C100")
    [receipt] = ledger.receipts("XI1-")
    assert (receipt.batch_id, receipt.description, receipt.amount) == ("5", "XI1-1001-Pt55", Decimal("40.86"))
    assert books.calls("readByQuery")[0].findtext("query") == "REFERENCENO like 'XI1-%'"


def test_payment_answered_524_and_absent_is_transient_then_resent_with_the_same_control_id(sink, books):
    books.on("create", lambda fn, cid: httpx.Response(524, text="<html>timeout</html>"))    # lost before commit
    with pytest.raises(TransientError):
        sink.ensure_payment(payment())
    books.on("create", books._create)
    assert sink.ensure_payment(payment()).outcome == "created"
    ids = [r.find("operation/content/function").get("controlid") for _, r in books.requests
           if r.find("operation/content/function")[0].tag == "create"]
    assert ids == ["pay-xcart-intacct-t55", "pay-xcart-intacct-t55"] and len(books.tables["ARPYMT"]) == 1


def test_refund_repeat_is_already_present(sink, books):
    refund = {"order_number": "1001", "refund_id": "r9", "customer": {"erp_customer_id": "C100"},
              "amount": Decimal("10"), "currency": "USD", "reason": None, "refunded_at": WHEN, "gl_account": "4900"}
    books.tables["ARADJUSTMENT"].append({"RECORDNO": "91", "RECORDID": "XI1-1001-Rr9", "TOTALENTERED": "10"})
    books.on("create_aradjustment", lambda fn, cid: result_failed(
        "create_aradjustment", cid, tuple(t.format(cid=cid) for t in DUPLICATE)))
    assert (sink.ensure_refund(refund).outcome, sink.ensure_refund(refund).document_id) == ("already_present", "91")
