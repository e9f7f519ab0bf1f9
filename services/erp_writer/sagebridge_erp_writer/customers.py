"""Customers: the ERP customer of every order, payment and refund, and customer events themselves.

Issue 6's rule is "never a second customer for one e-mail", even when three orders of a new shopper
arrive at once on different partitions (or different replicas). Three layers make that hold:

1. The link table (`link_table.py`, topic sagebridge.erp_writer.customer_links.v1, read whole by
   every instance): `<pair>|<email_key>` → the ERP customer number. A hit costs no ERP call.
2. Within one process, resolution is serialised per (pair, e-mail key) (`KeyLocks`): the second
   thread waits for the first and then finds its link.
3. Across processes, the sink finds or creates by a deterministic number (the pair's number rule,
   `MappingTables.customer_number`): two replicas that both miss the link both ask for the same
   number, and the ERP's natural key (Sage 300: ARCUS.IDCUST, 409 RecordDuplicate on a second
   POST) makes the loser answer `already_present` instead of creating a twin.

Orders of guests whose template sends them to the default web customer already carry
`customer.erp_customer_id` from transform; they never touch the link table.

An order never updates a customer, with one exception. A payment or refund can reach the writer
before its order (they are separate topics) and must create the customer to name it on the
receipt, but it carries no address; the link then says `addressed: false`, and the first order
that finds such a link updates the ERP customer with its addresses once. Without that, a guest
with a customer of their own (no profile events to fill it in later) would keep an ERP customer
without an address for ever.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterator, Protocol

from sagebridge_common.contracts import WriteOutcome
from sagebridge_common.customers import email_key
from sagebridge_common.errors import PermanentError
from sagebridge_common.events import Event, Output, derived_metadata

from .results import write_result
from .targets import Target


class Links(Protocol):
    """What the resolver needs of `sagebridge_common.link_table.LinkTable`."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def put(self, key: str, value: Any) -> Output: ...

    def unconfirmed_output(self, key: str) -> Output | None: ...


class KeyLocks:
    """One lock per key while anyone holds or waits for it (the map does not grow with traffic)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, list] = {}       # key -> [lock, users]

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._guard:
            entry = self._locks.setdefault(key, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._guard:
                entry[1] -= 1
                if entry[1] == 0:
                    del self._locks[key]

    def __len__(self) -> int:
        with self._guard:
            return len(self._locks)


def link_key(pair_id: str, key: str) -> str:
    return f"{pair_id}|{key}"


def key_of(customer: dict) -> str:
    key = customer.get("email_key") or email_key(customer.get("email"))
    if not key:
        raise PermanentError("the customer has no e-mail, so no ERP customer can be found or created for it",
                             reason="customer_without_email")
    return key


def customer_from_order(source: dict, customer: dict, pair: Any, billing: dict | None = None,
                        shipping: dict | None = None) -> dict:
    """A v2 Customer built from an OrderCustomer (and the order's addresses), for `ensure_customer`."""
    key = key_of(customer)
    sid = customer.get("storefront_customer_id")
    at = source.get("updated_at") or source.get("ordered_at") or source["metadata"]["occurred_at"]
    return {"metadata": derived_metadata(source["metadata"], "customer.from_order"),
            "customer_id": sid or f"guest:{key}", "email": (customer.get("email") or "").strip(), "email_key": key,
            "first_name": customer.get("first_name"), "last_name": customer.get("last_name"),
            "company": (billing or {}).get("company"),
            "phone": customer.get("phone") or (billing or {}).get("phone"),
            "is_guest": bool(customer.get("is_guest", sid is None)),
            "billing_address": billing, "shipping_address": shipping, "erp_customer_id": None,
            "new_customer_number": customer.get("new_customer_number") or pair.mapping.customer_number(key),
            "created_at": at, "updated_at": at, "source_version": ""}


def _number(done: WriteOutcome) -> str:
    if not done.document_id:
        raise PermanentError(f"the ERP sink answered {done.outcome} without a customer number",
                             reason="customer_without_number")
    return done.document_id


def _link_value(number: str, storefront_id: str | None, addressed: bool) -> dict:
    return {"erp_customer_id": number, "storefront_customer_id": storefront_id, "addressed": addressed,
            "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def _addressed(link: dict) -> bool:
    return link.get("addressed", True)      # links written before the flag existed came from orders


class CustomerResolver:
    def __init__(self, links: Links, locks: KeyLocks | None = None) -> None:
        self.links = links
        self.locks = locks or KeyLocks()

    def resolve(self, target: Target, source: dict, customer: dict, billing: dict | None = None,
                shipping: dict | None = None) -> tuple[str, list[Output]]:
        """The ERP customer number for `customer` (an OrderCustomer of `source`) and the link
        records to produce with the handler's outputs."""
        if customer.get("erp_customer_id"):
            return customer["erp_customer_id"], []
        key = link_key(target.pair_id, key_of(customer))
        with self.locks.hold(key):
            link = self.links.get(key)
            addressed = billing is not None or shipping is not None
            if link and (_addressed(link) or not addressed):
                again = self.links.unconfirmed_output(key)
                return link["erp_customer_id"], [again] if again else []
            record = customer_from_order(source, customer, target.pair, billing, shipping)
            number = _number(target.sink.ensure_customer(record, update=link is not None))
            return number, [self.links.put(key, _link_value(number, customer.get("storefront_customer_id"), addressed))]


def with_customer(value: dict, number: str) -> dict:
    """`value` (order, payment, refund) with its customer's ERP number filled in."""
    return {**value, "customer": {**value["customer"], "erp_customer_id": number}}


class CustomerWriter:
    """commerce.customers.v1 → find, create or update the ERP customer, and link it."""

    entity_type = "customer"

    def __init__(self, resolver: CustomerResolver) -> None:
        self.resolver = resolver

    def source_id(self, customer: dict) -> str:
        return customer["customer_id"]

    def reference(self, customer: dict, _pair: Any) -> str:
        return customer.get("email_key") or email_key(customer.get("email"))

    def write(self, event: Event, target: Target) -> list[Output]:
        customer = event.value
        key = link_key(target.pair_id, key_of(customer))
        storefront_id = None if customer["customer_id"].startswith("guest:") else customer["customer_id"]
        links = self.resolver.links
        with self.resolver.locks.hold(key):
            done = target.sink.ensure_customer(customer, update=True)
            number = _number(done)
            outputs = [write_result(customer, entity_type=self.entity_type, source_entity_id=self.source_id(customer),
                                    target=target.kind, reference=self.reference(customer, target.pair),
                                    outcome=done.outcome, document=number, message=done.message)]
            link = links.get(key)
            # the ERP customer has an address once this event or an earlier one brought one
            addressed = bool(customer.get("billing_address") or customer.get("shipping_address")
                             or (link and _addressed(link)))
            wanted = _link_value(number, storefront_id, addressed)
            if not link or any(link.get(k) != wanted[k] for k in ("erp_customer_id", "storefront_customer_id")) \
                    or _addressed(link) != addressed:
                outputs.append(links.put(key, wanted))
            elif (again := links.unconfirmed_output(key)) is not None:
                outputs.append(again)
        return outputs
