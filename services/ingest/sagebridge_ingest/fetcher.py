"""Behind the webhook: turn a recorded notification into the full raw event of what it names.

A plain handler for the runtime's processor, so fetch failures get the usual treatment: a store
outage is retried with backoff (the notification waits in Kafka), an order or profile that no
longer exists goes to the DLQ with its reason. The notification names its pair and its entity
(`entity_type` "order" or "profile" for X-Cart; "order", "customer" or "product" for Shift4Shop);
that pair's source fetches that entity, and `record_event` publishes it whatever its type.
"""
from __future__ import annotations

from sagebridge_common.contracts import Change, StorefrontSource
from sagebridge_common.errors import PermanentError
from sagebridge_common.events import Event, Output, utcnow

from .poller import record_event


def make_fetch_handler(sources: dict[str, StorefrontSource], instances: dict[str, str]):
    """`sources`/`instances`: by pair id, the pair's storefront source and store instance name."""
    def handle(event: Event) -> list[Output]:
        note = event.value
        pair_id = note["metadata"]["pair_id"]
        source = sources.get(pair_id)
        if source is None:
            raise PermanentError(f"no storefront source for pair {pair_id!r}", reason="unknown_pair")
        record = source.fetch(Change(note["entity_type"], note["entity_id"], "", utcnow()))
        return [record_event(record, storefront=source.kind, instance=instances[pair_id], pair_id=pair_id,
                             trigger="webhook", correlation_id=note["metadata"]["correlation_id"])]
    return handle
