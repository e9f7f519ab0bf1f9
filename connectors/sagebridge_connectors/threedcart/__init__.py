"""Legacy 3dcart SOAP "Store Web Service" (`cart.asmx`) storefront connector, `kind: threedcart`:
the `storefront:` block (`config.py`), the zeep client over our own WSDL (`client.py`,
`wsdl/cart.wsdl`), the order source (`source.py`), the ERP -> store sink (`sink.py`) and the
reconcile ledger (`ledger.py`). The pair's `store_time_zone` converts every store-local date.
"""
from __future__ import annotations

from sagebridge_common import registry

from .config import ThreeDCartStorefrontConfig
from .ledger import ThreeDCartLedger
from .sink import ThreeDCartSink
from .source import ThreeDCartSource

registry.register_config("storefront", "threedcart", ThreeDCartStorefrontConfig)


@registry.register("storefront_source", "threedcart")
def storefront_source(pair) -> ThreeDCartSource:
    return ThreeDCartSource(pair.storefront, pair.zone)


@registry.register("storefront_sink", "threedcart")
def storefront_sink(pair) -> ThreeDCartSink:
    return ThreeDCartSink(pair.storefront, pair.zone)


registry.register("storefront_ledger", "threedcart")(ThreeDCartLedger)

__all__ = ["ThreeDCartLedger", "ThreeDCartSink", "ThreeDCartSource", "ThreeDCartStorefrontConfig"]
