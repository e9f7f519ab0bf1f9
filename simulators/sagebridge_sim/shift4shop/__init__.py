"""Shift4Shop (3dcart) REST API simulator (shift4shop.md §1-§3) with webhook delivery.

Typical use in a test::

    store = Shift4ShopStore(StoreClock("America/Los_Angeles"))
    app = create_app(store, Credentials("https://store.example.com", "private-key", "token"))
    server = BackgroundServer(app).start()
"""
from .app import create_app
from .clock import StoreClock
from .store import Shift4ShopStore
from .wire import Credentials

__all__ = ["Credentials", "Shift4ShopStore", "StoreClock", "create_app"]
