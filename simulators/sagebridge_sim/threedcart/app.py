"""3dcart legacy SOAP "Store Web Service" simulator (shift4shop.md §4): `GET /cart.asmx?WSDL` serves
the project's WSDL with `soap:address` rewritten to this server, `POST /cart.asmx` answers SOAP 1.1.

Authentication as §4 describes it: every call carries `storeUrl` (the store's secure URL host) and
`userKey` (the 32-character API key); a wrong pair answers `<Error><Id>17</Id><Description>Login
Error</Description></Error>` inside the operation's result with HTTP 200, API disabled answers 18,
a caller outside the optional IP allow-list 16, a missing userKey node 1. Faults from the shared
`FaultInjector` (latency, 5xx, 429 with Retry-After, outages) apply to `/cart.asmx`; `/_sim/...`
is the unfaulted control surface (`admin.py`).
"""
from __future__ import annotations

import asyncio
import hmac
import threading
from collections import defaultdict
from importlib import resources
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.responses import Response

from ..faults import FaultInjector, FaultMiddleware, install_admin_routes
from .admin import install_sim_routes
from .documents import error_document
from .operations import Operations
from .soap import SoapFault, fault, parse_request, response
from .store import StoreError, ThreeDCartStore
from .write_log import WRITE_OPS, WriteLog, WriteLogMiddleware

XML = "text/xml; charset=utf-8"


def wsdl_text(base_url: str) -> bytes:
    """The WSDL shipped with this package (a copy of the connector's `threedcart/wsdl/cart.wsdl`;
    a test keeps the two identical) with the service address pointed at `base_url`."""
    raw = resources.files(__package__).joinpath("cart.wsdl").read_bytes()
    return raw.replace(b"https://api.3dcart.com/cart.asmx", f"{base_url}/cart.asmx".encode())


class CallStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def record(self, op: str, outcome: str) -> None:
        with self._lock:
            self.counts[op][outcome] += 1

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {k: dict(v) for k, v in self.counts.items()}


def _authenticate(store: ThreeDCartStore, params: dict[str, str], client_ip: str,
                  store_url: str, user_key: str) -> None:
    if not params.get("userKey"):
        raise StoreError(1, "UserKey node is missing")
    url_ok = hmac.compare_digest((params.get("storeUrl") or "").encode(), store_url.encode())
    key_ok = hmac.compare_digest(params["userKey"].encode(), user_key.encode())
    if not (url_ok and key_ok):
        raise StoreError(17, "Login Error")
    if not store.api_enabled:
        raise StoreError(18, "API not enabled")
    if store.allowed_ips and client_ip not in store.allowed_ips:
        raise StoreError(16, "Invalid IP Address")


def create_app(store: ThreeDCartStore, *, store_url: str, user_key: str, time_zone: str = "America/New_York",
               injector: FaultInjector | None = None) -> FastAPI:
    if not store_url or not user_key:
        raise ValueError("store_url and user_key are required (THREEDCART_STORE_URL / THREEDCART_USER_KEY)")
    injector = injector or FaultInjector()
    zone = ZoneInfo(time_zone)
    ops = Operations(store, zone)
    writes = WriteLog()
    stats = CallStats()
    app = FastAPI(title="3dcart Store Web Service simulator")
    app.state.store, app.state.injector, app.state.writes, app.state.stats = store, injector, writes, stats

    @app.get("/cart.asmx")
    def get_wsdl(request: Request) -> Response:
        if "wsdl" not in {k.lower() for k in request.query_params.keys()}:
            return Response("Use ?WSDL or POST a SOAP request", status_code=400, media_type="text/plain")
        base = str(request.base_url).rstrip("/")
        return Response(wsdl_text(base), media_type=XML)

    @app.post("/cart.asmx")
    async def soap_call(request: Request) -> Response:
        try:
            op, params = parse_request(await request.body(), request.headers.get("soapaction"))
        except SoapFault as f:
            stats.record("?", "fault")
            return Response(fault(f.code, f.message), status_code=500, media_type=XML)
        handler = ops.handler(op)
        if handler is None:
            stats.record(op, "fault")
            return Response(fault("soap:Client", f"Server did not recognize the operation {op}"), 500,
                            media_type=XML)
        try:
            _authenticate(store, params, request.client.host if request.client else "", store_url, user_key)
            if op in WRITE_OPS:          # the fault plan's late commit: the write lands after the client gave up
                delay = injector.commit_delay("POST")
                if delay:
                    await asyncio.sleep(delay)
            document = handler(params)
            stats.record(op, "ok")
        except StoreError as e:
            document = error_document(e.code, e.description)
            stats.record(op, f"error_{e.code}")
        return Response(response(op, document), media_type=XML)

    install_admin_routes(app, injector)
    install_sim_routes(app, store, writes, stats)
    app.add_middleware(FaultMiddleware, injector=injector, error_body=_fault_body)
    app.add_middleware(WriteLogMiddleware, log=writes)
    return app


def _fault_body(status: int) -> dict:
    return {"message": f"simulated HTTP {status} in front of cart.asmx"}


__all__ = ["create_app", "wsdl_text"]
