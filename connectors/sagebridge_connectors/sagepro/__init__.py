"""Sage Pro ERP connector (Visual FoxPro tables through ODBC; no web API): the `erp:` block model
(`kind: sagepro`), the table layout a site can correct (`layout.py`, `default_layout.yaml`), the
ErpSink writing one database transaction per document, the ErpLedger for reconcile, and the
snapshot-diff change capture (erp_cdc's erp_source). Importing it registers them with
`sagebridge_common.registry`."""
from __future__ import annotations

from sagebridge_common import registry

from .capture import build_capture
from .config import SageProConfig

registry.register_config("erp", "sagepro", SageProConfig)
registry.register("erp_source", "sagepro")(build_capture)

__all__ = ["SageProConfig"]

from .sink import SageProSink  # noqa: E402  (erp_writer's erp_sink: one transaction per document)
registry.register("erp_sink", "sagepro")(SageProSink)

from .ledger import SageProLedger  # noqa: E402  (reconcile's erp_ledger)
registry.register("erp_ledger", "sagepro")(SageProLedger)
