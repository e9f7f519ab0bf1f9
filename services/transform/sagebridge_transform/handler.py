"""Transform's handler: raw storefront event → canonical events. Pure: no I/O, only the template."""
from __future__ import annotations

import logging

from sagebridge_common.errors import PermanentError
from sagebridge_common.events import Event, Output, derived_metadata
from sagebridge_common.topics import ORDERS

from .mapping import MappingTemplate
from .recently_seen import RecentlySeen
from .xcart import order as xcart_order

log = logging.getLogger(__name__)
ORDER_SCHEMA = "sagebridge.v1.Order"


def make_handler(mapping: MappingTemplate, seen: RecentlySeen | None = None):
    seen = seen or RecentlySeen()

    def handle(event: Event) -> list[Output]:
        raw = event.value
        if not event.schema.endswith(".RawStorefrontEvent"):
            raise PermanentError(f"transform cannot handle {event.schema}", reason="unexpected_schema")
        if raw["storefront"] != "xcart":
            raise PermanentError(f"no mapping for storefront {raw['storefront']!r} yet", reason="unsupported_storefront")
        if raw["entity_type"] != "order":
            log.info("entity type not mapped yet; skipped", extra={"entity_type": raw["entity_type"]})
            return []
        version = seen.key(f"{raw['storefront']}/{raw['entity_id']}", raw["payload"])
        if seen.contains(version):
            return []          # the same version again (poll and webhook both delivered it)
        doc = xcart_order.parse_payload(raw["payload"])
        order = xcart_order.to_canonical(doc, mapping, derived_metadata(raw["metadata"], raw["metadata"]["event_type"]))
        seen.remember(version)
        return [Output(ORDERS, order["order_id"], ORDER_SCHEMA, order)]
    return handle
