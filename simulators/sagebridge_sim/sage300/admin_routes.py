"""Simulator admin routes (no auth, never faulted: FaultMiddleware skips `/_sim/`).

`GET /_sim/orders` (every order with details and `received_at_ms`), `GET /_sim/stats`, `POST /_sim/reset`,
`POST /_sim/customers/{id}` (change ARCustomers properties as an administrator would in A/R Customers,
e.g. `{"CheckForDuplicatePOs": "Error"}`).
"""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool

from .ar_customers import update_customer
from .conversions import audit_ms
from .http_errors import SageError, SageJSON, error_response, parse_json
from .oe_orders import line_entry

if TYPE_CHECKING:
    from .state import SimState


def all_orders(sim: SimState) -> list[dict[str, Any]]:
    """Every order as a Web API entry (with details) plus `received_at_ms`."""
    resource = sim.resources[("OE", "OEORDERS")]
    rows = sim.db.order_rows()
    lines: dict[Decimal, list[dict]] = {}
    for line in sim.db.select("OEORDD"):
        lines.setdefault(line["ORDUNIQ"], []).append(line_entry(line))
    out = []
    for h, h1 in rows:
        entry = resource.entry({"OEORDH": h, "OEORDH1": h1})
        entry["OrderDetails"] = lines.get(h["ORDUNIQ"], [])
        entry["received_at_ms"] = sim.received_ms.get(int(h["ORDUNIQ"])) or audit_ms(h)
        out.append(entry)
    return out


def stats(sim: SimState) -> dict[str, Any]:
    with sim.lock:
        requests = [{"method": m, "resource": r, "status": s, "count": n}
                    for (m, r, s), n in sorted(sim.requests.items())]
        posts = sim.order_posts
    return {"requests": requests, "order_posts": posts, "orders": len(sim.db.select("OEORDH")),
            "faults_injected": sim.injector.snapshot()["injected"]}


def reset(sim: SimState) -> dict[str, Any]:
    cleared = sim.db.clear_orders()
    with sim.lock:
        sim.requests.clear()
        sim.order_posts = 0
        sim.received_ms.clear()
    return {"cleared_orders": cleared}


def install_sim_routes(app: FastAPI, sim: SimState) -> None:
    """`/_sim/orders`, `/_sim/stats`, `/_sim/reset` (no auth, never faulted)."""

    @app.get("/_sim/orders")
    async def sim_orders():
        return SageJSON(await run_in_threadpool(all_orders, sim))

    @app.get("/_sim/stats")
    async def sim_stats():
        return SageJSON(await run_in_threadpool(stats, sim))

    @app.post("/_sim/reset")
    async def sim_reset():
        return SageJSON(await run_in_threadpool(reset, sim))

    @app.post("/_sim/customers/{number}")
    async def sim_customer(number: str, request: Request):
        try:
            return SageJSON(await run_in_threadpool(update_customer, sim, number, parse_json(await request.body())))
        except SageError as err:
            return error_response(err)
