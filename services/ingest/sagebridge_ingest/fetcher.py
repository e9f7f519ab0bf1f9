"""Behind the webhook: turn a recorded notification into the full raw order event.

A plain handler for the runtime's processor, so fetch failures get the usual treatment: a store
outage is retried with backoff (the notification waits in Kafka), an order that no longer exists
goes to the DLQ with its reason.
"""
from __future__ import annotations

from sagebridge_common.events import Event, Output

from .poller import raw_order_event
from .xcart.api import XCartClient


def make_fetch_handler(client: XCartClient, *, storefront: str, instance: str, pair_id: str):
    def handle(event: Event) -> list[Output]:
        note = event.value
        full = client.full_order(note["entity_id"])
        return [raw_order_event(full, storefront=storefront, instance=instance, pair_id=pair_id,
                                trigger="webhook", correlation_id=note["metadata"]["correlation_id"])]
    return handle
