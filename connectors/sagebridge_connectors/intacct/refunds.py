"""A canonical refund -> exactly one Intacct AR adjustment (legacy `create_aradjustment`, the
issue-9 contract §2), adjustmentno `<ref>-R<refund>`, one line on the template's refund account
(mapping.refunds.gl_account), control id `ref-<pair>-<refund>` with uniqueid=true; a refusal or a
lost answer is resolved by reading ARADJUSTMENT RECORDID = the adjustmentno (`once.py`).

Sign: the amount is the refund, POSITIVE (as the Sage 300 adjustment, and for the same reason):
the payment credited the customer with what they paid; money handed back removes that much of the
credit, so the customer's balance rises by the refund, offset in the refund account.
"""
from __future__ import annotations

from typing import Any

from sagebridge_common.contracts import WriteOutcome

from .envelope import element
from .functions import date_parts, literal, local_date, money
from .gateway import IntacctGateway
from .once import ensure_once


def adjustment_function(refund: dict[str, Any], *, adjustmentno: str, on):
    text = (refund.get("reason") or f"Refund {refund['refund_id']}")[:1000]
    line = element("lineitem", None, element("glaccountno", refund["gl_account"]),
                   element("amount", money(refund["amount"])), element("memo", text[:1000]))
    return element("create_aradjustment", None, element("customerid", refund["customer"]["erp_customer_id"]),
                   date_parts("datecreated", on), element("adjustmentno", adjustmentno),
                   element("description", text), element("aradjustmentitems", None, line))


class RefundWriter:
    def __init__(self, pair: Any, gateway: IntacctGateway) -> None:
        self.pair = pair
        self.gateway = gateway

    def ensure(self, refund: dict[str, Any]) -> WriteOutcome:
        adjustmentno = f"{self.pair.reference(refund['order_number'])}-R{refund['refund_id']}"
        function = adjustment_function(refund, adjustmentno=adjustmentno,
                                       on=local_date(self.pair, refund["refunded_at"]))

        def lookup() -> str | None:
            rows = self.gateway.query_all("ARADJUSTMENT", ["RECORDNO", "RECORDID"],
                                          f"RECORDID = {literal(adjustmentno)}", pagesize=10, purpose="refund")
            rows = [r for r in rows if r.get("RECORDID") == adjustmentno]
            return rows[0]["RECORDNO"] if rows else None

        return ensure_once(self.gateway, function, controlid=f"ref-{self.pair.pair}-{refund['refund_id']}",
                           purpose="refund", lookup=lookup, document_id=lambda r: r.key or "",
                           what=f"ARADJUSTMENT {adjustmentno}")
