"""Is the order's currency one Sage 300 holds? (CS/CSCurrencyCodes, table CSCCD.)

An order in a currency the company's Common Services do not define cannot be entered; Sage would
refuse it with a business-rule error whose text is for people. Asking first gives the dead letter a
reason an operator can act on (`currency_not_in_sage`: add the currency in Common Services, then
redrive). A currency found is remembered for the process's life (currencies are not deleted while
documents use them); one not found is asked again next time, so the redrive after the fix works.
"""
from __future__ import annotations

import threading

from sagebridge_common.errors import PermanentError

from .web_api import Sage300Client


class CurrencyCheck:
    def __init__(self, client: Sage300Client) -> None:
        self._client = client
        self._known: set[str] = set()
        self._lock = threading.Lock()
        self._reading = threading.Lock()
        self.reads = 0

    def require(self, currency: str) -> None:
        code = currency.strip().upper()
        with self._lock:
            if code in self._known:
                return
        with self._reading:        # one reader at a time: a burst of first orders costs one read
            with self._lock:
                if code in self._known:
                    return
            self.reads += 1
            if not self._client.currency_exists(code):
                raise PermanentError(f"currency {code} is not in Sage 300's currency codes (CS/CSCurrencyCodes); "
                                     f"the order goes to the DLQ with that reason: add {code} in Common Services > "
                                     f"Currency Codes, then redrive", reason="currency_not_in_sage")
            with self._lock:
                self._known.add(code)
