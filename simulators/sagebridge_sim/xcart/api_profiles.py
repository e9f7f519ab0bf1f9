"""`/api/profiles` routes of the simulated X-Cart 5.5 API (shapes and choices: `profiles.py`).

Filters: `login` (partial, case-insensitive), `added[after|before|strictly_after|strictly_before]`
and `first_login[...]`, values read as PHP's `\\DateTime` reads them; a value PHP cannot parse drops
that filter silently (API Platform's DateFilter), so the caller gets the list without it.
`order[added]` / `order[id]` = asc|desc; others are ignored.
"""
from __future__ import annotations

import logging
import re

from fastapi import APIRouter, Request

from .api_http import ApiError, collection_response, item_response, page_window, parse_id, parse_sort, parse_time
from .profiles import ProfileBook, ProfileQuery
from .store import RANGE_OPS

log = logging.getLogger(__name__)
_DATE_KEY = re.compile(r"^(added|first_login)\[(\w+)\]$")


def parse_profile_query(request: Request, seen: dict[str, list[str]] | None = None) -> ProfileQuery:
    q = ProfileQuery(login=request.query_params.get("login"), sort=parse_sort(request, {"added", "id"}))
    seen = seen if seen is not None else {}
    for key, value in request.query_params.multi_items():
        m = _DATE_KEY.match(key)
        if not m or m.group(2) not in RANGE_OPS:
            continue
        bound = parse_time(value)
        if bound is None:
            log.info("ignoring date filter %s=%r", key, value)
            seen.setdefault("filters_ignored", []).append(key)
            continue
        seen.setdefault("filters_applied", []).append(key)
        getattr(q, m.group(1)).append((m.group(2), bound))
    return q


def profile_routes(r: APIRouter, profiles: ProfileBook) -> None:
    @r.get("/api/profiles")
    @r.get("/api/profiles.json")
    @r.get("/api/profiles.jsonld")
    def list_profiles(request: Request):
        window = page_window(request)
        total, rows = profiles.list(parse_profile_query(request), window)
        return collection_response(request, window, total, rows, "/api/profiles", "Profile")

    @r.get("/api/profiles/{ref}")
    def get_profile(ref: str, request: Request):
        return item_response(request, profiles.get(parse_id(ref)), "/api/profiles", "Profile")

    @r.get("/api/profiles/{ref}/addresses")
    def profile_addresses(ref: str, request: Request):
        pid, window = parse_id(ref), page_window(request)
        found = profiles.addresses(pid, window)
        if found is None:
            raise ApiError(404, "Not Found")
        return collection_response(request, window, *found, f"/api/profiles/{pid}/addresses", "Address")
