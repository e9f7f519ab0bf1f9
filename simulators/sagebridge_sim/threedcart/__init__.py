"""Simulator of the legacy 3dcart SOAP Store Web Service (`cart.asmx`), see `app.py`."""
from .app import create_app
from .store import ThreeDCartStore

__all__ = ["ThreeDCartStore", "create_app"]
