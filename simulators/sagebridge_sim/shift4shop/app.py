"""Shift4Shop (3dcart) REST API simulator: the ASGI app.

Serves the resources of shift4shop.md §1.4 under `/3dCartWebAPI/v1` and `/3dCartWebAPI/v2` (same
paths, §1.1), every call authenticated by the SecureURL/PrivateKey/Token headers (§1.2; wrong or
missing -> 401 in the `[{Key,Value,Status,Message}]` shape, §1.5 M). Paths are matched exactly as
written in the reference (the real ASP.NET routing is case-insensitive; a client using other casing
would work there and fails here, which is the strict side).

Faults come from the shared `FaultInjector` (latency, 5xx, 429 + Retry-After, outage, token bucket,
commit-late on writes); `/_sim/...` admin routes are never faulted and need no credentials.
Rate limits of the real API are not confirmed (§1.5): the simulator limits nothing unless a test
configures the bucket.
"""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..faults import FaultInjector, FaultMiddleware, install_admin_routes
from ..xcart.write_log import WriteLogMiddleware
from .admin_routes import install_sim_routes
from .api_catalogue import product_routes
from .api_common import Context
from .api_customers import customer_routes, webhook_routes
from .api_orders import order_routes
from .emitter import WebhookEmitter
from .store import Shift4ShopStore
from .webhooks import WebhookRegistry
from .wire import ApiError, Credentials, Paging, fault_body, result
from .write_log import ShopWriteLog

BASE_PATHS = ("/3dCartWebAPI/v1", "/3dCartWebAPI/v2")


def create_app(store: Shift4ShopStore, credentials: Credentials, *, injector: FaultInjector | None = None,
               max_limit: int = 200, max_batch: int = 100, event_types: dict | None = None,
               webhook_attempts: int = 3) -> FastAPI:
    """The simulator. `app.state` exposes `store`, `injector`, `webhooks` (registry), `emitter`,
    `writes` (write log) and `ctx`."""
    injector = injector or FaultInjector()
    registry = WebhookRegistry(store.now, event_types)
    emitter = WebhookEmitter(registry, attempts=webhook_attempts)
    store.add_listener(emitter.notify)
    writes = ShopWriteLog()
    ctx = Context(store=store, paging=Paging(max_limit=max_limit), injector=injector, webhooks=registry,
                  emitter=emitter, max_batch=max_batch)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        emitter.close()

    app = FastAPI(title="Shift4Shop REST simulator", lifespan=lifespan, openapi_url=None, docs_url=None,
                  redoc_url=None)
    app.state.store, app.state.injector, app.state.webhooks = store, injector, registry
    app.state.emitter, app.state.writes, app.state.ctx = emitter, writes, ctx
    _install_error_handlers(app)
    api = APIRouter(dependencies=[Depends(credentials.check)])
    order_routes(api, ctx)
    product_routes(api, ctx)
    customer_routes(api, ctx)
    webhook_routes(api, ctx)
    for base in BASE_PATHS:
        app.include_router(api, prefix=base)
    install_admin_routes(app, injector)
    install_sim_routes(app, ctx, writes)
    app.add_middleware(FaultMiddleware, injector=injector, error_body=fault_body)
    app.add_middleware(WriteLogMiddleware, log=writes)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError):
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException):
        return JSONResponse([result("Error", "", exc.status_code, str(exc.detail))], status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return JSONResponse([result(where or "Body", "", 400, first.get("msg", "The request is invalid."))],
                            status_code=400)
