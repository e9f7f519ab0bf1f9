"""Simulator admin routes (no auth, never faulted: FaultMiddleware skips `/_sim/`).

`GET /_sim/orders` (every order with details and `received_at_ms`; `?reference=R`, repeatable, only those
orders, read by the indexed REFERENCE column: tests poll it while thousands of orders exist), `GET /_sim/stats`, `POST /_sim/reset`
(clears orders and shipments, receipt/adjustment batches and journal batches; seeds and customers stay),
`GET /_sim/customers`, `POST /_sim/customers/{id}` (change ARCustomers properties as an administrator
would in A/R Customers, e.g. `{"CheckForDuplicatePOs": "Error"}`), `GET /_sim/receipts` (every CA and AD
batch with its entries; `?reference=R` only the batches whose Description starts with `R-`), `GET /_sim/journals`, `POST /_sim/record_locks` (the next N writes of a resource refused with `General`), `DELETE /_sim/orders/{OrderNumber}` (an order deleted in
O/E, its committed stock given back) and `POST /_sim/orders/{OrderNumber}/duplicate` (a clerk re-keying
the order by hand: a new ORDUNIQ/ORDNUMBER with the same reference, PO number, lines and totals; the
duplicate-PO check does not run, as it would not for a clerk's order under a customer set to Warning).
"""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Query, Request
from starlette.concurrency import run_in_threadpool

from .ar_customers import update_customer
from .conversions import audit_ms
from .db import AUDIT
from .http_errors import SageError, SageJSON, error_response, not_found, parse_json
from .ledger_tables import clear_documents
from .oe_orders import line_entry

if TYPE_CHECKING:
    from .state import SimState


def all_orders(sim: SimState, references: list[str] | None = None) -> list[dict[str, Any]]:
    """Every order (or those with the given references) as a Web API entry (with details) plus
    `received_at_ms`."""
    resource = sim.resources[("OE", "OEORDERS")]
    lines: dict[Decimal, list[dict]] = {}
    if references:
        rows = [r for ref in references if len(ref) <= 60 for r in sim.db.order_rows({"REFERENCE": ref})]
        for h, _h1 in rows:
            lines[h["ORDUNIQ"]] = [line_entry(line) for line in sim.db.order_lines(h["ORDUNIQ"])]
    else:
        rows = sim.db.order_rows()
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
    documents = clear_documents(sim.db)
    with sim.lock:
        sim.requests.clear()
        sim.record_locks.clear()
        sim.order_posts = 0
        sim.received_ms.clear()
    return {"cleared_orders": cleared, **documents}


def all_entries(sim: SimState, module: str, name: str, description_prefix: str | None = None) -> list[dict[str, Any]]:
    """Every entry of a resource, details expanded (no paging); with `description_prefix` only the
    entries whose Description starts with it, filtered before the details are read."""
    resource = sim.resources[(module, name)]
    entries = resource.load(sim.db, None)
    if description_prefix is not None:
        entries = [e for e in entries if str(e.get("Description") or "").startswith(description_prefix)]
    return resource.expand(sim.db, entries)


def _order_by_number(sim: SimState, number: str) -> tuple[dict, dict]:
    rows = sim.db.order_rows({"ORDNUMBER": number}) if len(number) <= 22 else []
    if not rows:
        raise not_found(f"Order {number} was not found.")
    return rows[0]


def delete_order(sim: SimState, number: str) -> dict[str, Any]:
    header, _ = _order_by_number(sim, number)
    sim.db.delete_order(header["ORDUNIQ"])
    return {"deleted": number, "OrderUniquifier": int(header["ORDUNIQ"])}


def duplicate_order(sim: SimState, number: str) -> dict[str, Any]:
    header, header1 = _order_by_number(sim, number)
    generated = {c.name for c in AUDIT} | {"ORDUNIQ", "ORDNUMBER", "LINENUM"}

    def copy(row: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in row.items() if k not in generated}

    lines = [copy(line) for line in sim.db.order_lines(header["ORDUNIQ"])]
    orduniq = sim.db.create_order(copy(header), copy(header1), lines, user=sim.user)
    resource = sim.resources[("OE", "OEORDERS")]
    found = resource.load(sim.db, {"ORDUNIQ": orduniq})
    return resource.expand(sim.db, found)[0]


def install_sim_routes(app: FastAPI, sim: SimState) -> None:
    """The routes of this module's docstring."""

    @app.get("/_sim/orders")
    async def sim_orders(reference: list[str] | None = Query(None)):
        return SageJSON(await run_in_threadpool(all_orders, sim, reference))

    @app.get("/_sim/stats")
    async def sim_stats():
        return SageJSON(await run_in_threadpool(stats, sim))

    @app.post("/_sim/reset")
    async def sim_reset():
        return SageJSON(await run_in_threadpool(reset, sim))

    @app.get("/_sim/customers")
    async def sim_customers():
        return SageJSON(await run_in_threadpool(all_entries, sim, "AR", "ARCUSTOMERS"))

    @app.get("/_sim/receipts")
    async def sim_receipts(reference: str | None = None):
        prefix = None if reference is None else f"{reference}-"
        return SageJSON(await run_in_threadpool(all_entries, sim, "AR", "ARRECEIPTANDADJUSTMENTBATCHES", prefix))

    @app.get("/_sim/journals")
    async def sim_journals():
        return SageJSON(await run_in_threadpool(all_entries, sim, "GL", "GLJOURNALBATCHES"))

    @app.delete("/_sim/orders/{number}")
    async def sim_delete_order(number: str):
        try:
            return SageJSON(await run_in_threadpool(delete_order, sim, number))
        except SageError as err:
            return error_response(err)

    @app.post("/_sim/orders/{number}/duplicate")
    async def sim_duplicate_order(number: str):
        try:
            return SageJSON(await run_in_threadpool(duplicate_order, sim, number), status_code=201)
        except SageError as err:
            return error_response(err)

    @app.post("/_sim/record_locks")
    async def sim_record_locks(request: Request):
        """`{"resource": "ARReceiptAndAdjustmentBatches", "count": 2}`: the next 2 writes of that resource
        are refused with `General` (a record lock); `count` 0 lifts it."""
        body = parse_json(await request.body())
        if not isinstance(body, dict) or not isinstance(body.get("resource"), str) or \
                not isinstance(body.get("count"), int) or body["count"] < 0:
            return error_response(SageError(400, "InvalidPayload", "Send {\"resource\": name, \"count\": n >= 0}."))
        with sim.lock:
            sim.record_locks[body["resource"]] = body["count"]
            return SageJSON(dict(sim.record_locks))

    @app.post("/_sim/customers/{number}")
    async def sim_customer(number: str, request: Request):
        try:
            return SageJSON(await run_in_threadpool(update_customer, sim, number, parse_json(await request.body())))
        except SageError as err:
            return error_response(err)
