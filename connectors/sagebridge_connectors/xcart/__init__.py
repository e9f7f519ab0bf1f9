"""X-Cart 5.5 (API Platform) storefront connector: the `storefront:` block model (`config.py`), the
API client (`api.py`), the keyset change feed (`feed.py`) and the `StorefrontSource` (`source.py`)."""
from __future__ import annotations

from sagebridge_common import registry
from sagebridge_common.pair_file import PairFileError

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
    """Refuses to start a writer that could never write a tracking number: with `tracking: module`
    and no token every shipment would be refused by the module and retried for ever. Only the
    storefront writer checks it; the other services read the same pair file without the token."""
    cfg = pair.storefront
    if cfg.tracking == "module" and not cfg.module_token.get_secret_value():
        raise PairFileError(f"pair {pair.pair}: storefront.module_token is empty but storefront.tracking is "
                            f"`module`: set XCART_MODULE_TOKEN (the push module's tracking token), or "
                            f"XCART_TRACKING=none where the module is not installed")
    return XCartSink(cfg)
