"""The HTTP conventions of X-Cart 5.5's API Platform API that every simulated route shares: the
`{"message"}` error body, `page`/`itemsPerPage`/`pagination` (max 100, larger values clamped), Hydra
(JSON-LD) versus plain JSON chosen by `Accept` or a `.json`/`.jsonld` suffix, and date filters read
the way PHP's `\\DateTime` reads them (X-Cart's 5.5.1 admin API docs, developer.x-cart.com/api/5.5.1/admin).
"""
from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from .php_dates import php_datetime
from .store import RANGE_OPS, OrderQuery

log = logging.getLogger(__name__)

DEFAULT_ITEMS_PER_PAGE = 30
MAX_ITEMS_PER_PAGE = 100
LD_JSON = "application/ld+json; charset=utf-8"
PLAIN_JSON = "application/json; charset=utf-8"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class ApiError(Exception):
    """An X-Cart style error: status plus `{"message": ...}` body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_body(status: int) -> dict[str, Any]:
    """Body for injected faults, in the same `{"message"}` shape as real API errors."""
    return {"message": {429: "Too Many Requests", 503: "Service Unavailable"}.get(status, f"HTTP {status}")}


_SUFFIX = re.compile(r"\.jsonld$|\.json$")


# ---- request parsing helpers --------------------------------------------------------------

def parse_time(value: str) -> float | None:
    """A date filter value as X-Cart 5.5 reads it (PHP's `\\DateTime`, see `php_dates`); None when
    PHP could not parse it, and then the filter is ignored."""
    return php_datetime(value)


_FILTER_KEY = re.compile(r"^(lastRenewDate|date)\[(\w+)\]$")
_ORDER_KEY = re.compile(r"^order\[(\w+)\]$")


def parse_sort(request: Request, allowed: set[str]) -> list[tuple[str, bool]]:
    """`order[field]=asc|desc` pairs in query order; unknown fields/directions are ignored."""
    sort = []
    for key, value in request.query_params.multi_items():
        m = _ORDER_KEY.match(key)
        if m and m.group(1) in allowed and value.lower() in ("asc", "desc"):
            sort.append((m.group(1), value.lower() == "desc"))
    return sort


def parse_order_query(request: Request, last_renew_filter: bool,
                      seen: dict[str, list[str]] | None = None) -> OrderQuery:
    """`seen`, when given, collects which date filters were applied and which were ignored.
    Sorting is by `date` or `lastRenewDate` only: the 5.5 order resource declares no `id` order
    (reference: X-Cart 5.5.1 "Retrieve a list of orders"); API Platform ignores unknown ones."""
    q = OrderQuery(sort=parse_sort(request, {"date", "lastRenewDate"}))
    seen = seen if seen is not None else {}
    for key, value in request.query_params.multi_items():
        m = _FILTER_KEY.match(key)
        if m and m.group(2) in RANGE_OPS:
            bound = parse_time(value)
            if bound is None or (m.group(1) == "lastRenewDate" and not last_renew_filter):
                log.info("ignoring date filter %s=%r", key, value)
                seen.setdefault("filters_ignored", []).append(key)
                continue
            seen.setdefault("filters_applied", []).append(key)
            if m.group(1) == "date":
                q.date.append((m.group(2), bound))
            else:
                q.last_renew.append((m.group(2), bound))
        elif key in ("paymentStatus.code", "paymentStatus.code[]"):
            q.payment_codes.append(value)
        elif key in ("shippingStatus.code", "shippingStatus.code[]"):
            q.shipping_codes.append(value)
        elif key == "profile.login":
            q.login = value
    return q


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be an integer") from None


def wants_ld(request: Request) -> bool:
    """A `.json`/`.jsonld` suffix wins; else `Accept`. API Platform's default format is JSON-LD."""
    path = request.url.path
    if path.endswith(".jsonld"):
        return True
    if path.endswith(".json"):
        return False
    accept = request.headers.get("accept", "").lower()
    if "application/ld+json" in accept:
        return True
    return "application/json" not in accept


def strip_suffix(ref: str) -> str:
    return _SUFFIX.sub("", ref)


def parse_id(ref: str) -> int:
    try:
        return int(strip_suffix(ref))
    except ValueError:
        raise ApiError(404, "Not Found") from None


async def json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, "Syntax error") from None
    if not isinstance(body, dict):
        raise ApiError(400, "The input data is misformatted.")
    return body


# ---- responses ----------------------------------------------------------------------------

def _ld_member(row: dict[str, Any], iri: str, rtype: str) -> dict[str, Any]:
    return {"@id": f"{iri}/{row['id']}", "@type": rtype, **row}


def item_response(request: Request, row: dict[str, Any] | None, iri: str, rtype: str) -> JSONResponse:
    if row is None:
        raise ApiError(404, "Not Found")
    if wants_ld(request):
        return JSONResponse({"@context": f"/api/contexts/{rtype}", **_ld_member(row, iri, rtype)},
                            media_type=LD_JSON)
    return JSONResponse(row, media_type=PLAIN_JSON)


def page_window(request: Request) -> slice:
    """`page`/`itemsPerPage`/`pagination` as a slice of the full result (API Platform rules)."""
    paginate = request.query_params.get("pagination", "true").lower() not in ("false", "0")
    page = _int_param(request, "page", 1)
    per_page = min(_int_param(request, "itemsPerPage", DEFAULT_ITEMS_PER_PAGE), MAX_ITEMS_PER_PAGE)
    if page < 1:
        raise ApiError(400, "Page should not be less than 1")
    if per_page < 0:
        raise ApiError(400, "Item per page parameter should not be less than 0")
    return slice((page - 1) * per_page, page * per_page) if paginate else slice(None)


def collection_response(request: Request, window: slice, total: int, members: list[dict[str, Any]],
                        iri: str, rtype: str) -> JSONResponse:
    """Hydra collection or plain array for one page (`members`) of `total` results."""
    if not wants_ld(request):
        return JSONResponse(members, media_type=PLAIN_JSON)
    body: dict[str, Any] = {
        "@context": f"/api/contexts/{rtype}", "@id": iri, "@type": "hydra:Collection",
        "hydra:member": [_ld_member(r, iri, rtype) for r in members],
        "hydra:totalItems": total,
    }
    per_page = (window.stop or 0) - (window.start or 0)
    if window.stop is not None and per_page:
        body["hydra:view"] = _hydra_view(iri, window.start // per_page + 1, per_page, total)
    return JSONResponse(body, media_type=LD_JSON)


def _hydra_view(iri: str, page: int, per_page: int, total: int) -> dict[str, Any]:
    last = max(1, -(-total // per_page))
    view = {"@id": f"{iri}?page={page}", "@type": "hydra:PartialCollectionView",
            "hydra:first": f"{iri}?page=1", "hydra:last": f"{iri}?page={last}"}
    if page > 1:
        view["hydra:previous"] = f"{iri}?page={page - 1}"
    if page < last:
        view["hydra:next"] = f"{iri}?page={page + 1}"
    return view
