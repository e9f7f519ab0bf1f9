"""A Shift4Shop simulator on a real loopback port, for tests (this package's and the connector's).

    with running_sim() as sim:
        sim.product("SKU-1", price="9.99", stock=5)
        sim.order(items=[{"sku": "SKU-1", "quantity": 2}])
        sim.api.get("/Orders")          # authenticated client on /3dCartWebAPI/v1
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import httpx

from ..serve import BackgroundServer
from .app import create_app
from .clock import StoreClock
from .store import Shift4ShopStore
from .wire import Credentials

SECURE_URL, PRIVATE_KEY, TOKEN = "https://teststore.3dcartstores.com", "private-key-1", "token-1"
HEADERS = {"SecureURL": SECURE_URL, "PrivateKey": PRIVATE_KEY, "Token": TOKEN}
TZ = "America/Los_Angeles"


class Sim:
    def __init__(self, server: BackgroundServer, store: Shift4ShopStore) -> None:
        self.server, self.store = server, store
        self.admin = httpx.Client(base_url=server.url, timeout=10)
        self.api = httpx.Client(base_url=server.url + "/3dCartWebAPI/v1", headers=HEADERS, timeout=10)

    def product(self, sku: str, **spec) -> dict:
        r = self.admin.post("/_sim/products", json={"sku": sku, **spec})
        assert r.status_code == 201, r.text
        return r.json()

    def order(self, **spec) -> dict:
        r = self.admin.post("/_sim/orders", json=spec)
        assert r.status_code == 201, r.text
        return r.json()

    def close(self) -> None:
        self.admin.close()
        self.api.close()
        self.server.stop()


@contextmanager
def running_sim(tz: str = TZ, **app_kwargs) -> Iterator[Sim]:
    """`app_kwargs` go to `create_app` (max_limit, max_batch, event_types, webhook_attempts)."""
    store = Shift4ShopStore(StoreClock(tz))
    server = BackgroundServer(create_app(store, Credentials(SECURE_URL, PRIVATE_KEY, TOKEN), **app_kwargs)).start()
    sim = Sim(server, store)
    try:
        yield sim
    finally:
        sim.close()
