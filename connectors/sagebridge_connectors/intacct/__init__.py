"""Sage Intacct connector (XML API over HTTPS POST, not SOAP): the `erp:` block model
(`kind: intacct`). Importing it registers the model with `sagebridge_common.registry`."""
from __future__ import annotations

from sagebridge_common import registry

from .config import IntacctConfig

registry.register_config("erp", "intacct", IntacctConfig)

__all__ = ["IntacctConfig"]
