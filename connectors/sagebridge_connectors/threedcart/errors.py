"""The service's `<Error><Id>` codes (shift4shop.md §4) mapped to the runtime's error vocabulary.

- 16 (IP not allowed), 17 (Login Error), 18 (API not enabled): the store's settings refuse us;
  retrying cannot help until an operator acts -> PermanentError (`threedcart_login`, ...).
- 0 (bad XML), 1-9 (a node missing, invalid method), 31-43 (invalid data): our request is wrong
  -> PermanentError (`threedcart_request` / `refused_value`).
- 46 product, 47 customer, 48 order status, 49 order not found -> `NotFound`, which callers turn
  into `unknown_sku` / `unknown_order`, or read as the end of a listing (the service answers an
  empty page with the not-found code).
- anything else: PermanentError `threedcart_error` naming the code (an unknown code is not worth
  retrying for ever; the DLQ shows it).
"""
from __future__ import annotations

from sagebridge_common.errors import PermanentError

NOT_FOUND = {46: "product", 47: "customer", 48: "order status", 49: "order"}
LOGIN = {16: "threedcart_ip_refused", 17: "threedcart_login", 18: "threedcart_api_disabled"}
INVALID_DATA = range(31, 44)
MISSING_NODE = range(0, 10)


class NotFound(PermanentError):
    """The service found no such entity (or no entity on the requested page)."""

    reason = "threedcart_not_found"

    def __init__(self, message: str, *, code: int, entity: str) -> None:
        super().__init__(message)
        self.code = code
        self.entity = entity


def error_for(op: str, code: int, description: str) -> PermanentError:
    text = f"3dcart {op}: error {code} {description!r}"
    if code in NOT_FOUND:
        return NotFound(text, code=code, entity=NOT_FOUND[code])
    if code in LOGIN:
        return PermanentError(text, reason=LOGIN[code])
    if code in INVALID_DATA:
        return PermanentError(text, reason="refused_value")
    if code in MISSING_NODE:
        return PermanentError(text, reason="threedcart_request")
    return PermanentError(text, reason="threedcart_error")
