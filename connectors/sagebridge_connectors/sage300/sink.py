"""The Sage 300 ErpSink: a canonical order becomes exactly one O/E sales order.

A POST to OE/OEOrders always makes a new order (Sage 300 SDK Developer Reference §12: only
resources with natural keys raise RecordDuplicate), so exactly-once is built here, per order:

1. The reference is the pair's prefix + the store's number (`XC1-1001`), in both OrderReference
   and PurchaseOrderNumber, so a POS order or another store's "1001" is never taken for ours. It
   must fit PONUMBER (char 22): checked at start for the longest expected number, and per order.
2. Customers whose CheckForDuplicatePOs is Error (`guard.py`): post at once; Sage refuses a
   repeated PO number itself, and that refusal (recognised by the erp block's
   duplicate_po_codes / duplicate_po_message, since Sage does not document it) means "already
   present". One Sage call per order instead of two.
3. Every other customer, and every reference this process already saw in Sage: look the order up
   by OrderReference first, create only when it is not there.
4. A POST whose answer was lost (OutcomeUnknownError: a timeout after sending, a dropped
   connection, a 5xx) may still be committing. The reference is remembered; the next attempt waits
   until `settle_delay_s` has passed since then, looks up, and posts only if the lookup still
   finds nothing. After a restart the memory is gone, and step 2 or 3 covers it.
5. After a create, Sage's OrderTotal is compared with the store's total (±0.01). A difference is a
   `created_with_mismatch` outcome naming both, and `sagebridge_erp_total_mismatch_total`.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from datetime import timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from sagebridge_common import metrics
from sagebridge_common.contracts import WriteOutcome
from sagebridge_common.errors import OutcomeUnknownError, PermanentError

from .config import PO_MAX, Sage300Config
from .errors import CONNECTOR, DuplicatePoRefused
from .guard import DuplicatePoGuards
from .oe_order import order_payload
from .web_api import Sage300Client

log = logging.getLogger(__name__)

TOTAL_TOLERANCE = Decimal("0.01")
MEMORY = 10_000          # references remembered (unknown outcomes, orders seen in Sage)


class _Memory:
    """A bounded, thread-safe map (oldest entries go first)."""

    def __init__(self, size: int = MEMORY) -> None:
        self._data: OrderedDict[str, Any] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            return self._data.get(key)

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._size:
                self._data.popitem(last=False)

    def pop(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)


def check_reference_room(prefix: str, cfg: Sage300Config) -> None:
    """At start: the prefix plus the longest expected store number must fit PONUMBER."""
    if len(prefix) + cfg.order_number_max_length > PO_MAX:
        raise PermanentError(
            f"reference_prefix {prefix!r} ({len(prefix)} characters) plus store numbers of up to "
            f"{cfg.order_number_max_length} characters (erp.order_number_max_length) do not fit Sage 300's "
            f"PurchaseOrderNumber (PONUMBER, {PO_MAX} characters)", reason="sage300_reference_too_long")


class Sage300Sink:
    kind = CONNECTOR

    def __init__(self, pair: Any, client: Sage300Client | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.pair = pair
        self.cfg: Sage300Config = pair.erp
        check_reference_room(pair.reference_prefix, self.cfg)
        self.client = client or Sage300Client(self.cfg)
        self._clock = clock
        self.guards = DuplicatePoGuards(self._read_guard, self.cfg.guard_ttl_s, clock)
        self._unknown = _Memory()      # reference -> clock() when its last POST's outcome became unknown
        self._seen = _Memory()         # reference -> Sage order number, for orders known to exist
        # exported at 0 from start, so the first mismatch is an increase the alert can see
        self._mismatches = metrics.ERP_TOTAL_MISMATCH.labels(CONNECTOR, pair.pair)
        self._mismatches.inc(0)

    # -- the contract ------------------------------------------------------------------------
    def ensure_order(self, order: dict[str, Any]) -> WriteOutcome:
        reference = self._reference(order["order_number"])
        customer = order["customer"]["erp_customer_id"]
        if self._settled_after_unknown(reference):
            return self._lookup_then_create(order, reference, customer)
        if self.cfg.duplicate_po_guard and self._seen.get(reference) is None and self.guards.guarded(customer):
            return self._create(order, reference, customer)
        return self._lookup_then_create(order, reference, customer)

    def ensure_customer(self, customer: dict[str, Any]) -> WriteOutcome:
        raise self._not_supported("customers")

    def ensure_payment(self, payment: dict[str, Any]) -> WriteOutcome:
        raise self._not_supported("payments")

    def ensure_refund(self, refund: dict[str, Any]) -> WriteOutcome:
        raise self._not_supported("refunds")

    def ping(self) -> tuple[bool, str]:
        return self.client.ping()

    def close(self) -> None:
        self.client.close()

    # -- steps -------------------------------------------------------------------------------
    def _reference(self, number: str) -> str:
        reference = self.pair.reference(number)
        if len(reference) > PO_MAX:
            raise PermanentError(f"reference {reference!r} has {len(reference)} characters; Sage 300's "
                                 f"PurchaseOrderNumber (PONUMBER) holds {PO_MAX} and OrderReference 60",
                                 reason="sage300_reference_too_long")
        return reference

    def _settled_after_unknown(self, reference: str) -> bool:
        """True when the last POST of `reference` had an unknown outcome and has had time to settle;
        raises (retry later) while it has not."""
        since = self._unknown.get(reference)
        if since is None:
            return False
        wait = self.cfg.settle_delay_s - (self._clock() - since)
        if wait > 0:
            raise OutcomeUnknownError(f"the last POST of {reference} has an unknown outcome; looking it up "
                                      f"in {wait:.1f}s, once Sage has had {self.cfg.settle_delay_s:g}s to commit it",
                                      reason="sage300_settling", retry_after=wait)
        return True

    def _lookup_then_create(self, order: dict, reference: str, customer: str) -> WriteOutcome:
        found = self.client.find_orders_by_reference(reference)
        if found:
            return self._already_present(reference, customer, found)
        return self._create(order, reference, customer)

    def _create(self, order: dict, reference: str, customer: str) -> WriteOutcome:
        payload = order_payload(order, reference=reference, order_date=self._local_date(order),
                                shipping_charge_code=self.pair.mapping.charge_codes.shipping)
        try:
            entry = self.client.create_order(payload)
        except OutcomeUnknownError as e:
            self._unknown.put(reference, self._clock())
            e.retry_after = max(e.retry_after or 0.0, self.cfg.settle_delay_s)
            raise
        except DuplicatePoRefused as e:
            return self._refused(e, reference, customer)
        self._unknown.pop(reference)
        self._seen.put(reference, str(entry.get("OrderNumber")))
        return self._checked_total(order, entry)

    def _refused(self, refusal: DuplicatePoRefused, reference: str, customer: str) -> WriteOutcome:
        """Sage says the PO number is taken: find the order that took it."""
        if refusal.po is not None and refusal.po != reference:
            raise PermanentError(f"{refusal} (names PO {refusal.po!r}, not {reference!r})",
                                 reason="sage300_duplicate_po_other")
        if self.guards.cached(customer) is False:
            log.info("duplicate-PO refusal for a customer cached as unguarded; re-reading its option",
                     extra={"customer": customer})
            self.guards.forget(customer)
        found = self.client.find_orders_by_reference(reference)
        if not found:
            raise PermanentError(f"Sage 300 refused PO number {reference} as already used for customer {customer}, "
                                 f"but no order has OrderReference {reference}: another document holds that PO number",
                                 reason="sage300_duplicate_po_conflict")
        return self._already_present(reference, customer, found)

    def _already_present(self, reference: str, customer: str, found: list[dict]) -> WriteOutcome:
        self._unknown.pop(reference)
        number = str(found[0].get("OrderNumber"))
        self._seen.put(reference, number)
        if len(found) > 1:
            # Two orders, one reference: for a guarded customer the guard did not refuse as it should.
            log.error("Sage 300 holds more than one order with this reference",
                      extra={"reference": reference, "orders": [o.get("OrderNumber") for o in found]})
            self.guards.forget(customer)
        return WriteOutcome("already_present", number)

    def _checked_total(self, order: dict, entry: dict) -> WriteOutcome:
        number = str(entry.get("OrderNumber"))
        store_total: Decimal = order["total"]
        try:
            erp_total = Decimal(str(entry["OrderTotal"]))
        except (KeyError, InvalidOperation):
            erp_total = None
        if erp_total is not None and abs(erp_total - store_total) <= TOTAL_TOLERANCE:
            return WriteOutcome("created", number)
        shown = "none returned" if erp_total is None else format(erp_total, "f")
        message = (f"Sage 300 order {number} total {shown} differs from the store total {format(store_total, 'f')} "
                   f"(tolerance {TOTAL_TOLERANCE})")
        self._mismatches.inc()
        log.warning("ERP total differs from the store total", extra={"order_number": order["order_number"],
                                                                       "erp_document": number, "erp_total": shown,
                                                                       "store_total": format(store_total, "f")})
        return WriteOutcome("created_with_mismatch", number, message,
                            {"erp_total": shown, "store_total": format(store_total, "f")})

    # -- helpers -----------------------------------------------------------------------------
    def _local_date(self, order: dict):
        """OrderDate is the store's calendar date: an order at 02:30 UTC in New York is the day before."""
        at = order["ordered_at"]
        if at.tzinfo is None:
            at = at.replace(tzinfo=timezone.utc)
        return at.astimezone(self.pair.zone).date()

    def _read_guard(self, customer: str) -> str:
        try:
            return self.client.duplicate_po_check(customer)
        except PermanentError as e:        # e.g. RecordNotFound: the order's own error will say why
            log.info("cannot read CheckForDuplicatePOs; treating the customer as unguarded",
                     extra={"customer": customer, "error": str(e)[:200]})
            return "unreadable"

    def _not_supported(self, what: str) -> PermanentError:
        return PermanentError(f"the Sage 300 connector does not write {what} yet", reason="not_supported")
