"""X-Cart 5.5 (API Platform) storefront connector: the `storefront:` block model (`config.py`), the
API client (`api.py`), the keyset change feed (`feed.py`) and the `StorefrontSource` (`source.py`)."""
from __future__ import annotations

from sagebridge_common import registry

from .config import XCartStorefrontConfig
from .source import XCartSource

registry.register_config("storefront", "xcart", XCartStorefrontConfig)


@registry.register("storefront_source", "xcart")
def storefront_source(pair) -> XCartSource:
    return XCartSource(pair.storefront)


__all__ = ["XCartSource", "XCartStorefrontConfig"]

from .ledger import XCartLedger  # noqa: E402  (reconcile's storefront_ledger)
registry.register("storefront_ledger", "xcart")(XCartLedger)

from .sink import XCartSink  # noqa: E402  (storefront_writer's storefront_sink)


@registry.register("storefront_sink", "xcart")
def storefront_sink(pair) -> XCartSink:
    return XCartSink(pair.storefront)
