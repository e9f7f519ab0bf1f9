"""Customer profiles of the simulated X-Cart 5.5 store and their address books.

Shapes follow X-Cart 5.5.0's API Platform resources (`XLite\\Model\\Profile`, `XLite\\API\\Endpoint\\Profile*`):
`GET /api/profiles` (filters `login`, partial; `added[...]` and `first_login[...]` date filters),
`GET /api/profiles/{id}`, `GET /api/profiles/{id}/addresses`. The login *is* the e-mail;
`access_level` 0 is a customer, 100 an admin; `status` E (enabled) or D (disabled); `added` is the
creation time, rendered like the order DTO's dates (PHP `DateTime::ISO8601`). An address is
`{id, is_billing, is_shipping, is_work, type, title, firstname, lastname, phone, street, zipcode,
city, country_code, state, state_name, custom_fields}`, the same DTO an order's addresses use.

Choices where the reference is silent:
- Logins are unique without regard to case (X-Cart's MySQL tables use a case-insensitive collation),
  so an order placed as `Ann@Example.com` by the holder of `ann@example.com` belongs to that
  profile; the order keeps the e-mail as typed.
- A profile has no modification time, so an edit changes no date: the hub can find new profiles by
  `added`, edits only through the push module (`customer.updated`).
- A list without `order[...]` comes in id order (the primary key). `order[added]` and `order[id]`
  are honoured; ids and `added` rise together for rows this store creates.
"""
from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from .formats import iso8601

# A few US state ids so `state` is an int like in a real store; unknown names give null.
STATE_IDS = {"California": 5, "Florida": 10, "Illinois": 14, "New York": 38, "Texas": 51, "Washington": 55}
ADDRESS_FIELDS = ("street", "city", "zipcode", "country_code", "state_name", "phone")
PROFILE_STATUSES = ("E", "D")
_ADDRESS_DEFAULTS = {"street": "1 Main Street", "city": "New York", "zipcode": "10001", "country_code": "US",
                     "state_name": "New York", "phone": "+1 212 555 0100"}


class ProfileError(ValueError):
    """A profile X-Cart would refuse (duplicate login, blank login, unknown status): 400."""


def address_json(aid: int, first: str, last: str, a: dict[str, Any], *, billing: bool, shipping: bool) -> dict[str, Any]:
    a = {**_ADDRESS_DEFAULTS, **{k: v for k, v in a.items() if v is not None}}
    return {"id": aid, "is_billing": billing, "is_shipping": shipping, "is_work": False, "type": "R", "title": "",
            "firstname": first, "lastname": last, "phone": a["phone"], "street": a["street"],
            "zipcode": a["zipcode"], "city": a["city"], "country_code": a["country_code"],
            "state": STATE_IDS.get(a["state_name"]), "state_name": a["state_name"], "custom_fields": []}


@dataclass
class ProfileQuery:
    """Parsed `/api/profiles` filters; ranges are (op, unix seconds) as for orders."""
    login: str | None = None
    added: list[tuple[str, float]] = field(default_factory=list)
    first_login: list[tuple[str, float]] = field(default_factory=list)
    sort: list[tuple[str, bool]] = field(default_factory=list)


_OPS: dict[str, Callable[[float, float], bool]] = {
    "after": lambda v, x: v >= x, "strictly_after": lambda v, x: v > x,
    "before": lambda v, x: v <= x, "strictly_before": lambda v, x: v < x,
}


def _in(value: int, ranges: Iterable[tuple[str, float]]) -> bool:
    return all(_OPS[op](value, bound) for op, bound in ranges)


class ProfileBook:
    """Profiles behind the store's lock (`lock` is the store's re-entrant lock, so placing an order
    and registering its customer is one step). Methods starting with `_` expect the lock held and
    emit nothing; the caller emits after releasing it."""

    def __init__(self, lock: threading.RLock, clock: Callable[[], float], next_profile_id: Callable[[], int],
                 next_address_id: Callable[[], int], emit: Callable[[str, dict[str, Any]], None]) -> None:
        self._lock = lock
        self._emit = emit
        self._clock = clock
        self._next_id = next_profile_id
        self._next_address = next_address_id
        self._rows: dict[int, dict[str, Any]] = {}
        self._addresses: dict[int, list[dict[str, Any]]] = {}
        self._by_login: dict[str, int] = {}

    # ---- writes (lock held by the caller) -------------------------------------------------

    def _find(self, login: str) -> int | None:
        return self._by_login.get(login.strip().casefold())

    def _create(self, spec: dict[str, Any]) -> dict[str, Any]:
        login = (spec.get("login") or "").strip()
        if not login:
            raise ProfileError("login: This value should not be blank.")
        if self._find(login) is not None:
            raise ProfileError(f"login: This email address {login!r} is used for an existing account.")
        status = self._status(spec.get("status") or "E")
        pid, ts = self._next_id(), int(self._clock())
        self._by_login[login.casefold()] = pid
        self._rows[pid] = {"id": pid, "login": login, "access_level": int(spec.get("access_level") or 0),
                           "status": status, "added": ts, "first_login": ts, "last_login": ts, "language": "en",
                           "referer": "", "membership": None, "pending_membership": None}
        self._addresses[pid] = self._address_book(spec)
        return self._record(pid)

    def _address_book(self, spec: dict[str, Any]) -> list[dict[str, Any]]:
        first, last = spec.get("first_name") or "", spec.get("last_name") or ""
        billing, shipping = spec.get("address"), spec.get("shipping_address")
        if billing is None:
            return []
        if shipping is None:
            return [address_json(self._next_address(), first, last, billing, billing=True, shipping=True)]
        return [address_json(self._next_address(), first, last, billing, billing=True, shipping=False),
                address_json(self._next_address(), first, last, shipping, billing=False, shipping=True)]

    def _status(self, status: str) -> str:
        if status not in PROFILE_STATUSES:
            raise ProfileError(f"status: unknown profile status {status!r} (E or D)")
        return status

    def _update(self, pid: int, changes: dict[str, Any]) -> dict[str, Any] | None:
        row = self._rows.get(pid)
        if row is None:
            return None
        login = changes.get("login")
        if login is not None:
            login = login.strip()
            other = self._find(login) if login else None
            if not login or (other is not None and other != pid):
                raise ProfileError(f"login: {login!r} is blank or used for an existing account.")
        status = self._status(changes["status"]) if changes.get("status") is not None else row["status"]
        if login is not None:
            del self._by_login[row["login"].casefold()]
            self._by_login[login.casefold()] = pid
            row["login"] = login
        row["status"] = status
        self._update_addresses(pid, changes)
        return self._record(pid)

    def _update_addresses(self, pid: int, changes: dict[str, Any]) -> None:
        book = self._addresses[pid]
        if not book and changes.get("address") is not None:
            self._addresses[pid] = self._address_book(changes)
            return
        for a in book:
            for name, key in (("first_name", "firstname"), ("last_name", "lastname")):
                if changes.get(name) is not None:
                    a[key] = changes[name]
            part = changes.get("address") if a["is_billing"] else changes.get("shipping_address") or (
                changes.get("address") if a["is_shipping"] and len(book) == 1 else None)
            for k, v in (part or {}).items():
                if k in ADDRESS_FIELDS and v is not None:
                    a[k] = v
                    if k == "state_name":
                        a["state"] = STATE_IDS.get(v)

    def create(self, spec: dict[str, Any]) -> dict[str, Any]:
        """A customer registers (admin or storefront): `customer.created` is pushed."""
        with self._lock:
            record = self._create(spec)
        self._emit("customer.created", record)
        return record

    def update(self, pid: int, changes: dict[str, Any]) -> dict[str, Any] | None:
        """A customer or the merchant edits the profile or its addresses: `customer.updated` is pushed."""
        with self._lock:
            record = self._update(pid, changes)
        if record is not None:
            self._emit("customer.updated", record)
        return record

    # ---- reads ----------------------------------------------------------------------------

    def _render(self, pid: int) -> dict[str, Any]:
        row = dict(self._rows[pid])
        for k in ("added", "first_login", "last_login"):
            row[k] = iso8601(row[k])
        return row

    def _record(self, pid: int) -> dict[str, Any]:
        """The profile with its address book, as ingest's fetch assembles it (and the push event carries)."""
        return {"profile": self._render(pid), "addresses": copy.deepcopy(self._addresses[pid])}

    def get(self, pid: int) -> dict[str, Any] | None:
        with self._lock:
            return self._render(pid) if pid in self._rows else None

    def addresses(self, pid: int, window: slice = slice(None)) -> tuple[int, list[dict[str, Any]]] | None:
        with self._lock:
            book = self._addresses.get(pid)
            return None if book is None else (len(book), copy.deepcopy(book[window]))

    def count(self) -> int:
        with self._lock:
            return len(self._rows)

    def list(self, q: ProfileQuery, window: slice = slice(None)) -> tuple[int, list[dict[str, Any]]]:
        with self._lock:
            needle = q.login.casefold() if q.login else None
            rows = [r for r in self._rows.values()
                    if (needle is None or needle in r["login"].casefold())
                    and _in(r["added"], q.added) and _in(r["first_login"], q.first_login)]
            rows.sort(key=lambda r: r["id"])
            for name, desc in reversed(q.sort):
                rows.sort(key=lambda r: r[name], reverse=desc)
            return len(rows), [self._render(r["id"]) for r in rows[window]]
