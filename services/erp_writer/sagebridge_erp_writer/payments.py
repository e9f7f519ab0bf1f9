"""commerce.payments.v1 → one ERP receipt per captured store transaction, applied to the order's
customer (Sage 300: an AR receipt batch, BatchRecordType CA)."""
from __future__ import annotations

from typing import Any

from sagebridge_common.events import Event, Output

from .customers import CustomerResolver, with_customer
from .results import write_result
from .targets import Target


class PaymentWriter:
    entity_type = "payment"

    def __init__(self, resolver: CustomerResolver) -> None:
        self.resolver = resolver

    def source_id(self, payment: dict) -> str:
        return payment["transaction_id"]

    def reference(self, payment: dict, pair: Any) -> str:
        """The receipt batch's description as the Sage 300 sink writes it: `<order ref>-P<txn>`."""
        return f"{pair.reference(payment['order_number'])}-P{payment['transaction_id']}"

    def write(self, event: Event, target: Target) -> list[Output]:
        payment = event.value
        number, outputs = self.resolver.resolve(target, payment, payment["customer"])
        done = target.sink.ensure_payment(with_customer(payment, number))
        outputs.append(write_result(payment, entity_type=self.entity_type, source_entity_id=self.source_id(payment),
                                    target=target.kind, reference=self.reference(payment, target.pair),
                                    outcome=done.outcome, document=done.document_id, message=done.message))
        return outputs
