"""Sage Intacct as an `ErpLedger` for `sagebridge reconcile` (the issue-9 contract §5).

Orders: readByQuery SODOCUMENT (docparid = erp.transaction_definition) REFERENCENO like 'prefix%',
readMore to the end (the resultId is a snapshot, so rows added meanwhile cannot shift a page).
Receipts: readByQuery ARPYMT DOCNUMBER like 'prefix%' (the hub's payments are `<ref>-P<txn>`).
Each call is one API transaction, counted with purpose "reconcile".
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterator

from sagebridge_common.contracts import ErpDocument, ErpReceipt

from .functions import literal
from .gateway import IntacctGateway


def _like_prefix(prefix: str) -> str:
    return literal(prefix.replace("%", "").replace("_", "") + "%")


class IntacctLedger:
    kind = "intacct"

    def __init__(self, pair: Any, gateway: IntacctGateway | None = None, *, page_size: int = 1000) -> None:
        self.cfg = pair.erp
        self.gateway = gateway or IntacctGateway(pair.erp, pair_id=pair.pair)
        self.page_size = page_size

    def orders(self, reference_prefix: str) -> Iterator[ErpDocument]:
        for page in self.gateway.read_by_query("SODOCUMENT", ["RECORDNO", "DOCID", "REFERENCENO", "TOTAL", "CUSTVENDID"],
                                               f"REFERENCENO like {_like_prefix(reference_prefix)}",
                                               pagesize=self.page_size, docparid=self.cfg.transaction_definition,
                                               purpose="reconcile"):
            for row in page:
                if (row.get("REFERENCENO") or "").startswith(reference_prefix):
                    yield ErpDocument(document_id=row["DOCID"], reference=row["REFERENCENO"],
                                      total=Decimal(row.get("TOTAL") or "0"), customer=row.get("CUSTVENDID") or "")

    def receipts(self, reference_prefix: str) -> Iterator[ErpReceipt]:
        for page in self.gateway.read_by_query("ARPYMT", ["RECORDNO", "DOCNUMBER", "TRX_PAYMENTAMOUNT"],
                                               f"DOCNUMBER like {_like_prefix(reference_prefix)}",
                                               pagesize=self.page_size, purpose="reconcile"):
            for row in page:
                if (row.get("DOCNUMBER") or "").startswith(reference_prefix):
                    yield ErpReceipt(batch_id=row["RECORDNO"], description=row["DOCNUMBER"],
                                     amount=Decimal(row.get("TRX_PAYMENTAMOUNT") or "0"))

    def close(self) -> None:
        self.gateway.close()
