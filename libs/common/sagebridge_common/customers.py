"""Customer identity across services: the e-mail, trimmed and lower-cased, is the key.

X-Cart's login is the e-mail; Sage 300 stores it in ARCUS.EMAIL2 (the `Email` property of
AR/ARCustomers). Stores and clerks type it in any case and with stray spaces, so every service —
transform keying commerce.customers.v1, the writer looking a customer up, the connector comparing
what Sage returns — must derive the same key with this one function.
"""
from __future__ import annotations


def email_key(email: str | None) -> str:
    """`email.strip().lower()`; "" for a missing e-mail (callers decide whether that is an error)."""
    return (email or "").strip().lower()
