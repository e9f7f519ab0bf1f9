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
- Whether a write to an order's child rows alone (a backend payment transaction, a tracking number)
  bumps `lastRenewDate` is unconfirmed: by default it does not (`XCartStore(child_writes_renew=...)`).

Routes live by concern: orders, statuses and products here, profiles in `api_profiles`, the push
module's tracking endpoint in `tracking`, the `/_sim` control surface in `admin_routes`; the shared
HTTP conventions (errors, paging, Hydra) in `api_http`.
"""
from __future__ import annotations

import hmac
import logging
import re
import threading
from collections import defaultdict
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..faults import ADMIN_PREFIX, FaultInjector, FaultMiddleware, install_admin_routes
from .admin_catalogue import install_catalogue_admin_routes, install_write_log_routes
from .admin_routes import install_listing_routes, install_sim_routes
from .api_http import (PLAIN_JSON, WRITE_METHODS, ApiError, _SUFFIX, collection_response, error_body,  # noqa: F401
                       item_response, json_body, page_window, parse_id, parse_order_query, parse_sort, parse_time,
                       strip_suffix)
from .api_catalogue import catalogue_routes
from .api_profile_writes import profile_write_routes
from .api_profiles import profile_routes
from .listing_faults import ListingFaults
from .push import PushNotifier
from .store import UnknownStatus, XCartStore
from .tracking import ModuleToken, install_tracking_routes
from .write_log import WriteLog, WriteLogMiddleware

log = logging.getLogger(__name__)

# ---- request statistics -------------------------------------------------------------------

_NUMERIC = re.compile(r"/\d+(?:\.jsonld|\.json)?(?=/|$)")
_BY_NUMBER = re.compile(r"/by_number/[^/]+")


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


# ---- app ----------------------------------------------------------------------------------

def create_app(store: XCartStore, token_read: str, token_all: str, injector: FaultInjector | None = None,
               *, last_renew_filter: bool = True, push: PushNotifier | None = None,
               module_token: str = "") -> FastAPI:
    """The simulator as an ASGI app. `app.state` exposes `store`, `push`, `injector`, `stats`, `writes`
    (the write log) and `module_token` (the push module's tracking endpoint token; empty refuses every call)."""
    injector = injector or FaultInjector()
    push = push or PushNotifier(clock=store.now)
    store.add_listener(push.notify)
    stats = RequestStats()
    listing = ListingFaults(store)
    token = ModuleToken(module_token)
    writes = WriteLog(store)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        push.close()

    app = FastAPI(title="X-Cart 5.5 simulator", lifespan=lifespan, openapi_url=None, docs_url=None)
    app.state.store, app.state.push, app.state.injector, app.state.stats = store, push, injector, stats
    app.state.listing, app.state.module_token, app.state.writes = listing, token, writes
    _install_error_handlers(app)
    app.include_router(_api_router(store, _auth_dependency(token_read, token_all), last_renew_filter, listing))
    install_admin_routes(app, injector)
    install_listing_routes(app, listing)
    install_sim_routes(app, store, push, stats, injector, token)
    install_tracking_routes(app, store, token)
    install_write_log_routes(app, writes)
    install_catalogue_admin_routes(app, store)
    app.add_middleware(FaultMiddleware, injector=injector, error_body=error_body)
    app.add_middleware(WriteLogMiddleware, log=writes)
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
    catalogue_routes(r, store)
    profile_routes(r, store.profiles)
    profile_write_routes(r, store.profiles)
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
