"""Stand-in block models for the connector kinds the shipped pair file names, until they are merged.

Transform reads only a pair's `mapping:` block, but `load_pairs` validates the whole file, and the
models of the `storefront:` (xcart) and `erp:` (sage300) blocks belong to the connector packages,
which are being written in parallel. Where such a package is not installed yet, this registers a
model that takes the block as written, so transform can start on the shipped file. Once
`sagebridge_connectors.xcart` / `.sage300` exist their own strict models are used and this does
nothing. Delete this module when both connectors are merged.
"""
from __future__ import annotations

from pydantic import ConfigDict

from sagebridge_common import registry
from sagebridge_common.pairs import ConnectorConfig

EXPECTED = (("storefront", "xcart"), ("erp", "sage300"))


class PendingConnectorBlock(ConnectorConfig):
    model_config = ConfigDict(extra="allow", frozen=True)


def register_missing() -> None:
    for side, kind in EXPECTED:
        try:
            registry.config_model(side, kind)
        except registry.UnknownConnector:
            registry.register_config(side, kind, PendingConnectorBlock)
