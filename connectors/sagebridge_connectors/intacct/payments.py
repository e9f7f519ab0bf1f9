"""A canonical payment -> exactly one Intacct ARPYMT, and its gateway fee (when the template
computes fees) exactly one GLBATCH journal entry (3.0 create, intacct.md §4).

Payment: FINANCIALENTITY = the template's bank (payment.bank_code), PAYMENTMETHOD =
erp.payment_methods[payment.method_code], DOCNUMBER `<ref>-P<transaction>`, dates in the store's
zone. It is applied to the order's AR invoice (the ARINVOICE whose DOCNUMBER is the reference,
created when the order is invoiced by erp.invoice_definition) when one exists with something due,
for at most what is due; else it has no details and stays on the customer as an advance (unset
invoice_definition = always an advance, and no invoice query). Control id `pay-<pair>-<txn>`.

Fee: GLBATCH in erp.gl_journal, REFERENCENO `<ref>-F<txn>`, two entries that balance: the fee
expense account debited (TR_TYPE 1), the clearing account (where the gateway's deduction sits)
credited (TR_TYPE -1). Control id `fee-<pair>-<txn>`. Checked before the payment, so a bad fee setup
writes nothing.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sagebridge_common.contracts import WriteOutcome
from sagebridge_common.errors import PermanentError

from .config import IntacctConfig
from .envelope import element, fields
from .functions import literal, local_date, mdy, money
from .gateway import IntacctGateway
from .once import ensure_once

ZERO = Decimal(0)


def payment_record(payment: dict[str, Any], *, cfg: IntacctConfig, docnumber: str, on, invoice: tuple[str, Decimal] | None
                   ) -> dict[str, Any]:
    amount: Decimal = payment["amount"].quantize(Decimal("0.01"), ROUND_HALF_UP)
    record: dict[str, Any] = {
        "FINANCIALENTITY": payment["bank_code"], "PAYMENTMETHOD": cfg.payment_method(payment.get("method_code")),
        "CUSTOMERID": payment["customer"]["erp_customer_id"], "DOCNUMBER": docnumber,
        "DESCRIPTION": f"{payment.get('method') or 'Payment'} {payment['transaction_id']}"[:1000],
        "RECEIPTDATE": mdy(on), "PAYMENTDATE": mdy(on), "CURRENCY": payment["currency"],
        "TRX_PAYMENTAMOUNT": money(amount)}
    if invoice is not None:
        key, due = invoice
        record["ARPYMTDETAILS"] = [("ARPYMTDETAIL", {"RECORDKEY": key, "TRX_PAYMENTAMOUNT": money(min(amount, due))})]
    return record


def fee_record(payment: dict[str, Any], *, cfg: IntacctConfig, reference: str, fee_reference: str, on) -> dict:
    fee: Decimal = payment["fee_amount"]
    expense, clearing = payment.get("fee_expense_account"), payment.get("fee_clearing_account")
    if not expense or not clearing:
        raise PermanentError(f"payment {payment['transaction_id']} has a fee of {money(fee)} but no "
                             f"fee_expense_account / fee_clearing_account (mapping.payments.fees)",
                             reason="intacct_fee_accounts_missing")
    text = f"Gateway fee {payment['transaction_id']} {reference}"
    customer = payment["customer"]["erp_customer_id"]

    def entry(account: str, tr_type: str) -> tuple[str, dict]:
        return "GLENTRY", {"ACCOUNTNO": account, "TR_TYPE": tr_type, "TRX_AMOUNT": money(fee), "DESCRIPTION": text,
                           "LOCATION": cfg.location, "DEPARTMENT": cfg.department_id, "CUSTOMERID": customer}

    return {"JOURNAL": cfg.gl_journal, "BATCH_DATE": mdy(on), "BATCH_TITLE": text[:100],
            "REFERENCENO": fee_reference, "ENTRIES": [entry(expense, "1"), entry(clearing, "-1")]}


class PaymentWriter:
    def __init__(self, pair: Any, gateway: IntacctGateway) -> None:
        self.pair = pair
        self.cfg: IntacctConfig = pair.erp
        self.gateway = gateway

    def ensure(self, payment: dict[str, Any]) -> WriteOutcome:
        txn = payment["transaction_id"]
        reference = self.pair.reference(payment["order_number"])
        on = local_date(self.pair, payment["captured_at"])
        fee = None
        if payment.get("fee_amount"):
            fee = fee_record(payment, cfg=self.cfg, reference=reference, fee_reference=f"{reference}-F{txn}", on=on)
        receipt = self._payment(payment, reference, on)
        if fee is None:
            return receipt
        journal = self._fee(fee, txn)
        outcome = "created" if "created" in (receipt.outcome, journal.outcome) else "already_present"
        return WriteOutcome(outcome, receipt.document_id, f"fee journal {journal.document_id} {journal.outcome}",
                            {"fee_journal": journal.document_id or "", "fee_outcome": journal.outcome})

    def invoice(self, reference: str, customer: str) -> tuple[str, Decimal] | None:
        """(RECORDNO, TOTALDUE) of the order's AR invoice with something due, or None."""
        if not self.cfg.invoice_definition:
            return None
        rows = self.gateway.query_all("ARINVOICE", ["RECORDNO", "CUSTOMERID", "DOCNUMBER", "TOTALDUE"],
                                      f"DOCNUMBER = {literal(reference)} AND CUSTOMERID = {literal(customer)}",
                                      pagesize=10, purpose="payment")
        due = [(r["RECORDNO"], Decimal(r.get("TOTALDUE") or "0")) for r in rows if r.get("DOCNUMBER") == reference]
        due = [d for d in due if d[1] > ZERO]
        return min(due, key=lambda d: int(d[0])) if due else None

    def _payment(self, payment: dict, reference: str, on) -> WriteOutcome:
        docnumber = f"{reference}-P{payment['transaction_id']}"
        invoice = self.invoice(reference, payment["customer"]["erp_customer_id"])
        record = payment_record(payment, cfg=self.cfg, docnumber=docnumber, on=on, invoice=invoice)

        def lookup() -> str | None:
            rows = self.gateway.query_all("ARPYMT", ["RECORDNO", "DOCNUMBER"], f"DOCNUMBER = {literal(docnumber)}",
                                          pagesize=10, purpose="payment")
            rows = [r for r in rows if r.get("DOCNUMBER") == docnumber]
            return rows[0]["RECORDNO"] if rows else None

        return ensure_once(self.gateway, element("create", None, fields("ARPYMT", record)),
                           controlid=f"pay-{self.pair.pair}-{payment['transaction_id']}", purpose="payment",
                           lookup=lookup, document_id=lambda r: r.first("RECORDNO") or "",
                           what=f"ARPYMT with DOCNUMBER {docnumber}")

    def _fee(self, record: dict, txn: str) -> WriteOutcome:
        reference = record["REFERENCENO"]

        def lookup() -> str | None:
            rows = self.gateway.query_all("GLBATCH", ["RECORDNO", "REFERENCENO"], f"REFERENCENO = {literal(reference)}",
                                          pagesize=10, purpose="payment")
            rows = [r for r in rows if r.get("REFERENCENO") == reference]
            return rows[0]["RECORDNO"] if rows else None

        return ensure_once(self.gateway, element("create", None, fields("GLBATCH", record)),
                           controlid=f"fee-{self.pair.pair}-{txn}", purpose="payment", lookup=lookup,
                           document_id=lambda r: r.first("RECORDNO") or "", what=f"GLBATCH with REFERENCENO {reference}")
