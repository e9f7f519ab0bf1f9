"""Sage Intacct XML gateway simulator: the ASGI app (intacct.md §1; contract §1).

POST `/ia/xml/xmlgw.phtml` (logins) and `/na1/ia/xml/xmlgw.phtml` (the session endpoint that
getAPISession returns). Body = one `<request>` document; answers `text/xml` (intacct.md §1).
Bodies over `max_body_bytes` -> HTTP 413 (the real limit is not in the reference; the simulator
chose 5 MB). `/_sim/` admin routes are never faulted and never counted (admin_routes.py).
"""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from ..faults import FaultInjector
from .admin_routes import install_sim_routes
from .gateway import Credentials, Gateway
from .seed import seed_demo
from .sessions import LOGIN_PATH, SESSION_PATH, SessionBook
from .sim_faults import IntacctFaultMiddleware, IntacctFaultState, html
from .state import CompanyState
from .values import CompanyClock
from .wire import Failure, control_failure, parse_request

XML = 'text/xml; encoding="UTF-8"'
MAX_BODY = 5 * 1024 * 1024


def create_app(creds: Credentials, *, tz: str = "America/Los_Angeles", seed: bool = True,
               injector: FaultInjector | None = None, max_body_bytes: int = MAX_BODY,
               session_timeout_s: float = 7200.0) -> FastAPI:
    """`app.state` exposes `company` (CompanyState), `sessions`, `injector`, `intacct_faults`."""
    injector = injector or FaultInjector()
    state = CompanyState(creds.company_id, CompanyClock(tz))
    if seed:
        seed_demo(state)
    sessions = SessionBook(session_timeout_s)
    faults = IntacctFaultState()
    gateway = Gateway(state, creds, sessions)
    app = FastAPI(title="Sage Intacct XML gateway simulator", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.company, app.state.sessions, app.state.injector = state, sessions, injector
    app.state.intacct_faults, app.state.seed = faults, seed

    async def endpoint(request: Request) -> Response:
        body = await request.body()
        if len(body) > max_body_bytes:
            return Response(html(413), status_code=413, media_type="text/html")
        if faults.take_offline():
            return Response(control_failure([_offline()]), status_code=faults.plan.offline_status, media_type=XML)
        req = None
        try:
            req = parse_request(body)
            base = f"{request.url.scheme}://{request.url.netloc}"
            doc, wrote = gateway.handle(req, request.url.path, base)
        except Failure as f:
            return Response(control_failure(f.errors, req), status_code=f.status, media_type=XML)
        if wrote and faults.take_524():
            return Response(html(524), status_code=524, media_type="text/html")
        return Response(doc, media_type=XML)

    for path in (LOGIN_PATH, SESSION_PATH):
        app.add_api_route(path, endpoint, methods=["POST"])
    install_sim_routes(app)
    app.add_middleware(IntacctFaultMiddleware, injector=injector, faults=faults)
    return app


def _offline():
    from .sim_faults import OFFLINE
    return OFFLINE
