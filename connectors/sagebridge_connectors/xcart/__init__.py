"""Placeholder: the `storefront:` block model for `kind: xcart`, so services can load the shipped
pair file before the X-Cart connector package lands. That package owns this file and replaces it
(on a merge, take its version)."""
from __future__ import annotations

from pydantic import SecretStr

from sagebridge_common import registry
from sagebridge_common.pairs import ConnectorConfig


class XcartConfig(ConnectorConfig):
    instance: str = "default"
    base_url: str
    token: SecretStr = SecretStr("")
    webhook_secret: SecretStr = SecretStr("")


registry.register_config("storefront", "xcart", XcartConfig)
