"""A SODOCUMENT of the order definition -> `erp.order_status.v1` (v3 OrderStatus, key = store order number).

- status: STATE through `change_capture.order_states` (Draft/Pending/In Progress -> open, Partially
  Converted -> partially_shipped, Converted -> shipped, Closed -> complete by default); a state not
  listed is ignored (nothing emitted, nothing remembered).
- order: REFERENCENO minus the pair's `reference_prefix` is the store order number (the writer
  sets `referenceno` = prefix + number); another prefix, or none, is not this pair's: dropped.
- order_number: DOCID (the writer's document id, e.g. `Sales Order-SO-00001`).
- store codes from `mapping.erp_order_status` (X-Cart shipping / payment, or a store order status id).

Emitted only when the status differs from the last one emitted for the document (kept in its
keyed state): Intacct bumps WHENMODIFIED on every save (a total recomputed, a message edited) and
the store needs to hear only of a new status. For the record at the offset that last emitted (a
redelivery after a crash) the comparison is against the status before it, so its event goes again.
"""
from __future__ import annotations

from typing import Any

from sagebridge_common.events import Event, Output
from sagebridge_common.pairs import PairConfig

from ..erp_status import header_status
from ..sage300.row_state import Entity
from .rows import capture_config

TABLE = "SODOCUMENT"


def order_status(entity: Entity, pair: PairConfig, event: Event, parent: dict[str, Any]) -> Output | None:
    """The OrderStatus when the mapped status changed; remembers it in the entity (save after)."""
    return header_status(entity, pair, event, parent, table=TABLE, reference_field="REFERENCENO",
                         number_field="DOCID", status_field="STATE",
                         statuses=capture_config(pair).order_states)
