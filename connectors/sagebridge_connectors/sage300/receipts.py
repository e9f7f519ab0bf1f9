"""A canonical payment becomes exactly one Sage 300 A/R receipt, and its gateway fee (when the
template computes fees) exactly one G/L journal entry.

Receipt: a CA batch (AR/ARReceiptAndAdjustmentBatches, BatchRecordType "CA": SDK Endpoint Reference;
payload as the SDK sample ARReceiptAndAdjustmentBatches_Prepayment.txt) with one entry for the
order's customer: the bank code and receipt type the template chose for the payment method, the
amount in both bank and customer currency, EntryReference = the order reference (XC1-1001), dates
in the store's zone. A Prepayment is applied on line 20 to the customer, as the SDK sample does.
The batch number is generated, so the batch Description `<ref>-P<txn>` is how the receipt is found
again: looked up before every create; an answer lost mid-POST settles first (`settle.py`).

Fee: a G/L journal batch (GL/GLJournalBatches; SDK sample GLJournalBatches.txt) `<ref>-F<txn>`, one
header (source GL-JE), two details that balance: the fee expense account debited (+), the clearing
account (where the gateway's deduction sits) credited (−).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sagebridge_common.contracts import WriteOutcome
from sagebridge_common.errors import PermanentError

from .documents import FEE, PAYMENT, batch_description, local_date, num
from .settle import Settling
from .web_api import Sage300Client


def ar_document_id(batch: dict) -> str:
    """`CA12-1`: record type, batch number, entry number (Sage's key of an entry)."""
    entries = batch.get("ReceiptsAdjustments") or [{}]
    return f"{batch.get('BatchRecordType', '')}{batch.get('BatchNumber')}-{entries[0].get('EntryNumber', 1)}"


def receipt_payload(payment: dict[str, Any], *, description: str, reference: str, on) -> dict:
    customer = payment["customer"]["erp_customer_id"]
    amount = num(payment["amount"])
    entry: dict[str, Any] = {
        "CustomerNumber": customer, "ReceiptDateAdjustmentDate": on.isoformat(),
        "EntryDescription": f"{payment.get('method') or 'Payment'} {payment['transaction_id']}"[:60],
        "EntryReference": reference, "BankReceiptAmount": amount, "CustomerReceiptAmount": amount,
        "ReceiptTransactionType": payment["receipt_type"]}
    if payment["receipt_type"] == "Prepayment":
        entry["AppliedReceiptsAdjustments"] = [{"LineNumber": 20, "CustomerNumber": customer,
                                                "CustomerReceiptAmount": amount}]
    return {"BatchRecordType": "CA", "BatchDate": on.isoformat(), "Description": description,
            "BankCode": payment["bank_code"], "ReceiptsAdjustments": [entry]}


def fee_journal_payload(payment: dict[str, Any], *, description: str, reference: str, on) -> dict:
    fee: Decimal = payment["fee_amount"]
    expense, clearing = payment.get("fee_expense_account"), payment.get("fee_clearing_account")
    if not expense or not clearing:
        raise PermanentError(f"payment {payment['transaction_id']} has a fee of {num(fee)} but no "
                             f"fee_expense_account / fee_clearing_account (mapping.payments.fees)",
                             reason="sage300_fee_accounts_missing")
    text = f"Gateway fee {payment['transaction_id']}"[:60]
    details = [{"TransactionNumber": "0000000020", "AccountNumber": expense, "Amount": num(fee),
                "SourceCurrencyAmount": num(fee), "Description": text, "Reference": reference},
               {"TransactionNumber": "0000000040", "AccountNumber": clearing, "Amount": num(-fee),
                "SourceCurrencyAmount": num(-fee), "Description": text, "Reference": reference}]
    return {"Description": description,
            "JournalHeaders": [{"SourceLedger": "GL", "SourceType": "JE", "Description": text,
                                "DocumentDate": on.isoformat(), "JournalDetails": details}]}


class PaymentWriter:
    def __init__(self, pair: Any, client: Sage300Client, settling: Settling) -> None:
        self.pair = pair
        self.client = client
        self.settling = settling

    def ensure(self, payment: dict[str, Any]) -> WriteOutcome:
        txn = payment["transaction_id"]
        description = batch_description(self.pair, payment["order_number"], PAYMENT, txn)
        fee_description = None
        if payment.get("fee_amount"):     # checked before the receipt, so a bad fee setup writes nothing
            fee_description = batch_description(self.pair, payment["order_number"], FEE, txn)
            fee_body = fee_journal_payload(payment, description=fee_description,
                                           reference=self.pair.reference(payment["order_number"]),
                                           on=local_date(self.pair, payment["captured_at"]))
        receipt = self._receipt(payment, description)
        if fee_description is None:
            return receipt
        journal = self._fee(fee_description, fee_body)
        outcome = "created" if "created" in (receipt.outcome, journal.outcome) else "already_present"
        return WriteOutcome(outcome, receipt.document_id, f"fee journal {journal.document_id} {journal.outcome}",
                            {"fee_journal": journal.document_id or "", "fee_outcome": journal.outcome})

    def _receipt(self, payment: dict, description: str) -> WriteOutcome:
        reference = self.pair.reference(payment["order_number"])
        on = local_date(self.pair, payment["captured_at"])

        def lookup() -> WriteOutcome | None:
            found = self.client.find_ar_batches("CA", description)
            return WriteOutcome("already_present", ar_document_id(found[0])) if found else None

        def create() -> WriteOutcome:
            body = receipt_payload(payment, description=description, reference=reference, on=on)
            return WriteOutcome("created", ar_document_id(self.client.create_ar_batch(body)))

        return self.settling.lookup_then_create(description, lookup, create)

    def _fee(self, description: str, body: dict) -> WriteOutcome:
        def lookup() -> WriteOutcome | None:
            found = self.client.find_journals(description)
            return WriteOutcome("already_present", f"GL{found[0].get('BatchNumber')}") if found else None

        def create() -> WriteOutcome:
            return WriteOutcome("created", f"GL{self.client.create_journal(body).get('BatchNumber')}")

        return self.settling.lookup_then_create(description, lookup, create)
