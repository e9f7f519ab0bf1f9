"""Shift4Shop (3dcart REST, `/3dCartWebAPI/v1`) storefront connector: the `storefront:` block
(`config.py`), the API client (`api.py`), the change feeds (`feed.py`, `customer_feed.py`), the
`StorefrontSource` (`source.py`), the `StorefrontSink` with its product batcher (`sink.py`,
`batcher.py`) and the reconcile ledger (`ledger.py`). Registered as kind `shift4shop`."""
from __future__ import annotations

from sagebridge_common import registry
from sagebridge_common.pair_file import PairFileError

from .config import Shift4ShopStorefrontConfig
from .ledger import Shift4ShopLedger
from .sink import Shift4ShopSink
from .source import Shift4ShopSource

KIND = "shift4shop"
registry.register_config("storefront", KIND, Shift4ShopStorefrontConfig)


@registry.register("storefront_source", KIND)
def storefront_source(pair) -> Shift4ShopSource:
    """Store-local dates are converted with the pair's `store_time_zone`."""
    return Shift4ShopSource(pair.storefront, pair.store_time_zone)


@registry.register("storefront_ledger", KIND)
def storefront_ledger(pair) -> Shift4ShopLedger:
    return Shift4ShopLedger(pair)


@registry.register("storefront_sink", KIND)
def storefront_sink(pair) -> Shift4ShopSink:
    """Refuses to start a writer without the PrivateKey/Token headers: every call would be refused
    (401) and each write would go to the dead letters. Only the writer checks (ingest's webhook
    role reads the same pair file and may run without them)."""
    cfg = pair.storefront
    for field, env in (("private_key", "SHIFT4SHOP_PRIVATE_KEY"), ("token", "SHIFT4SHOP_TOKEN")):
        if not getattr(cfg, field).get_secret_value():
            raise PairFileError(f"pair {pair.pair}: storefront.{field} is empty: set {env} "
                                f"(the {'app private key' if field == 'private_key' else 'merchant token'})")
    return Shift4ShopSink(cfg, pair.store_time_zone)


__all__ = ["Shift4ShopLedger", "Shift4ShopSink", "Shift4ShopSource", "Shift4ShopStorefrontConfig"]
