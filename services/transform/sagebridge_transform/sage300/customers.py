"""ARCUS rows -> `erp.customers.v1` (v2 Customer, key IDCUST): customers changed in Sage update
the store profile with that e-mail (the writer finds the profile by e-mail).

- e-mail: EMAIL2 (the customer's e-mail, Web API `Email`), else EMAIL1 (the contact's); a customer
  with neither has no store profile to update and is skipped (logged), not an error.
- name: the contact (NAMECTAC), else the customer name, split at the last space into first and
  last name; company = NAMECUST; phone = TEXTPHON1; billing address from the ARCUS address.
- country: the pair's `countries` table read backwards (Sage "USA" -> "US"); a 2-letter code is
  taken as is; anything else stays as Sage holds it (in `erp_country` too).
- No echo: a row last saved by a user in `erp_customers.ignore_audit_users` (the hub's own Web API
  user) is the hub's own write from the store side; sending it back would loop. Nothing is emitted
  when `erp_customers.update_store` is false. A deleted ARCUS row emits nothing.
"""
from __future__ import annotations

import logging
from typing import Any

from sagebridge_common.customers import email_key
from sagebridge_common.events import Output, derived_metadata
from sagebridge_common.pairs import PairConfig
from sagebridge_common.topics import ERP_CUSTOMERS

from .rows import Row, text

log = logging.getLogger(__name__)
SCHEMA = "sagebridge.v2.Customer"


def _split_name(full: str) -> tuple[str, str]:
    first, _sep, last = full.rpartition(" ")
    return (first, last) if first else ("", last)


def store_country(sage_country: str | None, pair: PairConfig) -> str:
    if not sage_country:
        return ""
    backwards = {erp: alpha2 for alpha2, erp in pair.mapping.countries.items()}
    if sage_country in backwards:
        return backwards[sage_country]
    return sage_country.upper() if len(sage_country) == 2 else sage_country


def address(v: dict[str, Any], pair: PairConfig, email: str) -> dict[str, Any] | None:
    line1 = text(v, "TEXTSTRE1")
    if line1 is None:
        return None
    more = [s for s in (text(v, "TEXTSTRE2"), text(v, "TEXTSTRE3"), text(v, "TEXTSTRE4")) if s]
    return {"name": text(v, "NAMECTAC") or text(v, "NAMECUST") or "", "company": text(v, "NAMECUST"),
            "line1": line1, "line2": ", ".join(more) or None, "city": text(v, "NAMECITY") or "",
            "region": text(v, "CODESTTE"), "postal_code": text(v, "CODEPSTL") or "",
            "country": store_country(text(v, "CODECTRY"), pair), "phone": text(v, "TEXTPHON1"), "email": email,
            "region_code": text(v, "CODESTTE"), "erp_country": text(v, "CODECTRY")}


def customer(row: Row, pair: PairConfig) -> Output | None:
    """The Customer of an ARCUS row, or None (echo, updates off, delete, no e-mail)."""
    rules = pair.mapping.erp_customers
    if row.deleted or not rules.update_store:
        return None
    v = row.values()
    if rules.is_echo(text(v, "AUDTUSER")):
        log.info("ARCUS change made by the hub's own user: not sent back", extra={"row_key": row.key})
        return None
    email = text(v, "EMAIL2") or text(v, "EMAIL1")
    if email is None:
        log.info("ARCUS customer without e-mail: no store profile to update", extra={"row_key": row.key})
        return None
    return customer_event(row, number=text(v, "IDCUST") or row.key, email=email, contact=text(v, "NAMECTAC"),
                          company=text(v, "NAMECUST"), phone=text(v, "TEXTPHON1"), billing=address(v, pair, email))


def customer_event(row: Row, *, number: str, email: str, contact: str | None, company: str | None,
                   phone: str | None, billing: dict[str, Any] | None) -> Output:
    """The erp.customers.v1 record of an ERP customer row (Sage 300 ARCUS, Sage Pro arcust): the
    contact (else the company name) split into first and last name, keyed by the ERP's number."""
    first, last = _split_name(contact or company or "")
    at = row.occurred_at
    value = {"metadata": derived_metadata(row.metadata, "customer.updated"), "customer_id": number,
             "email": email, "email_key": email_key(email), "first_name": first, "last_name": last,
             "company": company, "phone": phone, "is_guest": False,
             "billing_address": billing, "shipping_address": None, "erp_customer_id": number,
             "new_customer_number": "", "created_at": at, "updated_at": at, "source_version": row.position}
    return Output(ERP_CUSTOMERS, number, SCHEMA, value)
