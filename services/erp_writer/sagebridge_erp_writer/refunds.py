"""commerce.refunds.v1 → one ERP adjustment per completed store refund (Sage 300: an AR
adjustment batch, BatchRecordType AD), for the order's customer.

A refund that takes the order's refunded total above what was paid is refused here, before any
ERP call (issue 6: "a refund larger than what was paid goes to the DLQ with that reason"); transform
passes it through on purpose, so only that refund stops and the order's other events flow on.
"""
from __future__ import annotations

from typing import Any

from sagebridge_common.errors import PermanentError
from sagebridge_common.events import Event, Output

from .customers import CustomerResolver, with_customer
from .order_changes import money
from .results import write_result
from .targets import Target


class RefundWriter:
    entity_type = "refund"

    def __init__(self, resolver: CustomerResolver) -> None:
        self.resolver = resolver

    def source_id(self, refund: dict) -> str:
        return refund["refund_id"]

    def reference(self, refund: dict, pair: Any) -> str:
        """The adjustment batch's description as the Sage 300 sink writes it: `<order ref>-R<refund>`."""
        return f"{pair.reference(refund['order_number'])}-R{refund['refund_id']}"

    def write(self, event: Event, target: Target) -> list[Output]:
        refund = event.value
        if refund["refunded_total"] > refund["paid_total"]:
            raise PermanentError(f"refund {refund['refund_id']} of order {refund['order_number']} brings the refunded "
                                 f"total to {money(refund['refunded_total'])}, more than the "
                                 f"{money(refund['paid_total'])} paid", reason="refund_exceeds_payment")
        number, outputs = self.resolver.resolve(target, refund, refund["customer"])
        done = target.sink.ensure_refund(with_customer(refund, number))
        outputs.append(write_result(refund, entity_type=self.entity_type, source_entity_id=self.source_id(refund),
                                    target=target.kind, reference=self.reference(refund, target.pair),
                                    outcome=done.outcome, document=done.document_id, message=done.message))
        return outputs
