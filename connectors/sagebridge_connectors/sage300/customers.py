"""A canonical customer → exactly one Sage 300 A/R customer per e-mail address.

Found by e-mail: `Email` is ARCUS.EMAIL2, char(50) (Sage AOM, ARCUS; SDK ARCustomer model). A real
server compares it with the database's collation, which may be case-sensitive, so customers the
hub creates carry the e-mail key (trimmed, lower case) and the lookup asks for both the key and the
e-mail as the store gave it; results are compared by key here, whatever the server's collation.

Created with the number transform's template rule gave the e-mail (`new_customer_number`). That
rule is deterministic, so two writers creating one new customer at once (three orders of a new
customer on different partitions) post the same CustomerNumber, and Sage's natural key refuses the
second with RecordDuplicate (SDK Developer Reference §12): the loser reads that customer and, when
it holds the same e-mail, takes it as already present. Never a second customer for one e-mail.
New customers get CheckForDuplicatePOs = Error (ARCUS.SWCHKDUPPO 2), so O/E refuses a repeated PO
number for their orders and the order sink can post without a lookup (`guard.py`).

Present and `update=True`: a PATCH (only properties sent change) of the name, address and phone
properties that differ; nothing when none do. Values are trimmed and cut to the ARCUS column
widths (NAMECUST 60, TEXTSTRE1..4 60, NAMECITY 30, CODESTTE 30, CODEPSTL 20, CODECTRY 30,
TEXTPHON1 30, TEXTSNAM 10), because Sage refuses a longer value (RecordInvalid) instead of cutting.
"""
from __future__ import annotations

import logging
from typing import Any

from sagebridge_common.contracts import WriteOutcome
from sagebridge_common.customers import email_key
from sagebridge_common.errors import PermanentError

from .config import NewCustomerDefaults
from .errors import CONNECTOR
from .guard import DuplicatePoGuards
from .web_api import Sage300Client, duplicate_po_option


log = logging.getLogger(__name__)

NUMBER_MAX = 12          # ARCUS.IDCUST char(12)
EMAIL_MAX = 50           # ARCUS.EMAIL2 char(50)
WIDTHS = {"ShortName": 10, "CustomerName": 60, "AddressLine1": 60, "AddressLine2": 60, "City": 30,
          "StateProvince": 30, "ZipPostalCode": 20, "Country": 30, "ContactName": 60, "PhoneNumber": 30}
# What a store change may update on an existing customer (issue 6: name, addresses and phone).
UPDATABLE = ("CustomerName", "AddressLine1", "AddressLine2", "City", "StateProvince", "ZipPostalCode",
             "Country", "PhoneNumber")


def _fit(prop: str, value: str | None) -> str | None:
    if value is None:
        return None
    return value.strip()[:WIDTHS[prop]].rstrip()


def store_properties(customer: dict[str, Any]) -> dict[str, str]:
    """The customer's name, address and phone as ARCustomers properties, cut to their columns.
    A property the store does not hold is left out (never erased in Sage); with an address, its
    empty second line is an empty string (the store removed it)."""
    person = " ".join(p.strip() for p in (customer.get("first_name"), customer.get("last_name")) if p and p.strip())
    name = (customer.get("company") or "").strip() or person or customer["email"].strip()
    props: dict[str, str | None] = {"CustomerName": name, "ContactName": person or None}
    address = customer.get("billing_address") or customer.get("shipping_address")
    if address:
        props.update(AddressLine1=address.get("line1") or "", AddressLine2=address.get("line2") or "",
                     City=address.get("city") or "",
                     StateProvince=address.get("region_code") or address.get("region") or "",
                     ZipPostalCode=address.get("postal_code") or "",
                     Country=address.get("erp_country") or address.get("country") or "")
    phone = customer.get("phone") or (address or {}).get("phone")
    if phone:
        props["PhoneNumber"] = phone
    return {k: fitted for k, v in props.items() if (fitted := _fit(k, v)) is not None}


def create_payload(customer: dict[str, Any], number: str, key: str, defaults: NewCustomerDefaults) -> dict:
    """POST AR/ARCustomers body, in the order the SDK sample (ARCustomers.txt) lists the properties:
    the view applies them in body order."""
    props = store_properties(customer)
    body: dict[str, Any] = {"CustomerNumber": number, "ShortName": _fit("ShortName", props["CustomerName"]),
                            "GroupCode": defaults.group_code, "Status": "Active", "OnHold": "No"}
    for prop in ("CustomerName", "AddressLine1", "AddressLine2", "City", "StateProvince", "ZipPostalCode",
                 "Country", "ContactName", "PhoneNumber"):
        body[prop] = props.get(prop)
    body.update(Email=key, AccountSet=defaults.account_set, Terms=defaults.terms, TaxGroup=defaults.tax_group,
                CurrencyCode=defaults.currency, CheckForDuplicatePOs="Error")
    return {k: v for k, v in body.items() if v not in (None, "")}


def changed_properties(entry: dict[str, Any], wanted: dict[str, str]) -> dict[str, str]:
    """The updatable properties whose store value differs from Sage's (CHAR columns come back
    space-padded from some servers: compared trimmed)."""
    return {p: wanted[p] for p in UPDATABLE if p in wanted and (entry.get(p) or "").strip() != wanted[p]}


class CustomerWriter:
    def __init__(self, client: Sage300Client, defaults: NewCustomerDefaults, guards: DuplicatePoGuards) -> None:
        self.client = client
        self.defaults = defaults
        self.guards = guards

    def ensure(self, customer: dict[str, Any], *, update: bool = True) -> WriteOutcome:
        key = email_key(customer.get("email_key") or customer["email"])
        if not key:
            raise PermanentError("the customer has no e-mail address", reason="sage300_customer_without_email")
        if len(key) > EMAIL_MAX:
            raise PermanentError(f"e-mail {key!r} has {len(key)} characters; Sage 300's customer Email "
                                 f"(ARCUS.EMAIL2) holds {EMAIL_MAX}", reason="sage300_email_too_long")
        found = self.find(customer, key)
        if found is None:
            return self._create(customer, key)
        return self._present(found, customer, update)

    def find(self, customer: dict[str, Any], key: str) -> dict | None:
        matches = [e for e in self.client.find_customers_by_email([key, customer["email"].strip()])
                   if email_key(e.get("Email") or "") == key]
        if not matches:
            return None
        if len(matches) > 1:   # customers keyed in by hand before the hub: take one, the same every time
            log.warning("more than one Sage 300 customer has this e-mail; using the lowest number",
                        extra={"customers": sorted(str(e.get("CustomerNumber")) for e in matches)})
        return min(matches, key=lambda e: str(e.get("CustomerNumber")))

    def _create(self, customer: dict[str, Any], key: str) -> WriteOutcome:
        number = (customer.get("new_customer_number") or "").strip()
        if not number or len(number) > NUMBER_MAX:
            raise PermanentError(f"new_customer_number {number!r} is not a Sage 300 customer number "
                                 f"(1 to {NUMBER_MAX} characters, ARCUS.IDCUST)", reason="sage300_customer_number_invalid")
        try:
            entry = self.client.create_customer(create_payload(customer, number, key, self.defaults))
        except PermanentError as e:
            if e.reason != f"{CONNECTOR}_RecordDuplicate":
                raise
            return self._number_taken(number, key)
        self.guards.remember(number, "Error")
        return WriteOutcome("created", str(entry.get("CustomerNumber") or number))

    def _number_taken(self, number: str, key: str) -> WriteOutcome:
        """RecordDuplicate: the number exists. A concurrent creator of the same e-mail won (or our
        own earlier POST whose answer was lost committed): already present. Another e-mail holds it:
        the template's number rule collided, an operator must choose."""
        entry = self.client.read_customer(number)
        held = email_key(entry.get("Email") or "")
        if held == key:
            self._remember_guard(number, entry)
            return WriteOutcome("already_present", number)
        raise PermanentError(f"Sage 300 customer number {number}, the template's number for {key}, already belongs "
                             f"to the customer with e-mail {held or '(none)'}: change mapping.customers' number rule "
                             f"or that Sage customer", reason="sage300_customer_number_taken")

    def _present(self, entry: dict, customer: dict[str, Any], update: bool) -> WriteOutcome:
        number = str(entry.get("CustomerNumber"))
        self._remember_guard(number, entry)
        changes = changed_properties(entry, store_properties(customer)) if update else {}
        if not changes:
            return WriteOutcome("already_present", number)
        self.client.update_customer(number, changes)
        return WriteOutcome("updated", number, f"changed {', '.join(changes)}", {"changed": ",".join(changes)})

    def _remember_guard(self, number: str, entry: dict) -> None:
        if "CheckForDuplicatePOs" in entry:     # the entry says it: no separate read for the order
            self.guards.remember(number, duplicate_po_option(entry))
