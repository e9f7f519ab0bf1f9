"""Per order, what transform already emitted besides the order: payment and refund ids and the
customer's fingerprint, in the same keyed state as the version gate (same partition as the raw
record, since the key is derived from the raw record's entity).

Every new version of an order carries all its transactions again; without this memory each
version would re-send every payment and refund (the writer would find them, but at a Sage lookup
each) and a customer event per order version. A record redelivered at the offset that wrote the
memory (crash between the changelog write and the commit) may not have had its outputs
acknowledged, so for it the memory is taken as it was before that record: its events go again.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sagebridge_common.events import Event, Output
from sagebridge_common.keyed_state import KeyedState

from .versions import entity_key

MAX_IDS = 500      # an order with more money movements than this is not a web order


@dataclass
class Known:
    payments: set[str] = field(default_factory=set)
    refunds: set[str] = field(default_factory=set)
    customer: str | None = None


def _key(raw: dict) -> str:
    return entity_key(raw) + "#emitted"


class EmittedMemory:
    def __init__(self, state: KeyedState) -> None:
        self.state = state

    def known(self, event: Event) -> Known:
        rec = self.state.for_event(event).get(_key(event.value))
        if not rec:
            return Known()
        if rec.get("offset") == event.offset:          # redelivery of the record that wrote it
            return Known(set(rec["payments"]) - set(rec.get("new_payments", [])),
                         set(rec["refunds"]) - set(rec.get("new_refunds", [])), rec.get("previous_customer"))
        return Known(set(rec["payments"]), set(rec["refunds"]), rec.get("customer"))

    def remember(self, event: Event, before: Known, payments: list[str], refunds: list[str],
                 customer: str | None) -> Output | None:
        """The changelog record for what this event emitted; None when it emitted nothing new."""
        if not payments and not refunds and customer == before.customer:
            return None
        return self.state.for_event(event).set(_key(event.value), {
            "payments": sorted(before.payments | set(payments))[-MAX_IDS:],
            "refunds": sorted(before.refunds | set(refunds))[-MAX_IDS:],
            "customer": customer, "previous_customer": before.customer,
            "new_payments": payments, "new_refunds": refunds, "offset": event.offset})
