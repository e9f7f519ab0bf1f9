"""X-Cart 5.5 (API Platform) REST API simulator: the HTTP layer.

Follows X-Cart's 5.5.1 admin API docs (developer.x-cart.com/api/5.5.1/admin): `X-Auth-Token` with a read and a
read/write token, `/api/orders` filters on `lastRenewDate`/`date` (unix seconds or ISO-8601),
`page`/`itemsPerPage` (max 100, larger values clamped)/`pagination=false`, and Hydra (JSON-LD) versus
plain JSON chosen by `Accept` or a `.json`/`.jsonld` suffix. Faults come from the shared
`FaultInjector`; `/_sim/...` admin routes are never faulted and need no token.

Points X-Cart's docs and its 5.5.0 source leave unsettled, and the choice made here:
- `lastRenewDate[...]` filtering exists in 5.5.1 docs but not in the 5.5.0 source:
  on by default, `last_renew_filter=False` makes the sim ignore it like 5.5.0 would.
- A date filter value PHP's `\\DateTime` cannot parse is ignored, as API Platform's DateFilter does,
  not a 400: the caller then gets the unfiltered list. Unix seconds are written `@1730828882`; bare
  digits are not a PHP date string and are ignored too (`php_dates`).
- Every status PUT saves the order, so it bumps `lastRenewDate` even if the code is unchanged.
"""
from __future__ import annotations

import hmac
import logging
import re
import threading
from collections import defaultdict
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Body, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..faults import ADMIN_PREFIX, FaultInjector, FaultMiddleware, install_admin_routes
from .listing_faults import ListingFaults
from .php_dates import php_datetime
from .push import PushNotifier
from .store import RANGE_OPS, OrderQuery, UnknownStatus, XCartStore

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


# ---- admin API models ---------------------------------------------------------------------

class ItemSpec(BaseModel):
    sku: str
    name: str = ""
    price: Decimal = Field(ge=0)
    amount: int = Field(1, ge=1)


class AddressSpec(BaseModel):
    street: str = "1 Main Street"
    city: str = "New York"
    zipcode: str = "10001"
    country_code: str = "US"
    state_name: str = "New York"
    phone: str = "+1 212 555 0100"


class OrderSpec(BaseModel):
    """Compact order description for `POST /_sim/orders`; everything but `items` has a default."""
    email: str = ""
    first_name: str = "Test"
    last_name: str = "Customer"
    currency: str = "USD"
    payment_code: str = "P"
    shipping_code: str = "N"
    payment_method: str = "Credit Card"
    shipping_method: str = "UPS Ground"
    items: list[ItemSpec] = Field(min_length=1)
    shipping: Decimal = Decimal("0")
    tax: Decimal = Decimal("0")
    tax_included: bool = False
    discount: Decimal = Decimal("0")
    coupon: str | None = None
    address: AddressSpec = Field(default_factory=AddressSpec)
    guest: bool = False
    notes: str = ""
    admin_notes: str = ""


class BulkSpec(BaseModel):
    count: int = Field(ge=1, le=200_000)
    template: OrderSpec
    detail: bool = False     # True: return {id, order_number, created_at_ms} per order, not bare ids


class PushConfig(BaseModel):
    url: str
    secret: str


class ClockChange(BaseModel):
    offset_seconds: float | None = None     # absolute offset from real time
    advance_seconds: float | None = None    # added to the current offset


# ---- request statistics -------------------------------------------------------------------

_NUMERIC = re.compile(r"/\d+(?:\.jsonld|\.json)?(?=/|$)")
_BY_NUMBER = re.compile(r"/by_number/[^/]+")
_SUFFIX = re.compile(r"\.jsonld$|\.json$")


def path_template(path: str) -> str:
    """`/api/orders/105/payment_status` -> `/api/orders/{id}/payment_status` for the stats table."""
    path = _BY_NUMBER.sub("/by_number/{orderNumber}", path)
    return _SUFFIX.sub("", _NUMERIC.sub("/{id}", path))


class RequestStats:
    """Counts answered requests by `METHOD /template` and status, faults included."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def record(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self._counts[f"{method} {path_template(path)}"][str(status)] += 1

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {k: dict(v) for k, v in self._counts.items()}


class StatsMiddleware:
    """Outermost ASGI layer, so 429/503 answers from the fault middleware are counted too."""

    def __init__(self, app, stats: RequestStats) -> None:
        self.app = app
        self.stats = stats

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            return await self.app(scope, receive, send)

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                self.stats.record(scope["method"], scope["path"], message["status"])
            await send(message)

        return await self.app(scope, receive, send_wrapper)


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


# ---- app ----------------------------------------------------------------------------------

def create_app(store: XCartStore, token_read: str, token_all: str, injector: FaultInjector | None = None,
               *, last_renew_filter: bool = True, push: PushNotifier | None = None) -> FastAPI:
    """The simulator as an ASGI app. `app.state` exposes `store`, `push`, `injector` and `stats`."""
    injector = injector or FaultInjector()
    push = push or PushNotifier(clock=store.now)
    store.add_listener(push.notify)
    stats = RequestStats()
    listing = ListingFaults(store)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        push.close()

    app = FastAPI(title="X-Cart 5.5 simulator", lifespan=lifespan, openapi_url=None, docs_url=None)
    app.state.store, app.state.push, app.state.injector, app.state.stats = store, push, injector, stats
    app.state.listing = listing
    _install_error_handlers(app)
    app.include_router(_api_router(store, _auth_dependency(token_read, token_all), last_renew_filter, listing))
    install_admin_routes(app, injector)
    _install_listing_routes(app, listing)
    _install_sim_routes(app, store, push, stats, injector)
    app.add_middleware(FaultMiddleware, injector=injector, error_body=error_body)
    app.add_middleware(StatsMiddleware, stats=stats)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError):
        return JSONResponse({"message": exc.message}, status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException):
        return JSONResponse({"message": str(exc.detail)}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))


def _auth_dependency(token_read: str, token_all: str):
    """Read token: GET only; read/write token: everything (reference 1b)."""

    def check(request: Request) -> None:
        token = request.headers.get("x-auth-token")
        if not token:
            raise ApiError(401, "Full authentication is required to access this resource.")
        is_all = hmac.compare_digest(token.encode(), token_all.encode())
        if not is_all and not hmac.compare_digest(token.encode(), token_read.encode()):
            raise ApiError(401, "Invalid API token.")
        if request.method in WRITE_METHODS and not is_all:
            raise ApiError(403, "Access Denied.")

    return check


def _api_router(store: XCartStore, auth, last_renew_filter: bool, listing: ListingFaults) -> APIRouter:
    r = APIRouter(dependencies=[Depends(auth)])
    _order_routes(r, store, last_renew_filter, listing)
    _catalogue_routes(r, store)
    return r


def _order_routes(r: APIRouter, store: XCartStore, last_renew_filter: bool, listing: ListingFaults) -> None:
    @r.get("/api/orders")
    @r.get("/api/orders.json")
    @r.get("/api/orders.jsonld")
    def list_orders(request: Request):
        window = page_window(request)
        listing.before_list()
        filters: dict[str, list[str]] = {"filters_applied": [], "filters_ignored": []}
        total, rows = store.list_orders(parse_order_query(request, last_renew_filter, filters), window)
        listing.after_list(str(request.url.query), filters, rows)
        return collection_response(request, window, total, rows, "/api/orders", "Order")

    @r.get("/api/orders/by_number/{number}")
    def order_by_number(number: str, request: Request):
        return item_response(request, store.get_order_by_number(strip_suffix(number)), "/api/orders", "Order")

    @r.get("/api/orders/{ref}")
    def get_order(ref: str, request: Request):
        if listing.order_fault(parse_id(ref)):
            return Response(b'{"id": ', media_type=PLAIN_JSON)      # a damaged record: not JSON
        return item_response(request, store.get_order(parse_id(ref)), "/api/orders", "Order")

    @r.get("/api/orders/{ref}/payment_transactions")
    def payment_transactions(ref: str, request: Request):
        oid, window = parse_id(ref), page_window(request)
        status = listing.transactions_fault(oid)
        if status:
            raise ApiError(status, f"HTTP {status}")
        found = store.transactions(oid, window)
        if found is None:
            raise ApiError(404, "Not Found")
        return collection_response(request, window, *found, f"/api/orders/{oid}/payment_transactions",
                                   "PaymentTransaction")

    for kind in ("payment", "shipping"):
        _status_routes(r, store, kind)


def _status_routes(r: APIRouter, store: XCartStore, kind: str) -> None:
    path = f"/api/orders/{{ref}}/{kind}_status"

    @r.get(path, name=f"get_{kind}_status")
    def get_status(ref: str):
        row = store.get_status(parse_id(ref), kind)
        if row is None:
            raise ApiError(404, "Not Found")
        return JSONResponse(row, media_type=PLAIN_JSON)

    @r.put(path, name=f"put_{kind}_status")
    async def put_status(ref: str, request: Request):
        oid = parse_id(ref)
        code = (await json_body(request)).get("code")
        if not isinstance(code, str) or not code:
            raise ApiError(400, "code: This value should not be blank.")
        try:
            row = store.set_status(oid, kind, code)
        except UnknownStatus as e:
            raise ApiError(400, str(e)) from None
        if row is None:
            raise ApiError(404, "Not Found")
        return JSONResponse(row, media_type=PLAIN_JSON)


def _catalogue_routes(r: APIRouter, store: XCartStore) -> None:
    @r.get("/api/products")
    def list_products(request: Request):
        window = page_window(request)
        total, rows = store.list_products(parse_sort(request, {"name", "price", "arrival_date", "id"}), window)
        return collection_response(request, window, total, rows, "/api/products", "Product")

    @r.get("/api/products/{ref}")
    def get_product(ref: str, request: Request):
        return item_response(request, store.get_product(parse_id(ref)), "/api/products", "Product")

    @r.put("/api/products/{ref}")
    async def put_product(ref: str, request: Request):
        pid = parse_id(ref)
        try:
            row = store.update_product(pid, await json_body(request))
        except ValueError as e:     # includes DuplicateSku
            raise ApiError(400, str(e)) from None
        return item_response(request, row, "/api/products", "Product")

    @r.get("/api/profiles")
    @r.get("/api/profiles.json")
    @r.get("/api/profiles.jsonld")
    def list_profiles(request: Request):
        window = page_window(request)
        total, rows = store.list_profiles(request.query_params.get("login"), window)
        return collection_response(request, window, total, rows, "/api/profiles", "Profile")

    @r.get("/api/profiles/{ref}")
    def get_profile(ref: str, request: Request):
        return item_response(request, store.get_profile(parse_id(ref)), "/api/profiles", "Profile")


def _install_listing_routes(app: FastAPI, listing: ListingFaults) -> None:
    """`POST /_sim/listing` sets the listing faults (`listing_faults.ListingPlan` fields, `reset`);
    `GET /_sim/listing` shows them with the log of list calls (query, rows, filters applied/ignored)."""

    @app.post("/_sim/listing")
    def set_listing(changes: dict[str, Any] = Body(default_factory=dict)):
        try:
            return listing.configure(dict(changes))
        except (ValueError, TypeError) as e:
            raise ApiError(400, str(e)) from None

    @app.get("/_sim/listing")
    def get_listing():
        return listing.snapshot()


def _install_sim_routes(app: FastAPI, store: XCartStore, push: PushNotifier, stats: RequestStats,
                        injector: FaultInjector) -> None:
    """Test/benchmark control surface; no auth, never faulted."""

    def create(spec: OrderSpec) -> dict[str, Any]:
        try:
            return store.create_order(spec.model_dump())
        except (UnknownStatus, ValueError) as e:
            raise ApiError(400, str(e)) from None

    @app.post("/_sim/orders", status_code=201)
    def sim_create_order(spec: OrderSpec):
        meta = create(spec)
        return {k: meta[k] for k in ("id", "order_number", "created_at_ms")}

    @app.post("/_sim/orders/bulk", status_code=201)
    def sim_bulk(bulk: BulkSpec):
        made = [create(bulk.template) for _ in range(bulk.count)]
        if bulk.detail:
            return [{k: m[k] for k in ("id", "order_number", "created_at_ms")} for m in made]
        return [m["id"] for m in made]

    @app.get("/_sim/orders/{oid}")
    def sim_get_order(oid: int):
        meta = store.sim_meta(oid)
        if meta is None:
            raise ApiError(404, "Not Found")
        return meta

    @app.post("/_sim/orders/{oid}/touch")
    def sim_touch(oid: int):
        meta = store.touch(oid)
        if meta is None:
            raise ApiError(404, "Not Found")
        return meta

    @app.get("/_sim/stats")
    def sim_stats():
        return {"orders": store.order_count(), "requests": stats.snapshot(), "push": push.snapshot(),
                "faults_injected": injector.snapshot()["injected"]}

    @app.get("/_sim/push")
    def sim_push_state():
        return push.snapshot()

    @app.post("/_sim/push")
    def sim_push_enable(cfg: PushConfig):
        push.configure(cfg.url, cfg.secret)
        return push.snapshot()

    @app.delete("/_sim/push")
    def sim_push_disable():
        push.disable()
        return push.snapshot()

    @app.get("/_sim/clock")
    def sim_clock():
        return {"offset_seconds": store.clock_offset, "now": store.now()}

    @app.post("/_sim/clock")
    def sim_set_clock(change: ClockChange):
        if change.offset_seconds is not None:
            store.clock_offset = change.offset_seconds
        if change.advance_seconds is not None:
            store.clock_offset += change.advance_seconds
        return {"offset_seconds": store.clock_offset, "now": store.now()}
