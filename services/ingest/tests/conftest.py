"""An X-Cart simulator over real HTTP, and a way to read the source's feed to its end."""
from __future__ import annotations

import time

import pytest

from sagebridge_connectors.xcart import XCartSource, XCartStorefrontConfig
from sagebridge_sim.faults import FaultInjector
from sagebridge_sim.serve import BackgroundServer
from sagebridge_sim.xcart import XCartStore, create_app

ITEM = {"sku": "WIDGET-1", "name": "Widget", "price": "12.50", "amount": 1}


class Sim:
    def __init__(self, last_renew_filter: bool = True) -> None:
        self.store, self.injector = XCartStore(), FaultInjector()
        self.app = create_app(self.store, token_read="read-tok", token_all="all-tok", injector=self.injector,
                              last_renew_filter=last_renew_filter)
        self.server = BackgroundServer(self.app).start()
        self.listing = self.app.state.listing

    def at(self, second: int) -> None:
        """Holds the store's clock inside `second` for the next call (a tenth of a second in)."""
        self.store.clock_offset = second + 0.1 - time.time()

    def profile(self, login: str, **spec) -> int:
        return self.store.profiles.create({"login": login, **spec})["profile"]["id"]

    def order(self, **spec) -> int:
        return self.store.create_order({"items": [ITEM], **spec})["id"]

    def source(self, **block) -> XCartSource:
        cfg = XCartStorefrontConfig(kind="xcart", base_url=self.server.url, token="read-tok", **block)
        return XCartSource(cfg)

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture
def sim():
    s = Sim()
    yield s
    s.stop()


def drain(source, cursor=None, *, limit: int | None = None, polls: int = 1, max_pages: int = 200,
          stream: str = "order"):
    """Reads `stream` like the runner: pages while `has_more`, then `polls` more polls; returns
    (every change in order, the last cursor)."""
    seen, pages = [], 0
    limit = limit or source.config.page_size
    for _ in range(polls):
        while True:
            page = source.changes(stream, cursor, limit)
            seen.extend(page.changes)
            cursor = page.cursor
            pages += 1
            assert pages < max_pages, "the feed does not progress"
            if not page.has_more:
                break
    return seen, cursor
