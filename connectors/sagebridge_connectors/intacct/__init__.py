"""Sage Intacct connector (XML API over HTTPS POST, not SOAP): the `erp:` block model
(`kind: intacct`), the ErpSink (`sink.py`) and the ErpLedger (`ledger.py`) over one gateway
(`gateway.py`). Importing it registers them with `sagebridge_common.registry`."""
from __future__ import annotations

from sagebridge_common import registry

from .config import IntacctConfig
from .ledger import IntacctLedger
from .sink import IntacctSink

registry.register_config("erp", "intacct", IntacctConfig)


@registry.register("erp_sink", "intacct")
def erp_sink(pair) -> IntacctSink:
    return IntacctSink(pair)


registry.register("erp_ledger", "intacct")(IntacctLedger)

from .capture import build_capture  # noqa: E402  (erp_cdc's erp_source: readByQuery on WHENMODIFIED)

registry.register("erp_source", "intacct")(build_capture)

__all__ = ["IntacctConfig", "IntacctLedger", "IntacctSink"]
