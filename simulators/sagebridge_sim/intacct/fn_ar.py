"""AR and GL writes (intacct.md §4 "Payment received", "Journal entry"; contract §2).

- 3.0 `create ARPYMT`: FINANCIALENTITY must be a seeded checking account, PAYMENTMETHOD one of the
  six methods, CUSTOMERID an existing customer, RECEIPTDATE / PAYMENTDATE `mm/dd/yyyy`, the header
  TRX_PAYMENTAMOUNT > 0 and rounded to 2 decimals (intacct.md §4 "Amounts rounded to 2 decimals":
  the simulator refuses more decimals rather than rounding silently, the strict side). Optional
  ARPYMTDETAILS/ARPYMTDETAIL{RECORDKEY, ENTRYKEY?, TRX_PAYMENTAMOUNT} apply it to ARINVOICEs of that
  customer: the detail sum must not exceed the header amount, nor each invoice's TOTALDUE (which
  the payment lowers). No details = an advance on the customer.
- 3.0 `create GLBATCH`: JOURNAL a seeded journal (GJ), BATCH_DATE, BATCH_TITLE, ENTRIES/GLENTRY
  {ACCOUNTNO, TR_TYPE 1|-1, TRX_AMOUNT > 0, ...}; debits must equal credits. GL account numbers are
  not validated (no chart of accounts is seeded: contract §2 lists none). The response shape is not
  confirmed (intacct.md §6): `data/glbatch/RECORDNO` as for any generic create (inferred there).
- legacy `create_aradjustment` -> `<key>` = the new RECORDNO (legacy create_* return a bare key,
  intacct.md §2); readable as ARADJUSTMENT (RECORDID = adjustmentno, TOTALENTERED = sum of lines).
Validation failures answer the specific error, then BL01001973 "Could not create <X> record!".
"""
from __future__ import annotations

from decimal import Decimal

from lxml import etree

from .fn_orders import date_of
from .objects import CURRENCIES, PAYMENT_METHODS
from .outcome import Outcome, objects_data
from .state import CompanyState
from .values import parse_date, parse_decimal
from .wire import ErrorItem, Failure, check_order, flatten_object, function_failure, schema_error, text

CENT = Decimal("0.01")


def _fail(what: str, errorno: str, description: str, description2: str, correction: str) -> Failure:
    return function_failure(ErrorItem(errorno, description, description2, correction),
                            ErrorItem("BL01001973", f"Could not create {what} record!"))


def _amount(value: str, what: str, name: str) -> Decimal:
    try:
        amount = parse_decimal(value)
    except ValueError:
        raise _fail(what, "PL03000008", "Invalid amount", f"{name} {value!r} is not a number.", "Send a decimal.")
    if amount <= 0 or amount != amount.quantize(CENT):
        raise _fail(what, "PL03000008", "Invalid amount", f"{name} {value} must be positive with at most 2 "
                    "decimals.", "Round the amount to cents.")
    return amount


def _date(value: str, what: str, name: str):
    try:
        return parse_date(value)
    except ValueError:
        raise _fail(what, "PL03000006", "Invalid date", f"{name} {value!r} is not mm/dd/yyyy.",
                    "Use mm/dd/yyyy.") from None


def _split(obj: etree._Element, group: str, child: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """(the flat header, the repeated child records of `group`)."""
    rows: list[dict[str, str]] = []
    block = obj.find(group)
    if block is not None:
        obj.remove(block)
        for el in block:
            if not isinstance(el.tag, str):
                continue
            if el.tag != child:
                raise schema_error(f"Element {el.tag} is not allowed in {group}.")
            rows.append(flatten_object(el))
    return flatten_object(obj), rows


PAYMENT_FIELDS = {"FINANCIALENTITY", "PAYMENTMETHOD", "CUSTOMERID", "DOCNUMBER", "DESCRIPTION", "RECEIPTDATE",
                  "PAYMENTDATE", "CURRENCY", "TRX_PAYMENTAMOUNT", "ACTION", "EXCH_RATE_TYPE_ID"}


def create_arpymt(state: CompanyState, obj: etree._Element) -> Outcome:
    what = "AR Payment"
    h, details = _split(obj, "ARPYMTDETAILS", "ARPYMTDETAIL")
    unknown = sorted(set(h) - PAYMENT_FIELDS)
    if unknown:
        raise _fail(what, "BL01001973", f"Invalid field {unknown[0]}", f"ARPYMT has no field {unknown[0]}.",
                    "Remove the field.")
    for required in ("FINANCIALENTITY", "PAYMENTMETHOD", "CUSTOMERID", "RECEIPTDATE", "TRX_PAYMENTAMOUNT"):
        if not h.get(required):
            raise _fail(what, "PL03000001", f"Required field {required} is missing", f"{required} is required.",
                        f"Provide {required}.")
    if h["FINANCIALENTITY"] not in state.ref.checking_accounts:
        raise _fail(what, "BL03000030", "Invalid bank account", f"Invalid Checking Account {h['FINANCIALENTITY']}",
                    "Use a valid checking account ID.")
    if h["PAYMENTMETHOD"] not in PAYMENT_METHODS:
        raise _fail(what, "BL03000031", "Invalid payment method", f"Invalid Payment Method {h['PAYMENTMETHOD']}",
                    f"Use one of: {', '.join(PAYMENT_METHODS)}.")
    customer = h["CUSTOMERID"]
    if not state.one("CUSTOMER", CUSTOMERID=customer):
        raise _fail(what, "BL03000017", "Invalid customer", f"Invalid Customer {customer}",
                    "Use a valid customer ID.")
    currency = h.get("CURRENCY") or "USD"
    if currency not in CURRENCIES:
        raise _fail(what, "BL03000025", "Invalid currency", f"Invalid Currency {currency}", "Use a valid currency.")
    receipt = _date(h["RECEIPTDATE"], what, "RECEIPTDATE")
    paid_on = _date(h["PAYMENTDATE"], what, "PAYMENTDATE") if h.get("PAYMENTDATE") else receipt
    amount = _amount(h["TRX_PAYMENTAMOUNT"], what, "TRX_PAYMENTAMOUNT")
    applied: list[tuple[dict, Decimal]] = []
    for d in details:
        key = d.get("RECORDKEY", "")
        invoice = state.records["ARINVOICE"].get(int(key)) if key.isdigit() else None
        if invoice is None or invoice["CUSTOMERID"] != customer:
            raise _fail(what, "DL03000005", "Invalid invoice", f"No record exits for the recordkey {key}",
                        "Use the RECORDNO of an open AR invoice of this customer.")
        part = _amount(d.get("TRX_PAYMENTAMOUNT", ""), what, "ARPYMTDETAIL TRX_PAYMENTAMOUNT")
        if part > invoice["TOTALDUE"]:
            raise _fail(what, "BL03000032", "Overpayment", f"The amount {part} exceeds the amount due "
                        f"{invoice['TOTALDUE']} of invoice {key}.", "Pay at most the amount due.")
        applied.append((invoice, part))
    if sum((p for _, p in applied), Decimal(0)) > amount:
        raise _fail(what, "BL03000033", "Details exceed the payment", "The applied amounts exceed "
                    f"TRX_PAYMENTAMOUNT {amount}.", "Apply at most the payment amount.")
    for invoice, part in applied:
        due = invoice["TOTALDUE"] - part
        state.touch(invoice, TOTALDUE=due, STATE="Paid" if due == 0 else "Partially Paid")
    row = state.insert("ARPYMT", {"CUSTOMERID": customer, "DOCNUMBER": h.get("DOCNUMBER", ""),
                                  "TRX_PAYMENTAMOUNT": amount, "FINANCIALENTITY": h["FINANCIALENTITY"],
                                  "PAYMENTMETHOD": h["PAYMENTMETHOD"], "STATE": "Draft" if h.get("ACTION") == "Draft"
                                  else ("Applied" if applied else "Advance"), "DESCRIPTION": h.get("DESCRIPTION", ""),
                                  "RECEIPTDATE": receipt, "PAYMENTDATE": paid_on, "CURRENCY": currency})
    state.payment_details[row["RECORDNO"]] = [{"RECORDKEY": str(i["RECORDNO"]), "TRX_PAYMENTAMOUNT": format(p, "f")}
                                              for i, p in applied]
    return Outcome(data=objects_data(state, "ARPYMT", row, ["RECORDNO"]), write=True)


BATCH_FIELDS = {"JOURNAL", "BATCH_DATE", "BATCH_TITLE", "REFERENCENO", "STATE", "REVERSEDATE", "SUPDOCID"}
ENTRY_FIELDS = {"ACCOUNTNO", "TR_TYPE", "TRX_AMOUNT", "DESCRIPTION", "LOCATION", "DEPARTMENT", "CUSTOMERID",
                "ITEMID", "CURRENCY", "MEMO"}


def create_glbatch(state: CompanyState, obj: etree._Element) -> Outcome:
    what = "Journal Entry"
    h, entries = _split(obj, "ENTRIES", "GLENTRY")
    unknown = sorted(set(h) - BATCH_FIELDS) or sorted({k for e in entries for k in e} - ENTRY_FIELDS)
    if unknown:
        raise _fail(what, "BL01001973", f"Invalid field {unknown[0]}", f"GLBATCH has no field {unknown[0]}.",
                    "Remove the field.")
    for required in ("JOURNAL", "BATCH_DATE", "BATCH_TITLE"):
        if not h.get(required):
            raise _fail(what, "PL03000001", f"Required field {required} is missing", f"{required} is required.",
                        f"Provide {required}.")
    if h["JOURNAL"] not in state.ref.journals:
        raise _fail(what, "BL03000034", "Invalid journal", f"Invalid Journal {h['JOURNAL']}", "Use a valid journal.")
    batch_date = _date(h["BATCH_DATE"], what, "BATCH_DATE")
    if len(entries) < 2:
        raise _fail(what, "BL03000035", "Too few entries", "A journal entry needs at least two lines.",
                    "Add the balancing line.")
    balance = Decimal(0)
    for n, e in enumerate(entries, 1):
        if not e.get("ACCOUNTNO"):
            raise _fail(what, "PL03000001", "Required field ACCOUNTNO is missing", f"Line {n} has no ACCOUNTNO.",
                        "Provide ACCOUNTNO.")
        if e.get("TR_TYPE") not in ("1", "-1"):
            raise _fail(what, "BL03000036", "Invalid TR_TYPE", f"Line {n}: TR_TYPE must be 1 or -1.", "Use 1 or -1.")
        customer = e.get("CUSTOMERID")
        if customer and not state.one("CUSTOMER", CUSTOMERID=customer):
            raise _fail(what, "BL03000017", "Invalid customer", f"Invalid Customer {customer}", "Use a valid customer.")
        balance += int(e["TR_TYPE"]) * _amount(e.get("TRX_AMOUNT", ""), what, f"line {n} TRX_AMOUNT")
    if balance != 0:
        raise _fail(what, "BL03000037", "Unbalanced entry", f"Debits and credits differ by {balance}.",
                    "Make the debits equal the credits.")
    state_text = h.get("STATE") or "Posted"
    row = state.insert("GLBATCH", {"JOURNAL": h["JOURNAL"], "BATCH_DATE": batch_date, "BATCH_TITLE": h["BATCH_TITLE"],
                                   "REFERENCENO": h.get("REFERENCENO", ""), "STATE": state_text})
    state.glentries[row["RECORDNO"]] = entries
    return Outcome(data=objects_data(state, "GLBATCH", row, ["RECORDNO"]), write=True)


ADJ_ORDER = [("customerid", False), ("datecreated", False), ("dateposted", True), ("batchkey", True),
             ("adjustmentno", True), ("action", True), ("invoiceno", True), ("description", True),
             ("externalid", True), ("basecurr", True), ("currency", True), ("exchratedate", True),
             ("exchratetype", True), ("exchrate", True), ("nogl", True), ("aradjustmentitems", False)]
LINE_ORDER = [("glaccountno", False), ("accountlabel", True), ("offsetglaccountno", True), ("amount", False),
              ("memo", True), ("locationid", True), ("departmentid", True), ("key", True), ("totalpaid", True),
              ("totaldue", True), ("customfields", True), ("projectid", True), ("customerid", True)]


def create_aradjustment(state: CompanyState, fn: etree._Element) -> Outcome:
    what = "AR Adjustment"
    h = check_order(fn, ADJ_ORDER, "create_aradjustment")
    customer = text(h["customerid"])
    if not state.one("CUSTOMER", CUSTOMERID=customer):
        raise _fail(what, "BL03000017", "Invalid customer", f"Invalid Customer {customer}", "Use a valid customer.")
    created = date_of(h["datecreated"], "datecreated")
    lines = []
    for el in h["aradjustmentitems"]:
        if not isinstance(el.tag, str):
            continue
        if el.tag != "lineitem":
            raise schema_error(f"Element {el.tag} is not allowed in aradjustmentitems.")
        p = check_order(el, LINE_ORDER, "lineitem")
        try:
            amount = parse_decimal(text(p["amount"]))
        except ValueError:
            raise _fail(what, "PL03000008", "Invalid amount", f"amount {text(p['amount'])!r}", "Send a decimal.")
        lines.append({"glaccountno": text(p["glaccountno"]), "amount": format(amount, "f"),
                      "memo": text(p.get("memo"))})
    if not lines:
        raise schema_error("aradjustmentitems must hold at least one lineitem.")
    total = sum((Decimal(l["amount"]) for l in lines), Decimal(0))
    row = state.insert("ARADJUSTMENT", {"CUSTOMERID": customer, "RECORDID": text(h.get("adjustmentno")),
                                        "DESCRIPTION": text(h.get("description")), "TOTALENTERED": total,
                                        "WHENCREATED": created})
    state.adjustment_lines[row["RECORDNO"]] = lines
    return Outcome(key=str(row["RECORDNO"]), write=True)
