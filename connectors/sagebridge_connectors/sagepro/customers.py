"""A canonical customer -> exactly one Sage Pro arcust row per e-mail address.

Found by e-mail: `UPPER(LTRIM(RTRIM(email))) = <the e-mail key, upper case>` (clerks type e-mails
in any case and with stray spaces; the key is `sagebridge_common.customers.email_key`), the
answers compared by key in Python too. Several rows for one e-mail (keyed in by hand before the
hub): the lowest custno, the same every time.

Absent -> created in one transaction that first takes the numbering row's lock (`numbering.py`:
Sage Pro has no unique index on arcust to refuse a twin, so the shared lock is what makes three
orders of one new e-mail, on three writers at once, make one customer), looks again under the
lock, and inserts custno = the pair's number rule (`mapping.customers`, the same number on every
writer). A custno already held by another e-mail is PermanentError `sagepro_customer_number_taken`
naming both (the number rule collided: an operator chooses).

Present and `update`: the name, contact, address and phone fields that differ are updated (one
UPDATE by custno); what the store does not hold is never erased. `update=False` (an order's
customer) finds or creates and never modifies.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Callable

from sagebridge_common.contracts import WriteOutcome
from sagebridge_common.customers import email_key
from sagebridge_common.errors import PermanentError

from .layout import Layout
from .numbering import NumberRow
from .transactions import Transactions, Tx
from .values import RowBuilder

log = logging.getLogger(__name__)
UPDATABLE = ("name", "contact", "address1", "address2", "city", "state", "zip", "country", "phone")


def store_values(customer: dict[str, Any]) -> dict[str, str]:
    """The store's name, contact, address and phone by logical arcust field (absent ones left out)."""
    first, last = (customer.get("first_name") or "").strip(), (customer.get("last_name") or "").strip()
    person = " ".join(p for p in (first, last) if p)
    company = (customer.get("company") or "").strip()
    out = {"name": company or person or (customer.get("email") or "").strip(), "contact": person}
    a = customer.get("billing_address") or customer.get("shipping_address") or {}
    out.update(address1=a.get("line1"), address2=a.get("line2"), city=a.get("city"),
               state=a.get("region_code") or a.get("region"), zip=a.get("postal_code"),
               country=a.get("erp_country") or a.get("country"), phone=customer.get("phone") or a.get("phone"))
    return {k: v.strip() for k, v in out.items() if isinstance(v, str) and v.strip()}


class CustomerWriter:
    def __init__(self, pair: Any, layout: Layout, transactions: Transactions, numbers: NumberRow,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.pair, self.tx, self.numbers, self._clock = pair, transactions, numbers, clock
        self.rows = RowBuilder(layout.table("customer"), pair.erp.company, "customer")
        self.fields = [f for f in ("custno", "email", *UPDATABLE) if self.rows.has(f)]

    def ensure(self, customer: dict[str, Any], *, update: bool = True) -> WriteOutcome:
        key = email_key(customer.get("email_key") or customer.get("email"))
        if not key:
            raise PermanentError("the customer has no e-mail address", reason="sagepro_customer_without_email")
        self.rows.value("email", key)                       # refused here when it does not fit
        found = self.tx.run(lambda tx: self._find(tx, key, discard=True), key)
        if found is None:
            number = (customer.get("new_customer_number") or self.pair.mapping.customer_number(key)).strip()
            row = self.rows.row({**store_values(customer), "custno": number, "email": key,
                                 "pterms": self.pair.erp.new_customers.pterms,
                                 "adddate": self._clock().astimezone(self.pair.zone).date()})
            found, created = self.tx.run(lambda tx: self._create(tx, key, number, row), key)
            if created:
                return WriteOutcome("created", number)
        return self._present(found, customer, update)

    # -- steps -------------------------------------------------------------------------------
    def _select(self) -> str:
        return f"SELECT {', '.join(self.rows.column(f) for f in self.fields)} FROM {self.rows.name}"

    def _find(self, tx: Tx, key: str, *, discard: bool = False) -> dict[str, str] | None:
        email = self.rows.column("email")
        rows = tx.fetchall(f"{self._select()} WHERE UPPER(LTRIM(RTRIM({email}))) = ?", [key.upper()],
                           f"{self.rows.name}.{email}")
        if discard:
            tx.discard()
        found = [dict(zip(self.fields, (str(v or "").strip() for v in r))) for r in rows]
        found = [f for f in found if email_key(f["email"]) == key]
        if len(found) > 1:
            log.warning("more than one Sage Pro customer has this e-mail; using the lowest custno",
                        extra={"customers": sorted(f["custno"] for f in found)})
        return min(found, key=lambda f: f["custno"]) if found else None

    def _create(self, tx: Tx, key: str, number: str, row: dict) -> tuple[dict[str, str], bool]:
        self.numbers.lock(tx)
        found = self._find(tx, key)
        if found is not None:                # another writer created it while we waited for the lock
            tx.discard()
            return found, False
        custno = self.rows.column("custno")
        held = tx.fetchall(f"SELECT {self.rows.column('email')} FROM {self.rows.name} WHERE {custno} = ?",
                           [self.rows.value("custno", number)], f"{self.rows.name}.{custno}")
        if held:
            tx.discard()
            raise PermanentError(f"Sage Pro customer {number}, the template's number for {key}, already belongs to the "
                                 f"customer with e-mail {str(held[0][0] or '').strip() or '(none)'}: change "
                                 f"mapping.customers' number rule or that customer",
                                 reason="sagepro_customer_number_taken")
        tx.execute(self.rows.insert_sql(list(row)), list(row.values()), self.rows.name)
        return {"custno": number}, True

    def _present(self, found: dict[str, str], customer: dict[str, Any], update: bool) -> WriteOutcome:
        number = found["custno"]
        wanted = store_values(customer) if update else {}
        changed = {f: v for f, v in wanted.items()
                   if f in self.fields and found.get(f, "") != str(self.rows.value(f, v)).strip()}
        if not changed:
            return WriteOutcome("already_present", number)
        sets = ", ".join(f"{self.rows.column(f)} = ?" for f in changed)
        params = [self.rows.value(f, v) for f, v in changed.items()] + [self.rows.value("custno", number)]
        self.tx.run(lambda tx: tx.execute(f"UPDATE {self.rows.name} SET {sets} WHERE {self.rows.column('custno')} = ?",
                                          params, self.rows.name), number)
        return WriteOutcome("updated", number, f"changed {', '.join(changed)}", {"changed": ",".join(changed)})
