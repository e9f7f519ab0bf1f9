"""Sage 300 Web API simulator: a FastAPI app over the real Sage 300 tables in `Sage300Database`.

Why: the hub's `erp_writer` must survive the real Web API's habits (Basic auth on every call,
Content-Type required even on GET, OData feeds with string `odata.count` and 100-row pages, POST that
never deduplicates orders), and the CDC service must see the rows those calls leave behind.

Base path `/Sage300WebApi/v1.0/-/{company}/{Module}/{Resource}`. Resources (catalog.py):
  OE/OEOrders (GET feed, GET `(OrderUniquifier)`, POST), AR/ARCustomers (GET, GET `('ID')`, POST, PATCH),
  AR/ARReceiptAndAdjustmentBatches (GET, GET `(BatchRecordType='CA',BatchNumber=1)`, POST),
  GL/GLJournalBatches (GET, GET `('000001')`, POST), CS/CSCurrencyCodes (GET),
  IC/ICItems (GET, GET `('UNFORMATTED')`), IC/ICLocations, OE/OEShipViaCodes, OE/OEMiscellaneousCharges (GET).
Query options (queries.py): `$filter` (odata.py), `$top`, `$skip`, `$count=true` / `$inlinecount=allpages`,
`$select`. Request checks: state.py. Error bodies and status codes: http_errors.py. Admin: admin_routes.py.

Modules: http_errors (error body, JSON), conversions (column <-> JSON values), resources (table as entity
set), queries (GET), oe_orders / oe_order_build / oe_order_post (OE/OEOrders), ar_customers, ar_batches, gl_journals,
ledger_tables (their tables and seeds), catalog,
state, admin_routes, erp_driver / erp_routes (the ERP side: `/_sim/erp/...`); this module wires them into the app.
"""
from __future__ import annotations

import logging
import re
import time

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ..faults import FaultInjector, FaultMiddleware, install_admin_routes
from .admin_routes import all_orders, install_sim_routes, reset, stats
from .ar_batches import post_batch
from .ar_customers import patch_customer, post_customer
from .db import Sage300Database
from .erp_routes import install_erp_routes
from .gl_journals import post_journal
from .http_errors import SageError, error_response, fault_body, parse_json
from .oe_order_post import post_order
from .queries import API_ROOT, KEYED, get_feed, get_one
from .state import SimState, check_request

__all__ = ["create_app", "all_orders", "reset", "stats", "SimState"]

log = logging.getLogger(__name__)

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
POST_HANDLERS = {"OEOrders": post_order, "ARCustomers": post_customer,
                 "ARReceiptAndAdjustmentBatches": post_batch, "GLJournalBatches": post_journal}
PATCH_HANDLERS = {"ARCustomers": patch_customer}


def dispatch(sim: SimState, request: Request, module: str, resource_text: str, body: bytes,
             received_ms: int) -> Response:
    """Route one authenticated API request to its resource handler."""
    match = KEYED.match(resource_text)
    resource = sim.resources.get((module.upper(), match["name"].upper())) if match else None
    if resource is None:
        raise SageError(404, "ResourceNotFound", f"Resource {module}/{resource_text} was not found.")
    key_text = match["key"]
    if request.method == "GET":
        return get_one(sim, request, resource, key_text) if key_text is not None else get_feed(sim, request, resource)
    handler = POST_HANDLERS.get(resource.name) if request.method == "POST" and key_text is None else None
    if handler is not None:
        return handler(sim, request, resource, parse_json(body), received_ms)
    patch = PATCH_HANDLERS.get(resource.name) if request.method == "PATCH" and key_text is not None else None
    if patch is not None:
        return patch(sim, request, resource, key_text, parse_json(body))
    raise SageError(405, "MethodNotAllowed", f"{request.method} is not allowed on {resource.name}.")


_STATS_PATH = re.compile(r"^/Sage300WebApi/v1\.0/-/[^/]+/([^/]+)/([A-Za-z$]+)")


class StatsMiddleware:
    """Counts API requests by (method, Module/Resource, status), faults included."""

    def __init__(self, app, sim: SimState) -> None:
        self.app, self.sim = app, sim

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith("/_sim/"):
            return await self.app(scope, receive, send)
        match = _STATS_PATH.match(scope["path"])
        label = f"{match[1]}/{match[2]}" if match else scope["path"]

        async def counting_send(message):
            if message["type"] == "http.response.start":
                self.sim.count_request(scope["method"], label, message["status"])
            await send(message)

        return await self.app(scope, receive, counting_send)


def create_app(db: Sage300Database, company: str = "SAMINC", user: str = "WEBAPI", password: str = "SAGE300",
               injector: FaultInjector | None = None, page_size: int = 100, strict_tax: bool = True) -> FastAPI:
    """The simulator app. Creates the schema if missing (seeding is the caller's choice) and stamps
    AUDTORG with `company` and AUDTUSER with `user` on every row the API writes. `strict_tax`: an
    order's TaxAmount1 without `TaxOverride: true` is ignored (Sage computes the tax), as on a real server;
    False keeps it (only for replaying bodies of hub versions older than issue 6)."""
    db.org = company.upper()
    db.create_schema()
    injector = injector or FaultInjector()
    sim = SimState(db, company.upper(), user, password, page_size, injector, strict_tax=strict_tax)
    app = FastAPI(title="Sage 300 Web API simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sim = sim
    install_admin_routes(app, injector)
    install_sim_routes(app, sim)
    install_erp_routes(app, sim)

    @app.api_route(API_ROOT + "/{company}/{module}/{resource:path}", methods=ALL_METHODS)
    async def api(request: Request, company: str, module: str, resource: str):
        received_ms = int(time.time() * 1000)
        stop = check_request(sim, request, company)
        if stop is not None:
            return stop
        body = await request.body()
        try:
            return await run_in_threadpool(dispatch, sim, request, module, resource, body, received_ms)
        except SageError as err:
            return error_response(err)
        except Exception:  # noqa: BLE001 - the real server answers 500 with its error body
            log.exception("Sage 300 simulator failure")
            return error_response(SageError(500, "InternalServerError", "An internal error occurred."))

    @app.api_route("/Sage300WebApi/{rest:path}", methods=ALL_METHODS)
    async def unknown(request: Request, rest: str):
        stop = check_request(sim, request, None)
        return stop or error_response(SageError(404, "ResourceNotFound", f"/Sage300WebApi/{rest} was not found."))

    app.add_middleware(FaultMiddleware, injector=injector, error_body=fault_body)
    app.add_middleware(StatsMiddleware, sim=sim)
    return app
