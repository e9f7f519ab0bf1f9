"""ARCUST rows -> `erp.customers.v1` (v2 Customer, key custno): a customer changed in Sage Pro updates
the store profile with that e-mail (the storefront writer finds the profile by e-mail).

Nothing is emitted when `mapping.erp_customers.update_store` is false (the shipped xcart-sagepro
pair), for a deleted row, or for a customer without an e-mail (no store profile to update; logged).
Fields are the layout's logical ones (`custno`, `name`, `contact`, `address1`, `address2`, `city`,
`state`, `zip`, `country`, `phone`, `email`):
- name: the contact, else the company name, split at the last space into first and last name;
  company = name; billing address from the arcust address (none without address1).
- country: the pair's `countries` table read backwards (`sage300.customers.store_country`).
- No echo: Sage Pro rows have no "last saved by" stamp the default layout knows of; a site whose
  layout adds `lckuser` (or `adduser`) gets `erp_customers.ignore_audit_users` applied to it, so the
  hub's own writes (user_stamp) are not sent back.
"""
from __future__ import annotations

import logging
from typing import Any

from sagebridge_common.events import Output
from sagebridge_common.pairs import PairConfig

from ..sage300.customers import customer_event, store_country
from ..sage300.rows import Row, text

log = logging.getLogger(__name__)


def address(v: dict[str, Any], pair: PairConfig, email: str) -> dict[str, Any] | None:
    line1 = text(v, "address1")
    if line1 is None:
        return None
    return {"name": text(v, "contact") or text(v, "name") or "", "company": text(v, "name"), "line1": line1,
            "line2": text(v, "address2"), "city": text(v, "city") or "", "region": text(v, "state"),
            "postal_code": text(v, "zip") or "", "country": store_country(text(v, "country"), pair),
            "phone": text(v, "phone"), "email": email, "region_code": text(v, "state"),
            "erp_country": text(v, "country")}


def customer(row: Row, pair: PairConfig) -> Output | None:
    """The Customer of an ARCUST row, or None (updates off, delete, echo, no e-mail)."""
    rules = pair.mapping.erp_customers
    if row.deleted or not rules.update_store:
        return None
    v = row.values()
    if rules.is_echo(text(v, "lckuser") or text(v, "adduser")):
        log.info("ARCUST change made by the hub's own user: not sent back", extra={"row_key": row.key})
        return None
    email = text(v, "email")
    if email is None:
        log.info("ARCUST customer without e-mail: no store profile to update", extra={"row_key": row.key})
        return None
    return customer_event(row, number=text(v, "custno") or row.key, email=email, contact=text(v, "contact"),
                          company=text(v, "name"), phone=text(v, "phone"), billing=address(v, pair, email))
