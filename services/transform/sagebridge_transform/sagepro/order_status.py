"""A SOMAST row -> `erp.order_status.v1` (v3 OrderStatus, key = store order number).

- order: ponum minus the pair's `reference_prefix` is the store order number (the writer puts
  prefix + number in ponum, the guard); another pair's prefix, or none (an order keyed in Sage
  Pro), is not this pair's: nothing is emitted.
- status: sostat through the pair's `erp.order_status_codes` ("" open, H on_hold,
  P partially_shipped, S shipped, C complete, X cancelled by default); a code not listed is
  ignored (nothing emitted, nothing remembered).
- order_number: sono (stripped); the store codes come from `mapping.erp_order_status` (the shared
  `erp_status.status_event`).

Emitted only when the status differs from the last one emitted for the order (a freight edit or
a new tracking number says nothing new about the status); a redelivery of the record that last
emitted sees the status before it, so its event goes again (`erp_status.last_emitted`).
"""
from __future__ import annotations

from typing import Any

from sagebridge_common.events import Event, Output
from sagebridge_common.pairs import PairConfig

from ..erp_status import header_status
from ..sage300.row_state import Entity

TABLE = "SOMAST"


def order_status(entity: Entity, pair: PairConfig, event: Event, parent: dict[str, Any]) -> Output | None:
    """The OrderStatus when the mapped status changed; remembers it in the entity (save after)."""
    return header_status(entity, pair, event, parent, table=TABLE, reference_field="ponum", number_field="sono",
                         status_field="sostat", statuses=pair.erp.order_status_codes)
