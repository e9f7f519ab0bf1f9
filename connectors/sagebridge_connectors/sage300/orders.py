"""A canonical order becomes exactly one Sage 300 O/E sales order.

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
4. A POST whose answer was lost: `settle.py` (wait, look up, post only if still absent).
5. Before the first create in a currency, the currency must be in Sage (`currencies.py`).
6. After a create, Sage's OrderTotal is compared with the store's total (±0.01). A difference is a
   `created_with_mismatch` outcome naming both, and `sagebridge_erp_total_mismatch_total`.
"""
from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation
from typing import Any

from sagebridge_common.contracts import WriteOutcome
from sagebridge_common.errors import PermanentError

from .config import PO_MAX, Sage300Config
from .currencies import CurrencyCheck
from .errors import DuplicatePoRefused
from .guard import DuplicatePoGuards
from .oe_order import order_payload
from .settle import Memory, Settling
from .web_api import Sage300Client

log = logging.getLogger(__name__)

TOTAL_TOLERANCE = Decimal("0.01")


MISC_CODE_MAX = 6        # OEMISC.MISCCHARGE char(6)


def check_charge_rules(charges: Any) -> None:
    """At start: what the pair's mapping.order_charges asks of Sage 300 O/E must fit it. An O/E order
    has a header discount amount but no header charge, and misc charge codes hold 6 characters
    (libs' OrderCharges accepts both, since Intacct takes any header subtotal and longer item ids)."""
    for kind in ("shipping", "handling", "surcharge"):
        rule = getattr(charges, kind)
        if rule is not None and rule.placement == "header":
            raise PermanentError(f"mapping.order_charges.{kind}: placement header is only for `discount` (Sage 300 "
                                 "orders have a header discount amount, no header charge); use a line with a code",
                                 reason="sage300_charge_placement")
    for kind in ("shipping", "handling", "discount", "surcharge"):
        rule = getattr(charges, kind)
        if rule is not None and rule.code is not None and len(rule.code) > MISC_CODE_MAX:
            raise PermanentError(f"mapping.order_charges.{kind}.code {rule.code!r} has {len(rule.code)} characters; "
                                 f"a Sage 300 OE miscellaneous charge code (OEMISC) holds {MISC_CODE_MAX}",
                                 reason="sage300_charge_code_too_long")


def check_reference_room(prefix: str, cfg: Sage300Config) -> None:
    """At start: the prefix plus the longest expected store number must fit PONUMBER."""
    if len(prefix) + cfg.order_number_max_length > PO_MAX:
        raise PermanentError(
            f"reference_prefix {prefix!r} ({len(prefix)} characters) plus store numbers of up to "
            f"{cfg.order_number_max_length} characters (erp.order_number_max_length) do not fit Sage 300's "
            f"PurchaseOrderNumber (PONUMBER, {PO_MAX} characters)", reason="sage300_reference_too_long")


class OrderWriter:
    def __init__(self, pair: Any, client: Sage300Client, guards: DuplicatePoGuards, settling: Settling,
                 mismatches: Any) -> None:
        self.pair = pair
        self.cfg: Sage300Config = pair.erp
        self.client = client
        self.guards = guards
        self.settling = settling
        self.currencies = CurrencyCheck(client)
        self._seen = Memory()          # reference -> Sage order number, for orders known to exist
        self._mismatches = mismatches

    def ensure(self, order: dict[str, Any], order_date) -> WriteOutcome:
        reference = self.reference(order["order_number"])
        customer = order["customer"]["erp_customer_id"]
        if self.settling.settled(reference):
            return self._lookup_then_create(order, order_date, reference, customer)
        if self.cfg.duplicate_po_guard and self._seen.get(reference) is None and self.guards.guarded(customer):
            return self._create(order, order_date, reference, customer)
        return self._lookup_then_create(order, order_date, reference, customer)

    def reference(self, number: str) -> str:
        reference = self.pair.reference(number)
        if len(reference) > PO_MAX:
            raise PermanentError(f"reference {reference!r} has {len(reference)} characters; Sage 300's "
                                 f"PurchaseOrderNumber (PONUMBER) holds {PO_MAX} and OrderReference 60",
                                 reason="sage300_reference_too_long")
        return reference

    def _lookup_then_create(self, order: dict, order_date, reference: str, customer: str) -> WriteOutcome:
        found = self.client.find_orders_by_reference(reference)
        if found:
            return self._already_present(reference, customer, found)
        self.settling.missed(reference)
        return self._create(order, order_date, reference, customer)

    def _create(self, order: dict, order_date, reference: str, customer: str) -> WriteOutcome:
        self.currencies.require(order["currency"])
        payload = order_payload(order, reference=reference, order_date=order_date,
                                shipping_charge_code=self._shipping_charge_code())
        try:
            entry = self.settling.post(reference, lambda: self.client.create_order(payload))
        except DuplicatePoRefused as e:
            return self._refused(e, reference, customer)
        self._seen.put(reference, str(entry.get("OrderNumber")))
        return self._checked_total(order, entry)

    def _shipping_charge_code(self) -> str | None:
        """The shipping charge code for v1/v2 orders (no `charges`): the mapping's order_charges
        shipping code."""
        return self.pair.mapping.order_charges.shipping.code

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
        self.settling.forget(reference)
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
