"""The Sage Pro simulator's control server: ERP-side changes and faults over HTTP, for tests and the
dev stack (`python -m sagebridge_sim.sagepro`).

Sage Pro has no API (reference sage300_sagepro.md §3: VFP tables reached through ODBC), so the hub
never talks to this server: it reaches the database directly. The routes only play the clerks and
the other workstations. No auth. Bodies are JSON; numbers may be JSON numbers or strings (read as
exact decimals); answers are rows as {logical field: value}, Decimals as strings ("12.50"), dates
ISO, chars stripped. A refused change is `{"error": message}` with 400 (404 for an unknown item,
customer or order).

- `POST /_sim/stock` `{"item", "on_hand" | "delta", "location"?, "committed"?}` -> the iciloc row
- `POST /_sim/stock/bulk` `{"changes": [{"item", "on_hand"}], "location"?}` -> `{"rows": n}` (one transaction)
- `POST /_sim/price` `{"item", "price", "pcode": "WEB" | null (icitem.price)}` -> the row
- `POST /_sim/items` `{"item", "descrip"?, "price"?, "on_hand"?, ...}` (new) ; `POST /_sim/item`
  `{"item", "changes": {...}}` (edit) ; `POST /_sim/delete_item` `{"item"}` -> rows deleted per table
- `POST /_sim/customers` `{"custno", ...}` (new) ; `POST /_sim/customer` `{"custno", "changes": {...}}`
- `POST /_sim/ship` `{"sono" | "ponum", "tracking", "shipvia"?, "shipdate"?, "relieve_stock"?}` -> state_of_order
- `POST /_sim/orders` `{"custno", "lines": [{"item", "qtyord", "price"}], "ponum"?, "address"?, "header"?}`
  -> state_of_order (an order keyed in Sage Pro itself, numbered from the numbering row)
- `POST /_sim/order_status` `{"sono" | "ponum", "status": "" | "H" | "C" | "X" | ...}` -> state_of_order
- `GET /_sim/state_of_order?sono=|ponum=` -> `{"header", "address", "lines"}`
- `GET /_sim/orders?ponum=` -> headers ; `GET /_sim/rows/{logical table}?field=value` -> rows
- `GET /_sim/stats` -> rows per table, `last_number`, the locks held
- `POST /_sim/faults/lock` `{"table": "numbering" | logical | physical, "seconds": N, "mode": "write" | "all"}`
  -> answers once the lock is HELD (another connection's transaction); `DELETE /_sim/faults/lock`
  releases every hold; `GET /_sim/faults`
- `POST /_sim/reset` `{"seed": true}` -> orders deleted, locks released, demo company seeded again
"""
from __future__ import annotations

import json
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any, Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from .db import SageProDb
from .demo import seed_demo
from .driver import ErpError, SageProDriver
from .locks import LockBook
from .values import ValueRefused, jsonable

ORDER_TABLES = ("order_line", "order_address", "order_header")


def _need(body: dict[str, Any], name: str) -> Any:
    if body.get(name) is None:
        raise ErpError(f"{name} is required")
    return body[name]


def _changes(body: dict[str, Any]) -> dict[str, Any]:
    changes = _need(body, "changes")
    if not isinstance(changes, dict):
        raise ErpError("changes is an object of field names and values")
    return changes


def _stock(d: SageProDriver, b: dict[str, Any]) -> Any:
    if b.get("delta") is not None:
        return d.adjust_stock(str(_need(b, "item")), b["delta"], b.get("location"))
    return d.set_stock(str(_need(b, "item")), _need(b, "on_hand"), b.get("location"), b.get("committed"))


def _bulk(d: SageProDriver, b: dict[str, Any]) -> Any:
    changes = _need(b, "changes")
    if not isinstance(changes, list):
        raise ErpError('changes is a list of {"item", "on_hand"}')
    return {"rows": len(d.bulk_stock([(str(_need(c, "item")), _need(c, "on_hand")) for c in changes],
                                     b.get("location")))}


def _add_item(d: SageProDriver, b: dict[str, Any]) -> Any:
    fields = {k: v for k, v in b.items() if k != "item"}
    return d.add_item(str(_need(b, "item")), **fields)


def _add_customer(d: SageProDriver, b: dict[str, Any]) -> Any:
    return d.add_customer(str(_need(b, "custno")), **{k: v for k, v in b.items() if k != "custno"})


def _ship(d: SageProDriver, b: dict[str, Any]) -> Any:
    return d.ship_order(b.get("sono"), b.get("ponum"), str(b.get("tracking", "")), b.get("shipvia"),
                        b.get("shipdate"), bool(b.get("relieve_stock", True)))


POSTS: dict[str, Callable[[SageProDriver, dict[str, Any]], Any]] = {
    "stock": _stock, "stock/bulk": _bulk, "items": _add_item, "customers": _add_customer, "ship": _ship,
    "price": lambda d, b: d.set_price(str(_need(b, "item")), _need(b, "price"), b.get("pcode", "WEB")),
    "item": lambda d, b: d.set_item(str(_need(b, "item")), **_changes(b)),
    "delete_item": lambda d, b: d.delete_item(str(_need(b, "item"))),
    "customer": lambda d, b: d.edit_customer(str(_need(b, "custno")), **_changes(b)),
    "orders": lambda d, b: d.enter_order(str(_need(b, "custno")), _need(b, "lines"), str(b.get("ponum", "")),
                                         b.get("address"), **dict(b.get("header") or {})),
    "order_status": lambda d, b: d.set_order_status(str(b.get("status", "")), b.get("sono"), b.get("ponum")),
}


def answer(fn: Callable[[], Any], status: int = 200) -> JSONResponse:
    """Runs one driver call; a refused change answers {"error": message}."""
    try:
        return JSONResponse(jsonable(fn()), status_code=status)
    except ErpError as e:
        return JSONResponse({"error": str(e)}, status_code=e.status)
    except (ValueRefused, ValueError, KeyError, TypeError) as e:
        return JSONResponse({"error": str(e).strip('"')}, status_code=400)
    except RuntimeError as e:                  # a lock the database did not grant
        return JSONResponse({"error": str(e)}, status_code=409)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    body = json.loads(raw or b"{}", parse_float=Decimal)
    if not isinstance(body, dict):
        raise ErpError("send a JSON object")
    return body


def reset(db: SageProDb, locks: LockBook, seed: bool) -> dict[str, Any]:
    released = locks.release_all()
    with db.transaction() as cur:
        deleted = {t: db.delete(cur, t, None) for t in ORDER_TABLES}
    return {"deleted": deleted, "locks_released": released, "seeded": seed_demo(db) if seed else None}


def create_app(db: SageProDb, *, location: str = "MAIN") -> FastAPI:
    """The control app over an existing company database; `app.state` has db, driver, locks."""
    driver = SageProDriver(db, location=location)
    locks = LockBook(db)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        locks.release_all()          # a stopped simulator leaves no transaction open

    app = FastAPI(title="Sage Pro simulator (ERP side)", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.state.db, app.state.driver, app.state.locks = db, driver, locks

    @app.post("/_sim/{name:path}")
    async def post(name: str, request: Request):
        try:
            body = await _body(request)
        except (ErpError, ValueError) as e:
            return JSONResponse({"error": str(e)}, status_code=400)
        if name == "faults/lock":
            return await run_in_threadpool(answer, lambda: locks.hold(
                str(_need(body, "table")), float(_need(body, "seconds")), str(body.get("mode", "write"))).view())
        if name == "reset":
            return await run_in_threadpool(answer, lambda: reset(db, locks, bool(body.get("seed", True))))
        route = POSTS.get(name)
        if route is None:
            return JSONResponse({"error": f"no route /_sim/{name}"}, status_code=404)
        return await run_in_threadpool(answer, lambda: route(driver, body))

    @app.delete("/_sim/faults/lock")
    async def release_locks():
        return {"released": await run_in_threadpool(locks.release_all)}

    @app.get("/_sim/faults")
    async def faults():
        return {"locks": locks.view()}

    @app.get("/_sim/stats")
    async def stats():
        return await run_in_threadpool(answer, lambda: {**driver.counts(), "locks": locks.view()})

    @app.get("/_sim/state_of_order")
    async def state_of_order(sono: str | None = None, ponum: str | None = None):
        return await run_in_threadpool(answer, lambda: driver.state_of_order(sono, ponum))

    @app.get("/_sim/orders")
    async def orders(ponum: str | None = None):
        return await run_in_threadpool(answer, lambda: driver.orders(ponum))

    @app.get("/_sim/rows/{logical}")
    async def rows(logical: str, request: Request):
        where = dict(request.query_params)
        return await run_in_threadpool(answer, lambda: driver.rows(logical, **where))

    return app
