"""A canonical order becomes exactly one Intacct sales order (`create_sotransaction`, legacy: the
only documented create for Order Entry, intacct.md §4).

Exactly once by uniqueid (intacct.md §3, §5 "Policy"): the function control id is stable,
`so-<pair>-<order number>`, and sent with uniqueid=true, so a repeat of a completed create is
refused (DuplicateControlError) and nothing is written twice. The referenceno is the pair's
reference (`XI1-1001`), which is how a refusal or a lost answer is resolved:

- refusal -> readByQuery SODOCUMENT REFERENCENO = ref (docparid = the definition) -> already_present
  with its DOCID;
- OutcomeUnknown (HTTP 524, a lost answer) -> the same query first; found -> already_present, absent
  -> TransientError: the next attempt resends the same control id, which is harmless.

So a known customer's order costs ONE API transaction: no lookup before the create.

The total check (as Sage 300's): Intacct's answer carries only the key, and reading the document
back would double the cost, so the check compares the store total with the total Intacct computes
from what was sent (lines qty * price * (1 - discountpercent/100) + subtotals: the contract's TOTAL).
It catches a mapping that drops a charge; a difference -> created_with_mismatch and
`sagebridge_erp_total_mismatch_total`.

Payload (DTD order, intacct.md §4): transactiontype, datecreated, customerid, referenceno, termname
| datedue, message, shippingmethod, currency, state, sotransitems, subtotals. Not sent: shipto /
billto contactname (they name Intacct contact records, which the hub does not create) and
externalid (only some definitions allow it).
Charges: placement line -> an sotransitem with itemid = the charge code, quantity 1, price = the
amount (a discount negative); header -> a subtotal {description, total} (a discount negative);
tax_mode store -> a subtotal "Tax" with the store's tax. v1/v2 orders (no `charges`) carry their
shipping as the mapping's shipping rule says and their discount as a negative subtotal.
"""
from __future__ import annotations

import logging
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from lxml import etree

from sagebridge_common.contracts import WriteOutcome
from sagebridge_common.errors import OutcomeUnknownError, PermanentError, TransientError

from .config import IntacctConfig
from .envelope import element
from .errors import DuplicateControlError
from .functions import REFERENCE_MAX, date_parts, literal, money
from .gateway import IntacctGateway

log = logging.getLogger(__name__)

ZERO = Decimal(0)
HUNDRED = Decimal(100)
TOTAL_TOLERANCE = Decimal("0.01")


def _charge_parts(order: dict, shipping_rule: Any) -> tuple[list[tuple[str, Decimal, str]], list[tuple[str, Decimal]]]:
    """(line charges as (code, amount, description), header subtotals as (description, amount))."""
    lines: list[tuple[str, Decimal, str]] = []
    subtotals: list[tuple[str, Decimal]] = []
    if not order.get("charges"):
        if order.get("shipping_total"):
            charge = {"kind": "shipping", "amount": order["shipping_total"], "placement": shipping_rule.placement,
                      "code": shipping_rule.code, "description": order.get("shipping_method") or "Shipping"}
            charges = [charge]
        else:
            charges = []
        if order.get("discount_total"):
            charges.append({"kind": "discount", "amount": order["discount_total"], "placement": "header",
                            "code": None, "description": "Discount"})
    else:
        charges = order["charges"]
    for charge in charges:
        amount: Decimal = charge["amount"]
        signed = -amount if charge["kind"] == "discount" else amount
        description = charge.get("description") or charge["kind"]
        if charge["placement"] == "header":
            subtotals.append((description, signed))
        else:
            if not charge.get("code"):
                raise PermanentError(f"charge {description!r} goes on a line but has no item id (code)",
                                     reason="intacct_charge_without_code")
            lines.append((charge["code"], signed, description))
    if order.get("tax_mode", "store") == "store" and order.get("tax_total"):
        subtotals.append(("Tax", order["tax_total"]))
    return lines, subtotals


def discount_percent(line: dict) -> Decimal | None:
    discount: Decimal = line.get("discount") or ZERO
    gross = line["quantity"] * line["unit_price"]
    if not discount or not gross:
        return None
    return (discount / gross * HUNDRED).quantize(Decimal("0.0001")).normalize()


def _currency(order: dict, cfg: IntacctConfig, pair_currency: str | None) -> list:
    """The DTD's group `currency, exchratetype` (intacct.md §4: a currency needs its rate type), or
    nothing for a single-currency company, where every order must be in the pair's currency."""
    rate_type = order.get("rate_type") or cfg.exchange_rate_type
    if rate_type:
        return [element("currency", order["currency"]), element("exchratetype", rate_type)]
    if pair_currency and order["currency"] != pair_currency:
        raise PermanentError(f"order in {order['currency']}, but the Intacct company takes the pair's currency "
                             f"{pair_currency} only (set erp.exchange_rate_type for a multi-currency company)",
                             reason="intacct_currency_not_held")
    return []


def order_function(order: dict, *, cfg: IntacctConfig, reference: str, order_date, shipping_rule: Any,
                   pair_currency: str | None = None) -> tuple[etree._Element, Decimal]:
    """(the create_sotransaction element, the total Intacct will compute from it)."""
    parts = [element("transactiontype", cfg.transaction_definition), date_parts("datecreated", order_date),
             element("customerid", order["customer"]["erp_customer_id"]), element("referenceno", reference)]
    parts.append(element("termname", cfg.terms) if cfg.terms else date_parts("datedue", order_date))
    if order.get("notes"):
        parts.append(element("message", order["notes"][:1000]))
    if order.get("ship_via_code"):
        parts.append(element("shippingmethod", order["ship_via_code"]))
    parts += _currency(order, cfg, pair_currency)
    if cfg.order_state:
        parts.append(element("state", cfg.order_state))
    items, total = [], ZERO
    for line in order["lines"]:
        pct = discount_percent(line)
        item = [element("itemid", line.get("item_number") or line["sku"])]
        if line.get("location_code"):
            item.append(element("warehouseid", line["location_code"]))
        item.append(element("quantity", format(line["quantity"].normalize(), "f")))
        if pct is not None:
            item.append(element("discountpercent", format(pct, "f")))
        item.append(element("price", money(line["unit_price"])))
        items.append(_dimensions(item, cfg))
        total += line["quantity"] * line["unit_price"] * (1 - (pct or ZERO) / HUNDRED)
    line_charges, subtotals = _charge_parts(order, shipping_rule)
    for code, amount, description in line_charges:
        items.append(_dimensions([element("itemid", code), element("itemdesc", description[:400]),
                                  element("quantity", "1"), element("price", money(amount))], cfg))
        total += amount
    parts.append(element("sotransitems", None, *(element("sotransitem", None, *i) for i in items)))
    if subtotals:
        parts.append(element("subtotals", None, *(
            element("subtotal", None, element("description", d[:100]), element("total", money(a)))
            for d, a in subtotals)))
        total += sum((a for _, a in subtotals), ZERO)
    return element("create_sotransaction", None, *parts), total.quantize(Decimal("0.01"), ROUND_HALF_UP)


def _dimensions(item: list, cfg: IntacctConfig) -> list:
    if cfg.location:
        item.append(element("locationid", cfg.location))
    if cfg.department_id:
        item.append(element("departmentid", cfg.department_id))
    return item


class OrderWriter:
    def __init__(self, pair: Any, gateway: IntacctGateway, mismatches: Any) -> None:
        self.pair = pair
        self.cfg: IntacctConfig = pair.erp
        self.gateway = gateway
        self._mismatches = mismatches

    def ensure(self, order: dict[str, Any], order_date) -> WriteOutcome:
        number = order["order_number"]
        reference = self.pair.reference(number)
        if len(reference) > REFERENCE_MAX:
            raise PermanentError(f"reference {reference!r} is longer than Intacct's referenceno ({REFERENCE_MAX})",
                                 reason="intacct_reference_too_long")
        function, expected = order_function(order, cfg=self.cfg, reference=reference, order_date=order_date,
                                             shipping_rule=self.pair.mapping.order_charges.shipping,
                                             pair_currency=self.pair.currency)
        controlid = f"so-{self.pair.pair}-{number}"
        try:
            result = self.gateway.execute(function, controlid=controlid, write=True, purpose="order")
        except DuplicateControlError as e:
            found = self.find(reference)
            if found is None:
                raise PermanentError(f"{e}; yet no {self.cfg.transaction_definition} has referenceno {reference}",
                                     reason="intacct_duplicate_without_document") from None
            return WriteOutcome("already_present", found)
        except OutcomeUnknownError as e:
            found = self.find(reference)
            if found is not None:
                return WriteOutcome("already_present", found)
            raise TransientError(f"{e}; no order with referenceno {reference} yet: the next attempt resends "
                                 f"control id {controlid}", reason="intacct_outcome_unknown_absent") from None
        return self._checked_total(order, result.key or "", expected)

    def find(self, reference: str) -> str | None:
        rows = self.gateway.query_all("SODOCUMENT", ["RECORDNO", "DOCID", "REFERENCENO"],
                                      f"REFERENCENO = {literal(reference)}", pagesize=10,
                                      docparid=self.cfg.transaction_definition, purpose="order")
        rows = [r for r in rows if r.get("REFERENCENO") == reference]
        if len(rows) > 1:
            log.error("Intacct holds more than one order with this reference",
                      extra={"reference": reference, "documents": [r.get("DOCID") for r in rows]})
        return min(rows, key=lambda r: int(r.get("RECORDNO") or 0))["DOCID"] if rows else None

    def _checked_total(self, order: dict, docid: str, expected: Decimal) -> WriteOutcome:
        store_total: Decimal = order["total"]
        if abs(expected - store_total) <= TOTAL_TOLERANCE:
            return WriteOutcome("created", docid)
        message = (f"Intacct order {docid} total {money(expected)} differs from the store total {money(store_total)} "
                   f"(tolerance {TOTAL_TOLERANCE})")
        self._mismatches.inc()
        log.warning("ERP total differs from the store total", extra={"order_number": order["order_number"],
                                                                       "erp_document": docid})
        return WriteOutcome("created_with_mismatch", docid, message,
                            {"erp_total": money(expected), "store_total": money(store_total)})
