"""AR/ARCustomers (view AR0024, table ARCUS): properties, POST and the administrator's change.

Property names and order from the Sage300-SDK sample `samples/WebApi_SamplePostPayloads/AR/ARCustomers.txt`;
Email = ARCUS.EMAIL2, ContactsEmail = EMAIL1 (SDK sample ADO_EF/Model/ARCustomer.cs). An insert with an
existing key is 409 RecordDuplicate (SDK Developer Reference §12).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import Response

from .conversions import DATE, EnumConv, reject_unknown, require_object, required_text
from .db import utc_stamp
from .http_errors import SageError
from .queries import created, load_by_key
from .resources import Prop, Resource

if TYPE_CHECKING:
    from .state import SimState

CUSTOMER_PROPS = [
    Prop("CustomerNumber", "IDCUST"), Prop("ShortName", "TEXTSNAM"), Prop("GroupCode", "IDGRP"),
    Prop("Status", "SWACTV", EnumConv({1: "Active", 0: "Inactive"})),
    Prop("OnHold", "SWHOLD", EnumConv({0: "No", 1: "Yes"})), Prop("CustomerName", "NAMECUST"),
    Prop("AddressLine1", "TEXTSTRE1"), Prop("AddressLine2", "TEXTSTRE2"), Prop("AddressLine3", "TEXTSTRE3"),
    Prop("AddressLine4", "TEXTSTRE4"), Prop("City", "NAMECITY"), Prop("StateProvince", "CODESTTE"),
    Prop("ZipPostalCode", "CODEPSTL"), Prop("Country", "CODECTRY"), Prop("ContactName", "NAMECTAC"),
    Prop("PhoneNumber", "TEXTPHON1"), Prop("CurrencyCode", "CODECURN"), Prop("Email", "EMAIL2"),
    Prop("ContactsEmail", "EMAIL1"),
    Prop("CheckForDuplicatePOs", "SWCHKDUPPO", EnumConv({0: "None", 1: "Warning", 2: "Error"})),
    Prop("DateLastMaintained", "DATELASTMN", DATE),
]


def post_customer(sim: SimState, request: Request, resource: Resource, payload: Any,
                  received_ms: int = 0) -> Response:
    """Insert one customer; an existing CustomerNumber is 409 RecordDuplicate."""
    payload = require_object(payload, "The request body")
    reject_unknown(payload, resource.writable, "ARCustomers")
    number = required_text(payload, "CustomerNumber", "")
    row = {"SWACTV": 1, "SWHOLD": 0, "CODECURN": "USD", **resource.row_from_payload(payload)}
    row["IDCUST"], row["DATELASTMN"] = number, utc_stamp()[0]
    with sim.db.transaction() as cur:
        if sim.db.get("ARCUS", {"IDCUST": number}, cur) is not None:
            raise SageError(409, "RecordDuplicate", f"Customer {number} already exists.")
        sim.db.insert(cur, "ARCUS", row, user=sim.user)
    return created(sim, request, resource, number, f"'{number}'")


def update_customer(sim: SimState, number: str, payload: Any) -> dict[str, Any]:
    """Admin: change writable ARCustomers properties of one customer."""
    resource = sim.resources[("AR", "ARCUSTOMERS")]
    payload = require_object(payload, "The request body")
    reject_unknown(payload, resource.writable - {"CustomerNumber"}, "ARCustomers")
    changes = resource.row_from_payload(payload)
    with sim.db.transaction() as cur:
        if sim.db.get("ARCUS", {"IDCUST": number}, cur) is None:
            raise SageError(404, "RecordNotFound", f"ARCustomers('{number}') was not found.")
        sim.db.update(cur, "ARCUS", {"IDCUST": number}, changes, user=sim.user)
    return load_by_key(sim, resource, number)
