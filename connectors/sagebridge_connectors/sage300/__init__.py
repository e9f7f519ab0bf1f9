"""Sage 300 connector: the `erp:` block model (`kind: sage300`) and the ErpSink (A/R customers, O/E
orders, A/R receipts and adjustments, G/L fee journals over the Web API). Importing it registers
both with `sagebridge_common.registry`."""
from __future__ import annotations

from sagebridge_common import registry

from .config import Sage300Config
from .sink import Sage300Sink

registry.register_config("erp", "sage300", Sage300Config)


@registry.register("erp_sink", "sage300")
def erp_sink(pair) -> Sage300Sink:
    return Sage300Sink(pair, restart_hold=True)     # a writer process, perhaps restarted after a crash


__all__ = ["Sage300Config", "Sage300Sink"]

from .ledger import Sage300Ledger  # noqa: E402  (reconcile's erp_ledger)
registry.register("erp_ledger", "sage300")(Sage300Ledger)

from .cdc import build_capture  # noqa: E402  (erp_cdc's erp_source: change capture from the company database)
registry.register("erp_source", "sage300")(build_capture)
