"""The shape every ERP's `erp.raw.v1` transform shares: a captured row -> its entity's keyed state ->
the canonical ERP-origin events computed from everything kept for that entity.

A subclass names its ERP (`erp`), its table -> entity kind routing (`kinds`), how it reads a raw
record into a Row (`parse_row`) and one `_<kind>(entity, row, pair, event)` method per kind. The
order here is the contract of every such transform: the pair is checked, the row is gated by
position (older or equal positions dropped, `sage300.row_state`), stored, the events computed, and
the state write comes last so nothing after it can raise.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from sagebridge_common.errors import PermanentError
from sagebridge_common.events import Event, Output
from sagebridge_common.keyed_state import KeyedState
from sagebridge_common.pairs import PairConfig

from .sage300.row_state import EntityStore

log = logging.getLogger(__name__)


class ErpRowTransform:
    erp: str = ""
    kinds: dict[str, str] = {}
    parse_row: Callable[[dict[str, Any], str], Any]

    def __init__(self, pairs: dict[str, PairConfig], state: KeyedState) -> None:
        self.pairs = pairs
        self.store = EntityStore(state)

    def __call__(self, event: Event) -> list[Output]:
        raw = event.value
        if not event.schema.endswith(".RawErpChange"):
            raise PermanentError(f"transform cannot handle {event.schema} on {event.topic}", reason="unexpected_schema")
        if raw.get("erp") != self.erp:
            raise PermanentError(f"no mapping for ERP {raw.get('erp')!r} here (this transform maps: {self.erp})",
                                 reason="unsupported_erp")
        pair = self._pair_of(raw)
        kind = self.kinds.get(str(raw.get("table") or "").upper())
        if kind is None:
            log.info("erp table not mapped; skipped", extra={"erp": self.erp, "table": raw.get("table")})
            return []
        entity_id = (event.key or b"").decode() or raw["metadata"]["source_entity_id"]
        row = type(self).parse_row(raw, entity_id)
        entity = self.store.load(event, f"{pair.pair}/{kind}/{entity_id}")
        if not self.store.gate(entity, row, event):
            return []
        entity.put(row, event.offset)
        outputs = getattr(self, "_" + kind)(entity, row, pair, event)
        return outputs + [self.store.save(event, entity)]      # state write last: nothing after it can raise

    def _pair_of(self, raw: dict) -> PairConfig:
        pair_id = raw["metadata"]["pair_id"]
        pair = self.pairs.get(pair_id)
        if pair is None:
            raise PermanentError(f"no pair file defines pair {pair_id!r} (served: {', '.join(sorted(self.pairs))})",
                                 reason="unknown_pair")
        if pair.erp.kind != self.erp:
            raise PermanentError(f"event from ERP {self.erp}, but pair {pair_id!r} is a {pair.erp.kind} pair",
                                 reason="erp_mismatch")
        return pair
