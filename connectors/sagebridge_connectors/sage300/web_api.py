"""Client for the Sage 300 Web API (OData over HTTPS, Basic auth) on the shared HTTP base: OE
orders, A/R customers, A/R receipt and adjustment batches, G/L journal batches and currency codes
(resources of the SDK's Web API Endpoint Reference).

Facts it is built on (Sage 300 SDK Developer Reference §2, §4–12): every request needs Basic auth
and `Content-Type: application/json` (without it the server answers 500, even on a GET); POST to
OE/OEOrders inserts one record and returns the whole inserted entry, and always creates a new order
(OE orders have generated keys, so a repeat POST is a second order); a feed is
`{"value": [...]}`; one entry is `Resource('KEY')`. Error bodies are parsed in `errors.py`.
"""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx

from sagebridge_common.errors import PermanentError
from sagebridge_common.http_base import HttpTarget

from .config import Sage300Config
from .errors import CONNECTOR, Sage300UnexpectedResponse, make_error_for


def odata_literal(value: str) -> str:
    """OData string literal: quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


class Sage300Client:
    connector = CONNECTOR

    def __init__(self, cfg: Sage300Config, *, transport: httpx.BaseTransport | None = None) -> None:
        self._http = HttpTarget(CONNECTOR, cfg.api_root, timeout=cfg.timeout_s, max_concurrency=cfg.max_concurrency,
                                auth=(cfg.user, cfg.password.get_secret_value()), transport=transport,
                                headers={"Content-Type": "application/json", "Accept": "application/json"},
                                error_for=make_error_for(cfg.duplicate_po_codes, cfg.duplicate_po_message))

    def close(self) -> None:
        self._http.close()

    def _json(self, operation: str, method: str, path: str, **kw: Any) -> dict:
        resp = self._http.request(operation, method, path, **kw)
        try:
            body = json.loads(resp.content, parse_float=Decimal)   # totals stay exact
        except ValueError as e:
            raise Sage300UnexpectedResponse(f"Sage 300 {operation}: success status without a JSON body") from e
        if not isinstance(body, dict):
            raise Sage300UnexpectedResponse(f"Sage 300 {operation}: success body is not a JSON object")
        return body

    def ping(self) -> tuple[bool, str]:
        try:
            self._json("ping", "GET", "OE/OEOrders", params={"$top": 1})
            return True, "ok"
        except Exception as e:  # noqa: BLE001 - readiness reports any failure
            return False, str(e)[:200]

    def find_orders_by_reference(self, reference: str) -> list[dict]:
        """Orders whose OrderReference is `reference` (at most two: one is normal, two is a duplicate)."""
        feed = self._json("find_order", "GET", "OE/OEOrders",
                          params={"$filter": f"OrderReference eq {odata_literal(reference)}", "$top": 2})
        return list(feed.get("value") or [])

    def create_order(self, payload: dict) -> dict:
        return self._json("create_order", "POST", "OE/OEOrders", json=payload)

    def duplicate_po_check(self, customer: str) -> str:
        """The customer's CheckForDuplicatePOs as an enum name: "None", "Warning" or "Error"."""
        return duplicate_po_option(self.read_customer(customer))

    # -- A/R customers ---------------------------------------------------------------------------
    def read_customer(self, number: str) -> dict:
        return self._json("read_customer", "GET", f"AR/ARCustomers({odata_literal(number)})")

    def find_customers_by_email(self, emails: list[str]) -> list[dict]:
        """Customers whose Email (ARCUS.EMAIL2) equals one of `emails` exactly (at most 5)."""
        flt = " or ".join(f"Email eq {odata_literal(e)}" for e in dict.fromkeys(emails))
        feed = self._json("find_customer", "GET", "AR/ARCustomers", params={"$filter": flt, "$top": 5})
        return list(feed.get("value") or [])

    def create_customer(self, payload: dict) -> dict:
        return self._json("create_customer", "POST", "AR/ARCustomers", json=payload)

    def update_customer(self, number: str, changes: dict) -> dict:
        """PATCH: only the properties sent change (SDK Developer Reference §4)."""
        return self._json("update_customer", "PATCH", f"AR/ARCustomers({odata_literal(number)})", json=changes)

    # -- common services ------------------------------------------------------------------------
    def currency_exists(self, code: str) -> bool:
        """CS/CSCurrencyCodes('EUR'): False on 404 RecordNotFound (the currency is not in CSCCD)."""
        try:
            self._json("read_currency", "GET", f"CS/CSCurrencyCodes({odata_literal(code)})")
        except PermanentError as e:
            if e.reason == f"{CONNECTOR}_RecordNotFound":
                return False
            raise
        return True

    # -- A/R receipt and adjustment batches, G/L journal batches ----------------------------------
    def find_ar_batches(self, record_type: str, description: str) -> list[dict]:
        flt = f"BatchRecordType eq {odata_literal(record_type)} and Description eq {odata_literal(description)}"
        feed = self._json("find_ar_batch", "GET", "AR/ARReceiptAndAdjustmentBatches", params={"$filter": flt, "$top": 2})
        return list(feed.get("value") or [])

    def create_ar_batch(self, payload: dict) -> dict:
        return self._json("create_ar_batch", "POST", "AR/ARReceiptAndAdjustmentBatches", json=payload)

    def find_journals(self, description: str) -> list[dict]:
        feed = self._json("find_journal", "GET", "GL/GLJournalBatches",
                          params={"$filter": f"Description eq {odata_literal(description)}", "$top": 2})
        return list(feed.get("value") or [])

    def create_journal(self, payload: dict) -> dict:
        return self._json("create_journal", "POST", "GL/GLJournalBatches", json=payload)


def duplicate_po_option(entry: dict) -> str:
    """CheckForDuplicatePOs of a customer entry as an enum name (enums travel as names in the Web
    API; a numeric answer is mapped the same way)."""
    value = entry.get("CheckForDuplicatePOs")
    return {0: "None", 1: "Warning", 2: "Error"}.get(value, str(value)) if isinstance(value, int) else str(value)
