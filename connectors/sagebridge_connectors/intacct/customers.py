"""A canonical customer -> exactly one Intacct CUSTOMER per e-mail address (3.0 create/update,
intacct.md §4 "Customer").

Found by `readByQuery CUSTOMER DISPLAYCONTACT.EMAIL1 = key OR = the e-mail as the store gave it`
(the server's comparison may be case-sensitive; the hub creates customers with the e-mail key and
compares the answers by key itself).

Absent -> `create CUSTOMER` with CUSTOMERID = the template's new_customer_number, uniqueid=true
and control id `cust-<pair>-<hash of the e-mail key>`. Two writers creating one new customer at
once send the same CUSTOMERID; Intacct refuses the second (BL34000061 "Another Customer with the
given value(s) ... already exists", intacct.md §5), and a repeat of our own completed create is
refused by uniqueid: both -> read that CUSTOMERID; the same e-mail -> present; another e-mail ->
PermanentError naming both (the number rule collided; an operator chooses).

Present and update=True: `update CUSTOMER` (keyed on CUSTOMERID) of the name, phone and address
fields that differ; nothing sent when none do. An update sets values (repeatable), so it goes with
uniqueid=false: the same change may legitimately be sent again later.
"""
from __future__ import annotations

import logging
from typing import Any

from sagebridge_common.contracts import WriteOutcome
from sagebridge_common.customers import email_key
from sagebridge_common.errors import PermanentError

from .config import NewCustomerDefaults
from .envelope import element, fields
from .errors import DuplicateControlError, IntacctFunctionError
from .functions import literal, short_hash
from .gateway import IntacctGateway

log = logging.getLogger(__name__)

ALREADY_EXISTS = "BL34000061"
READ_FIELDS = ["RECORDNO", "CUSTOMERID", "NAME", "DISPLAYCONTACT.EMAIL1", "DISPLAYCONTACT.PRINTAS",
               "DISPLAYCONTACT.COMPANYNAME", "DISPLAYCONTACT.FIRSTNAME", "DISPLAYCONTACT.LASTNAME",
               "DISPLAYCONTACT.PHONE1", "DISPLAYCONTACT.MAILADDRESS.ADDRESS1", "DISPLAYCONTACT.MAILADDRESS.ADDRESS2",
               "DISPLAYCONTACT.MAILADDRESS.CITY", "DISPLAYCONTACT.MAILADDRESS.STATE", "DISPLAYCONTACT.MAILADDRESS.ZIP",
               "DISPLAYCONTACT.MAILADDRESS.COUNTRY"]


def store_fields(customer: dict[str, Any]) -> dict[str, str]:
    """The store's name, phone and address as flattened CUSTOMER fields; what the store does not
    hold is left out (never erased in Intacct)."""
    first, last = (customer.get("first_name") or "").strip(), (customer.get("last_name") or "").strip()
    person = " ".join(p for p in (first, last) if p)
    company = (customer.get("company") or "").strip()
    name = (company or person or customer["email"].strip())[:100]
    out = {"NAME": name, "DISPLAYCONTACT.PRINTAS": name}
    for k, v in (("DISPLAYCONTACT.COMPANYNAME", company), ("DISPLAYCONTACT.FIRSTNAME", first),
                 ("DISPLAYCONTACT.LASTNAME", last)):
        if v:
            out[k] = v
    address = customer.get("billing_address") or customer.get("shipping_address")
    if address:
        mail = {"ADDRESS1": address.get("line1") or "", "ADDRESS2": address.get("line2") or "",
                "CITY": address.get("city") or "", "STATE": address.get("region_code") or address.get("region") or "",
                "ZIP": address.get("postal_code") or "", "COUNTRY": address.get("erp_country") or address.get("country") or ""}
        out.update({f"DISPLAYCONTACT.MAILADDRESS.{k}": v.strip() for k, v in mail.items()})
    phone = customer.get("phone") or (address or {}).get("phone")
    if phone:
        out["DISPLAYCONTACT.PHONE1"] = phone.strip()
    return out


def nest(flat: dict[str, str]) -> dict[str, Any]:
    """`DISPLAYCONTACT.MAILADDRESS.CITY` -> nested dicts, for `envelope.fields`."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        *path, leaf = key.split(".")
        node = out
        for p in path:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


class CustomerWriter:
    def __init__(self, pair: Any, gateway: IntacctGateway, defaults: NewCustomerDefaults) -> None:
        self.pair = pair
        self.gateway = gateway
        self.defaults = defaults

    def ensure(self, customer: dict[str, Any], *, update: bool = True) -> WriteOutcome:
        key = email_key(customer.get("email_key") or customer["email"])
        if not key:
            raise PermanentError("the customer has no e-mail address", reason="intacct_customer_without_email")
        found = self.find(customer, key)
        if found is None:
            return self._create(customer, key, update)
        return self._present(found, customer, update)

    def find(self, customer: dict[str, Any], key: str) -> dict[str, str] | None:
        raw = customer["email"].strip()
        query = " OR ".join(f"DISPLAYCONTACT.EMAIL1 = {literal(v)}" for v in dict.fromkeys((key, raw)))
        rows = [r for r in self.gateway.query_all("CUSTOMER", READ_FIELDS, query, pagesize=100, purpose="customer")
                if email_key(r.get("DISPLAYCONTACT.EMAIL1") or "") == key]
        if len(rows) > 1:
            log.warning("more than one Intacct customer has this e-mail; using the lowest CUSTOMERID",
                        extra={"customers": sorted(r.get("CUSTOMERID", "") for r in rows)})
        return min(rows, key=lambda r: r.get("CUSTOMERID", "")) if rows else None

    def _create(self, customer: dict[str, Any], key: str, update: bool) -> WriteOutcome:
        number = (customer.get("new_customer_number") or "").strip()
        if not number:
            raise PermanentError("the customer has no new_customer_number (mapping.customers' number rule)",
                                 reason="intacct_customer_number_missing")
        flat = {"CUSTOMERID": number, **store_fields(customer), "DISPLAYCONTACT.EMAIL1": key}
        record = {"CUSTOMERID": number, "NAME": flat.pop("NAME"), "CUSTTYPE": self.defaults.customer_type,
                  "TERMNAME": self.defaults.terms, "CURRENCY": self.defaults.currency,
                  **nest({k: v for k, v in flat.items() if k.startswith("DISPLAYCONTACT.")})}
        function = element("create", None, fields("CUSTOMER", record))
        try:
            result = self.gateway.execute(function, controlid=f"cust-{self.pair.pair}-{short_hash(key)}", write=True,
                                          purpose="customer")
        except DuplicateControlError:
            return self._number_taken(number, customer, key, update)
        except IntacctFunctionError as e:
            if not e.has(ALREADY_EXISTS):
                raise
            return self._number_taken(number, customer, key, update)
        return WriteOutcome("created", result.first("CUSTOMERID") or number)

    def _number_taken(self, number: str, customer: dict, key: str, update: bool) -> WriteOutcome:
        rows = self.gateway.query_all("CUSTOMER", READ_FIELDS, f"CUSTOMERID = {literal(number)}", pagesize=10,
                                      purpose="customer")
        held = email_key((rows[0].get("DISPLAYCONTACT.EMAIL1") or "") if rows else "")
        if rows and held == key:
            return self._present(rows[0], customer, update)
        raise PermanentError(f"Intacct customer {number}, the template's number for {key}, already belongs to the "
                             f"customer with e-mail {held or '(none)'}: change mapping.customers' number rule or that "
                             f"Intacct customer", reason="intacct_customer_number_taken")

    def _present(self, row: dict[str, str], customer: dict[str, Any], update: bool) -> WriteOutcome:
        number = row["CUSTOMERID"]
        if not update:
            return WriteOutcome("already_present", number)
        wanted = store_fields(customer)
        changed = {k: v for k, v in wanted.items() if (row.get(k) or "").strip() != v}
        if not changed:
            return WriteOutcome("already_present", number)
        record = {"CUSTOMERID": number, **nest(changed)}
        self.gateway.execute(element("update", None, fields("CUSTOMER", record)),
                             controlid=f"custupd-{self.pair.pair}-{short_hash(key_of(row, changed))}",
                             write=False, purpose="customer")
        return WriteOutcome("updated", number, f"changed {', '.join(changed)}", {"changed": ",".join(changed)})


def key_of(row: dict[str, str], changed: dict[str, str]) -> str:
    return row["CUSTOMERID"] + "|" + "|".join(f"{k}={v}" for k, v in sorted(changed.items()))
