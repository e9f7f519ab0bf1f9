"""A canonical refund becomes exactly one Sage 300 A/R adjustment.

An AD batch (AR/ARReceiptAndAdjustmentBatches, BatchRecordType "AD"; payload as the SDK sample
ARReceiptAndAdjustmentBatches_Adjustment.txt) with one entry for the order's customer,
EntryReference = the order reference, one applied line (20) whose G/L distribution goes to the
template's refund account (mapping.refunds.gl_account, with its distribution code when set).
Found again by the batch Description `<ref>-R<refund>`, looked up before every create; an answer
lost mid-POST settles first (`settle.py`).

Sign: the distribution amount is the refund, POSITIVE. In A/R adjustments a positive amount is a
debit adjustment (it raises what the customer owes) and a negative one a credit (the SDK sample
writes an invoice down with −1 to 4030). The receipt credited the customer with what they paid;
money handed back removes that much of the credit, so the customer's balance must rise by the
refund: −paid + refunded, i.e. a debit adjustment, offset in the refund account.
"""
from __future__ import annotations

from typing import Any

from sagebridge_common.contracts import WriteOutcome

from .documents import REFUND, batch_description, local_date, num
from .receipts import ar_document_id
from .settle import Settling
from .web_api import Sage300Client


def adjustment_payload(refund: dict[str, Any], *, description: str, reference: str, on) -> dict:
    customer = refund["customer"]["erp_customer_id"]
    distribution: dict[str, Any] = {"DistributionAmount": num(refund["amount"]),
                                    "DistributionGLAccount": refund["gl_account"]}
    if refund.get("distribution_code"):
        distribution["DistributionCode"] = refund["distribution_code"]
    text = (refund.get("reason") or f"Refund {refund['refund_id']}")[:60]
    return {"BatchRecordType": "AD", "BatchDate": on.isoformat(), "Description": description,
            "ReceiptsAdjustments": [{
                "CustomerNumber": customer, "ReceiptDateAdjustmentDate": on.isoformat(),
                "EntryDescription": text, "EntryReference": reference,
                "AppliedReceiptsAdjustments": [{"LineNumber": 20, "CustomerNumber": customer,
                                                "AdjustmentGLDistributions": [distribution]}]}]}


class RefundWriter:
    def __init__(self, pair: Any, client: Sage300Client, settling: Settling) -> None:
        self.pair = pair
        self.client = client
        self.settling = settling

    def ensure(self, refund: dict[str, Any]) -> WriteOutcome:
        description = batch_description(self.pair, refund["order_number"], REFUND, refund["refund_id"])
        reference = self.pair.reference(refund["order_number"])
        body = adjustment_payload(refund, description=description, reference=reference,
                                  on=local_date(self.pair, refund["refunded_at"]))

        def lookup() -> WriteOutcome | None:
            found = self.client.find_ar_batches("AD", description)
            return WriteOutcome("already_present", ar_document_id(found[0])) if found else None

        def create() -> WriteOutcome:
            return WriteOutcome("created", ar_document_id(self.client.create_ar_batch(body)))

        return self.settling.lookup_then_create(description, lookup, create)
