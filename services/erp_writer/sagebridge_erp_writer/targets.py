"""Which pair an event belongs to, and that pair's ERP sink: every writer routes the same way."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from sagebridge_common.contracts import ErpSink
from sagebridge_common.errors import PermanentError


@dataclass(frozen=True)
class Target:
    pair_id: str
    sink: ErpSink
    pair: Any           # PairConfig

    @property
    def kind(self) -> str:
        return self.sink.kind


class Targets:
    def __init__(self, sinks: Mapping[str, ErpSink], pairs: Mapping[str, Any]) -> None:
        self.sinks, self.pairs = sinks, pairs

    def find(self, value: dict) -> Target | None:
        pair_id = (value.get("metadata") or {}).get("pair_id")
        if pair_id not in self.sinks:
            return None
        return Target(pair_id, self.sinks[pair_id], self.pairs[pair_id])

    def route(self, value: dict) -> Target:
        target = self.find(value)
        if target is None:
            pair_id = (value.get("metadata") or {}).get("pair_id")
            raise PermanentError(f"no ERP sink for pair {pair_id!r} (serving {', '.join(sorted(self.sinks))})",
                                 reason="unknown_pair")
        return target
