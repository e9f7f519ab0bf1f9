"""Sage 300 Web API simulator backed by real Sage 300 tables over ODBC (see app.py and db.py)."""
from .app import create_app
from .db import Sage300Database

__all__ = ["Sage300Database", "create_app"]
