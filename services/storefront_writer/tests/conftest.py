"""The X-Cart simulator over real HTTP for the sink tests, and a sink configured against it."""
from __future__ import annotations

from decimal import Decimal

import pytest

from sagebridge_connectors.xcart.config import XCartStorefrontConfig
from sagebridge_connectors.xcart.sink import XCartSink
from sagebridge_sim.serve import BackgroundServer
from sagebridge_sim.xcart import XCartStore, create_app

MODULE_TOKEN = "module-token-for-tests"


@pytest.fixture
def xcart():
    store = XCartStore()
    app = create_app(store, token_read="r", token_all="w", module_token=MODULE_TOKEN)
    with BackgroundServer(app) as server:
        server.store, server.injector = store, app.state.injector
        yield server


@pytest.fixture
def make_sink(xcart):
    made = []

    def make(**overrides) -> XCartSink:
        cfg = XCartStorefrontConfig(**{"kind": "xcart", "base_url": xcart.url, "token": "w", "timeout_s": 5,
                                       "module_token": MODULE_TOKEN, "rate_limit_per_s": 1000,
                                       "rate_limit_burst": 1000, **overrides})
        sink = XCartSink(cfg)
        made.append(sink)
        return sink
    yield make
    for sink in made:
        sink.close()


def order(store: XCartStore, shipping_code: str = "N", payment_code: str = "P") -> str:
    """Places an order in the simulated store; returns its order number."""
    meta = store.create_order({"email": "ann@example.com", "shipping_code": shipping_code,
                               "payment_code": payment_code,
                               "items": [{"sku": "WIDGET-1", "name": "Widget", "price": Decimal("12.50"), "amount": 1}]})
    return meta["order_number"]
