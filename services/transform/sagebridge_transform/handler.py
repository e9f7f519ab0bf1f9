"""Transform's handler: raw storefront event → canonical events, with the mapping of the event's pair.

Pure apart from the version gate's keyed state: no I/O, so a failure here is the record's fault
(permanent) and replaying it gives the same result.
"""
from __future__ import annotations

import logging
from types import ModuleType

from sagebridge_common.errors import PermanentError
from sagebridge_common.events import Event, Output, derived_metadata
from sagebridge_common.keyed_state import KeyedState
from sagebridge_common.pairs import PairConfig
from sagebridge_common.topics import ORDERS

from .versions import VersionGate
from .xcart import order as xcart_order

log = logging.getLogger(__name__)
ORDER_SCHEMA = "sagebridge.v2.Order"
ORDER_MAPPERS: dict[str, ModuleType] = {"xcart": xcart_order}   # storefront kind → its order mapping


def _pair_of(raw: dict, pairs: dict[str, PairConfig]) -> PairConfig:
    pair_id = raw["metadata"]["pair_id"]
    pair = pairs.get(pair_id)
    if pair is None:
        raise PermanentError(f"no pair file defines pair {pair_id!r} (served: {', '.join(sorted(pairs))})",
                             reason="unknown_pair")
    if raw["storefront"] != pair.storefront.kind:
        raise PermanentError(f"event from storefront {raw['storefront']!r}, but pair {pair_id!r} is a "
                             f"{pair.storefront.kind} pair", reason="storefront_mismatch")
    return pair


def make_handler(pairs: dict[str, PairConfig], state: KeyedState):
    gate = VersionGate(state)

    def handle(event: Event) -> list[Output]:
        raw = event.value
        if not event.schema.endswith(".RawStorefrontEvent"):
            raise PermanentError(f"transform cannot handle {event.schema}", reason="unexpected_schema")
        mapper = ORDER_MAPPERS.get(raw["storefront"])
        if mapper is None:
            raise PermanentError(f"no mapping for storefront kind {raw['storefront']!r} (transform maps: "
                                 f"{', '.join(sorted(ORDER_MAPPERS))})", reason="unsupported_storefront")
        pair = _pair_of(raw, pairs)
        if raw["entity_type"] != "order":
            log.info("entity type not mapped yet; skipped", extra={"entity_type": raw["entity_type"]})
            return []
        if not gate.admit(event):
            return []
        doc = mapper.parse_payload(raw["payload"])
        metadata = derived_metadata(raw["metadata"], raw["metadata"]["event_type"])
        order = mapper.to_canonical(doc, pair, metadata, raw.get("source_version") or "")
        return [Output(ORDERS, order["order_id"], ORDER_SCHEMA, order), gate.remember(event)]   # remember last
    return handle
