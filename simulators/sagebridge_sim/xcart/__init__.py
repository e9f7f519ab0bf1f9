"""X-Cart 5.5 REST API simulator (API Platform dialect) with the optional Sagebridge push module.

Typical use in a test::

    store = XCartStore()
    server = BackgroundServer(create_app(store, token_read="r", token_all="w")).start()
"""
from .app import create_app
from .push import PushNotifier
from .store import XCartStore

__all__ = ["XCartStore", "create_app", "PushNotifier"]
