"""`PUT /api/profiles/{id}` and `PUT /api/profiles/{id}/addresses/{address_id}` of the simulated X-Cart
5.5 API (reference xcart.md §1b: `GET|PUT|DELETE /api/profiles/{profile_id}`, `GET|PUT|DELETE
.../addresses/{address_id}`; PUT is partial-safe like products: only the given fields change).

- Profile PUT: `login` (the e-mail; must stay unique, 400 otherwise) and `status` (E/D, 400 for
  another code). Other keys are ignored as API Platform ignores unknown input.
- Address PUT: `firstname, lastname, street, city, zipcode, country_code, state_name, phone`, each a
  string (400 otherwise); `state` follows `state_name` as X-Cart resolves the state id.
Each write pushes `customer.updated` (the store saved the profile), like an admin edit.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .api_http import PLAIN_JSON, ApiError, item_response, json_body, parse_id
from .profiles import ADDRESS_FIELDS, STATE_IDS, ProfileBook, ProfileError

_ADDRESS_PUT = ("firstname", "lastname") + ADDRESS_FIELDS


def _strings(body: dict[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for name in names:
        if name in body:
            if not isinstance(body[name], str):
                raise ApiError(400, f"{name}: This value should be of type string.")
            out[name] = body[name]
    return out


def update_address(book: ProfileBook, pid: int, aid: int, changes: dict[str, str]) -> dict[str, Any] | None:
    """The updated address, or None when the profile has no such address."""
    with book._lock:
        address = next((a for a in book._addresses.get(pid, []) if a["id"] == aid), None)
        if address is None:
            return None
        address.update(changes)
        if "state_name" in changes:
            address["state"] = STATE_IDS.get(changes["state_name"])
        record, result = book._record(pid), dict(address)
    book._emit("customer.updated", record)
    return result


def profile_write_routes(r: APIRouter, profiles: ProfileBook) -> None:
    @r.put("/api/profiles/{ref}")
    async def put_profile(ref: str, request: Request):
        pid, body = parse_id(ref), await json_body(request)
        try:
            record = profiles.update(pid, _strings(body, ("login", "status")))
        except ProfileError as e:
            raise ApiError(400, str(e)) from None
        return item_response(request, record["profile"] if record else None, "/api/profiles", "Profile")

    @r.put("/api/profiles/{ref}/addresses/{aref}")
    async def put_address(ref: str, aref: str, request: Request):
        pid, aid, body = parse_id(ref), parse_id(aref), await json_body(request)
        row = update_address(profiles, pid, aid, _strings(body, _ADDRESS_PUT))
        if row is None:
            raise ApiError(404, "Not Found")
        return JSONResponse(row, media_type=PLAIN_JSON)
