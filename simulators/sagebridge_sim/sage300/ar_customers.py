"""AR/ARCustomers (view AR0024, table ARCUS): properties, POST, PATCH and the administrator's change.

Property names and their order from the Sage300-SDK sample `samples/WebApi_SamplePostPayloads/AR/
ARCustomers.txt` (CustomerNumber, ShortName, GroupCode, Status "Active", OnHold "No", CustomerName,
AccountSet, CurrencyCode, Terms, TaxGroup, ...); Email = ARCUS.EMAIL2 and ContactsEmail = EMAIL1 (SDK
sample ADO_EF/Model/ARCustomer.cs); column sizes from Sage's AOM page for ARCUS (IDCUST 12, TEXTSNAM 10,
NAMECUST 60, TEXTSTRE1..4 60, NAMECITY 30, CODESTTE 30, CODEPSTL 20, CODECTRY 30, TEXTPHON1 30,
EMAIL2 50). Enums travel as names (SDK Developer Reference): a code or an unknown name is 400
InvalidPayload; a text longer than its column is 400 RecordInvalid naming the property; an insert
with an existing key is 409 RecordDuplicate (Developer Reference §12, "RecordDuplicate"); a currency
not in CSCCD is 400 RecordInvalid. GroupCode, AccountSet, Terms and TaxGroup are stored unchecked (the
simulator has no ARGRO/ARRAS/ARRTA/TXGRP tables).

`$filter=Email eq '...'` compares with the stored EMAIL2 as SQL Server compares CHAR columns: trailing
spaces ignored, case significant (a case-sensitive collation; a real server's default collation may be
case-insensitive, so the simulator picks the stricter behaviour a client must cope with).

PATCH `ARCustomers('W1')` (Developer Reference §4-11: "PATCH updates partially"): only the properties
sent change; `CustomerNumber`, if sent, must be the key; 200 with the whole entry.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import Response

from .conversions import DATE, EnumConv, reject_unknown, require_object, required_text
from .db import utc_stamp
from .http_errors import SageError, SageJSON, invalid_payload, not_found, record_invalid
from .ledger_tables import HOME_CURRENCY
from .queries import context_url, created, load_by_key, parse_key
from .resources import Prop, Resource

if TYPE_CHECKING:
    from .db import Sage300Database
    from .state import SimState

CUSTOMER_PROPS = [
    Prop("CustomerNumber", "IDCUST"), Prop("ShortName", "TEXTSNAM"), Prop("GroupCode", "IDGRP"),
    Prop("Status", "SWACTV", EnumConv({1: "Active", 0: "Inactive"})),
    Prop("OnHold", "SWHOLD", EnumConv({0: "No", 1: "Yes"})), Prop("CustomerName", "NAMECUST"),
    Prop("AddressLine1", "TEXTSTRE1"), Prop("AddressLine2", "TEXTSTRE2"), Prop("AddressLine3", "TEXTSTRE3"),
    Prop("AddressLine4", "TEXTSTRE4"), Prop("City", "NAMECITY"), Prop("StateProvince", "CODESTTE"),
    Prop("ZipPostalCode", "CODEPSTL"), Prop("Country", "CODECTRY"), Prop("ContactName", "NAMECTAC"),
    Prop("PhoneNumber", "TEXTPHON1"), Prop("Email", "EMAIL2"), Prop("ContactsEmail", "EMAIL1"),
    Prop("AccountSet", "IDACCTSET"), Prop("Terms", "CODETERM"), Prop("TaxGroup", "CODETAXGRP"),
    Prop("CurrencyCode", "CODECURN"),
    Prop("CheckForDuplicatePOs", "SWCHKDUPPO", EnumConv({0: "None", 1: "Warning", 2: "Error"})),
    Prop("DateLastMaintained", "DATELASTMN", DATE),
]


def post_customer(sim: SimState, request: Request, resource: Resource, payload: Any,
                  received_ms: int = 0) -> Response:
    """Insert one customer; an existing CustomerNumber is 409 RecordDuplicate. Check and insert run in
    one transaction under the database lock, so concurrent creators of one number get one 201."""
    payload = require_object(payload, "The request body")
    reject_unknown(payload, resource.writable, "ARCustomers")
    number = required_text(payload, "CustomerNumber", "")
    row = {"SWACTV": 1, "SWHOLD": 0, "CODECURN": HOME_CURRENCY, **resource.row_from_payload(payload)}
    row["IDCUST"], row["DATELASTMN"] = number, utc_stamp()[0]
    _check_currency(sim.db, row["CODECURN"])
    sim.hold_commit(request.method)
    with sim.db.transaction() as cur:
        if sim.db.get("ARCUS", {"IDCUST": number}, cur) is not None:
            raise SageError(409, "RecordDuplicate", f"Customer {number} already exists.")
        sim.db.insert(cur, "ARCUS", row, user=sim.user)
    return created(sim, request, resource, number, f"'{number}'")


def patch_customer(sim: SimState, request: Request, resource: Resource, key_text: str, payload: Any) -> Response:
    """PATCH ARCustomers('ID'): change only the properties sent, answer 200 with the whole entry."""
    number = parse_key(resource, key_text)
    entry = change_customer(sim, resource, number, payload)
    context = context_url(request, sim, resource.module, f"{resource.name}/$entity")
    return SageJSON({"odata.context": context, **entry})


def update_customer(sim: SimState, number: str, payload: Any) -> dict[str, Any]:
    """Admin: change writable ARCustomers properties of one customer."""
    return change_customer(sim, sim.resources[("AR", "ARCUSTOMERS")], number, payload)


def change_customer(sim: SimState, resource: Resource, number: str, payload: Any) -> dict[str, Any]:
    payload = require_object(payload, "The request body")
    reject_unknown(payload, resource.writable, "ARCustomers")
    if "CustomerNumber" in payload and payload["CustomerNumber"] != number:
        raise invalid_payload(f"CustomerNumber {payload['CustomerNumber']!r} is not the key {number!r}.")
    changes = {k: v for k, v in resource.row_from_payload(payload).items() if k != "IDCUST"}
    if "CODECURN" in changes:
        _check_currency(sim.db, changes["CODECURN"])
    changes["DATELASTMN"] = utc_stamp()[0]
    with sim.db.transaction() as cur:
        if len(number) > 12 or sim.db.get("ARCUS", {"IDCUST": number}, cur) is None:
            raise not_found(f"ARCustomers('{number}') was not found.")
        sim.db.update(cur, "ARCUS", {"IDCUST": number}, changes, user=sim.user)
    return load_by_key(sim, resource, number)


def _check_currency(db: Sage300Database, code: str) -> None:
    if db.get("CSCCD", {"CURID": code}) is None:
        raise record_invalid(f"Currency {code} does not exist.")
