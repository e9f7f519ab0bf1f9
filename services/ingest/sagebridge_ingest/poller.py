"""What ingest publishes for a storefront record, polled or fetched behind a webhook.

Polling itself is the runtime's source runner (`sagebridge_common.source_runner`): it pages the
pair's `StorefrontSource`, and for each record calls `poll_outputs`; a record it cannot fetch is
dead-lettered as the notification `dead_letter_notification` builds, into the notifications DLQ,
so `sagebridge dlq redrive` hands it to the fetcher once the cause is fixed.

X-Cart's orders and profiles have shapes of their own (raw_order_event, raw_profile_event); every
other store's records, of any entity type, are published as the source returned them
(raw_record_event), which is what the fetcher needs for Shift4Shop's customer and product webhooks.
"""
from __future__ import annotations

import json

from sagebridge_common.contracts import Change, SourceRecord
from sagebridge_common.events import Output, new_metadata, utcnow
from sagebridge_common.times import parse_iso8601
from sagebridge_common.topics import STOREFRONT_RAW

from .webhook import entity_key, notification_output

RAW_SCHEMA = "sagebridge.v2.RawStorefrontEvent"
XCART = "xcart"        # the kind whose orders arrive as X-Cart's `{"order": {"id", "update_date", ...}}`


def raw_order_event(full: dict, *, storefront: str, instance: str, pair_id: str, trigger: str,
                    source_version: str = "", correlation_id: str | None = None) -> Output:
    order = full["order"]
    order_id = str(order["id"])
    occurred = parse_iso8601(order.get("update_date") or order["create_date"])
    meta = new_metadata(f"order.{'created' if order.get('create_date') == order.get('update_date') else 'updated'}",
                        source_system=storefront, source_instance=instance, source_entity_id=order_id,
                        pair_id=pair_id, occurred_at=occurred, correlation_id=correlation_id)
    value = {"metadata": meta, "storefront": storefront, "entity_type": "order", "entity_id": order_id,
             "trigger": trigger, "payload": json.dumps(full, separators=(",", ":")), "fetched_at": utcnow(),
             "source_version": source_version}
    return Output(STOREFRONT_RAW, order_id, RAW_SCHEMA, value)


def raw_profile_event(record: SourceRecord, *, storefront: str, instance: str, pair_id: str, trigger: str,
                      correlation_id: str | None = None) -> Output:
    """A customer profile: payload `{"profile": ..., "addresses": [...]}`, keyed `profile:<id>`."""
    pid = record.entity_id
    meta = new_metadata("profile.fetched", source_system=storefront, source_instance=instance, source_entity_id=pid,
                        pair_id=pair_id, occurred_at=record.occurred_at, correlation_id=correlation_id)
    value = {"metadata": meta, "storefront": storefront, "entity_type": "profile", "entity_id": pid,
             "trigger": trigger, "payload": json.dumps(record.payload, separators=(",", ":")), "fetched_at": utcnow(),
             "source_version": record.version}
    return Output(STOREFRONT_RAW, entity_key("profile", pid), RAW_SCHEMA, value)


def raw_record_event(record: SourceRecord, *, storefront: str, instance: str, pair_id: str, trigger: str,
                     correlation_id: str | None = None) -> Output:
    """Any other store's record of any entity type (Shift4Shop's and 3dcart's orders, customers,
    products): payload = the source's record as JSON, version = the source's version, keyed by
    `entity_key` (the order id for an order, `<entity_type>:<id>` otherwise)."""
    et, eid = record.entity_type, record.entity_id
    meta = new_metadata(f"{et}.fetched", source_system=storefront, source_instance=instance, source_entity_id=eid,
                        pair_id=pair_id, occurred_at=record.occurred_at, correlation_id=correlation_id)
    value = {"metadata": meta, "storefront": storefront, "entity_type": et, "entity_id": eid,
             "trigger": trigger, "payload": json.dumps(record.payload, separators=(",", ":")), "fetched_at": utcnow(),
             "source_version": record.version}
    return Output(STOREFRONT_RAW, entity_key(et, eid), RAW_SCHEMA, value)


def record_event(record: SourceRecord, *, storefront: str, instance: str, pair_id: str, trigger: str,
                 correlation_id: str | None = None) -> Output:
    """X-Cart's profiles and orders as they always were; every other store's records, whatever
    their entity type, through `raw_record_event`."""
    if record.entity_type == "profile":
        return raw_profile_event(record, storefront=storefront, instance=instance, pair_id=pair_id, trigger=trigger,
                                 correlation_id=correlation_id)
    if record.entity_type != "order" or storefront != XCART:
        return raw_record_event(record, storefront=storefront, instance=instance, pair_id=pair_id, trigger=trigger,
                                correlation_id=correlation_id)
    return raw_order_event(record.payload, storefront=storefront, instance=instance, pair_id=pair_id,
                           trigger=trigger, source_version=record.version, correlation_id=correlation_id)


def poll_outputs(*, storefront: str, instance: str, pair_id: str):
    def outputs(record: SourceRecord, _change: Change) -> list[Output]:
        return [record_event(record, storefront=storefront, instance=instance, pair_id=pair_id, trigger="poll")]
    return outputs


def dead_letter_notification(*, storefront: str, instance: str, pair_id: str):
    def dead_letter(change: Change) -> Output:
        event = "customer.updated" if change.entity_type == "profile" else f"{change.entity_type}.updated"
        return notification_output({"event": event, "entity_type": change.entity_type, "entity_id": change.entity_id},
                                   storefront=storefront, instance=instance, pair_id=pair_id)
    return dead_letter
