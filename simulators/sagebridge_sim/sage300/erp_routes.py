"""HTTP admin routes of the ERP-side driver (erp_driver.py): changes made inside Sage, for tests and the
dev stack. No auth, never faulted (FaultMiddleware skips `/_sim/`). Bodies are JSON; numbers may be
JSON numbers or strings (floats are parsed as exact decimals). Answers are the rows written, as JSON
objects of their columns with DECIMAL values as strings ("12.5000"), SMALLINT as ints, CHAR trimmed.
A refused change is `{"error": message}` with 400 (or 404 for an unknown order/item/customer/row).

- `POST /_sim/erp/ship` `{"order": "ORD000100001" | 100001, "tracking": "1Z999", "lines": [{"line": 32,
  "quantity": "1"} | {"item": "A1-105/0", "quantity": 1}] (optional: all outstanding),
  "shipvia": "UPSGRD" (optional), "shipdate": 20261202 (optional)}` -> 201 `{"OESHIH": row, "OESHID": [rows],
  "OEORDH": row, "OEORDH1": row, "OEORDD": [rows], "ICILOC": [rows]}`
- `POST /_sim/erp/stock` `{"item": "A1-105/0", "location": "1", "quantity": "5", "kind": "receive" |
  "adjust" | "on_hand"}` (default receive) -> the ICILOC row
- `POST /_sim/erp/price` `{"item", "price", "price_list": "WEB", "currency": "USD", "price_type": 1,
  "unit": "EA", "sale_start": 0, "sale_end": 0}` -> the ICPRICP row
- `POST /_sim/erp/item` `{"item": "A1-105/0", "changes": {"DESC": "...", "INACTIVE": 1, "ALLOWONWEB": 0,
  "CATEGORY": "LAMPS"}}` -> the ICITEM row
- `POST /_sim/erp/customer` `{"customer": "1200", "changes": {"EMAIL2": "...", "NAMECUST": "..."}}` -> the ARCUS row
- `POST /_sim/erp/hold` `{"order", "reason"}`, `POST /_sim/erp/release` `{"order"}` -> `{"OEORDH", "OEORDH1"}`
- `POST /_sim/erp/complete` `{"order"}` -> `{"OEORDH", "OEORDD", "ICILOC"}`
- `POST /_sim/erp/delete` `{"table": "ICILOC", "key": "A1400|1" | {"ITEMNO": "A1400", "LOCATION": "1"}}`
  -> the deleted row
- `POST /_sim/erp/burst` `{"updates": 1000, "items": 1000, "location": "1", "same_stamp": true,
  "prefix": "BURST"}` -> `{"updates", "items", "stamps": [[date, time], ...], "ICILOC": [rows]}`
- `POST /_sim/erp/clock` `{"time_zone": "America/Vancouver" | "UTC" (optional), "freeze": true |
  "2026-12-02T04:00:00+00:00" | [20261202, 4000000] | false (optional)}` -> `{"time_zone", "frozen": [date,
  time] | null, "now": [date, time]}`. A frozen clock stamps every row written by anyone (the Web API too)
  until `"freeze": false`.
- `GET /_sim/erp/rows/{TABLE}?COLUMN=value...` -> the rows (equality on the columns given, in key order)
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from .db import SCHEMA, RowError, stamp_of
from .erp_driver import ErpDriver, ErpError
from .http_errors import SageError, parse_json

if TYPE_CHECKING:
    from .state import SimState


def jsonable(value: Any) -> Any:
    """Rows -> JSON values with Decimals as exact strings."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def _need(body: dict[str, Any], name: str) -> Any:
    if body.get(name) is None:
        raise ErpError(f"{name} is required.")
    return body[name]


def _lines(body: dict[str, Any]) -> dict[int | str, Any] | None:
    lines = body.get("lines")
    if lines is None:
        return None
    if not isinstance(lines, list) or not all(isinstance(x, dict) for x in lines):
        raise ErpError('lines is a list of {"line": n | "item": number, "quantity": q}.')
    return {(int(x["line"]) if x.get("line") is not None else str(_need(x, "item"))): _need(x, "quantity")
            for x in lines}


def ship(driver: ErpDriver, body: dict[str, Any]) -> Any:
    return driver.ship_order(_need(body, "order"), str(_need(body, "tracking")), _lines(body),
                             body.get("shipvia"), body.get("shipdate"))


def stock(driver: ErpDriver, body: dict[str, Any]) -> Any:
    kinds = {"receive": driver.receive_stock, "adjust": driver.adjust_stock, "on_hand": driver.set_on_hand}
    kind = kinds.get(body.get("kind", "receive"))
    if kind is None:
        raise ErpError(f"kind is one of {sorted(kinds)}.")
    return kind(str(_need(body, "item")), str(_need(body, "location")), _need(body, "quantity"))


def price(driver: ErpDriver, body: dict[str, Any]) -> Any:
    return driver.set_price(str(_need(body, "item")), _need(body, "price"), body.get("price_list", "WEB"),
                            body.get("currency", "USD"), int(body.get("price_type", 1)), body.get("unit", "EA"),
                            int(body.get("sale_start", 0)), int(body.get("sale_end", 0)))


def item(driver: ErpDriver, body: dict[str, Any]) -> Any:
    return driver.set_item(str(_need(body, "item")), **_changes(body))


def customer(driver: ErpDriver, body: dict[str, Any]) -> Any:
    return driver.change_customer(str(_need(body, "customer")), **_changes(body))


def _changes(body: dict[str, Any]) -> dict[str, Any]:
    changes = _need(body, "changes")
    if not isinstance(changes, dict):
        raise ErpError("changes is an object of column names and values.")
    return changes


def clock(driver: ErpDriver, body: dict[str, Any]) -> Any:
    db = driver.db
    if "time_zone" in body:
        driver.set_time_zone(body["time_zone"])
    freeze = body.get("freeze")
    if freeze is False:
        db.stamp_override = None
    elif freeze is True:
        db.stamp_override = None
        db.stamp_override = db.stamp()
    elif isinstance(freeze, str):
        db.stamp_override = stamp_of(datetime.fromisoformat(freeze), db.time_zone)
    elif isinstance(freeze, list) and len(freeze) == 2:
        db.stamp_override = (int(freeze[0]), int(freeze[1]))
    elif freeze is not None:
        raise ErpError('freeze is true, false, an ISO time or [date, time].')
    return {"time_zone": str(db.time_zone), "frozen": db.stamp_override, "now": db.stamp()}


ROUTES: dict[str, Callable[[ErpDriver, dict[str, Any]], Any]] = {
    "ship": ship, "stock": stock, "price": price, "item": item, "customer": customer, "clock": clock,
    "hold": lambda d, b: d.hold_order(_need(b, "order"), str(b.get("reason", ""))),
    "release": lambda d, b: d.release_order(_need(b, "order")),
    "complete": lambda d, b: d.complete_order(_need(b, "order")),
    "delete": lambda d, b: d.delete_row(str(_need(b, "table")), _need(b, "key")),
    "burst": lambda d, b: d.burst(int(_need(b, "updates")), int(b.get("items", 1)), str(b.get("location", "1")),
                                  bool(b.get("same_stamp", True)), str(b.get("prefix", "BURST"))),
}


def run(driver: ErpDriver, name: str, raw: bytes) -> JSONResponse:
    """One admin change; a refused change answers {"error": message}."""
    try:
        body = parse_json(raw)
        if not isinstance(body, dict):
            raise ErpError("Send a JSON object.")
        result = ROUTES[name](driver, body)
    except ErpError as err:
        return JSONResponse({"error": str(err)}, status_code=err.status)
    except SageError as err:
        return JSONResponse({"error": err.message}, status_code=400)
    except (RowError, ValueError, TypeError, KeyError) as err:
        return JSONResponse({"error": str(err)}, status_code=400)
    return JSONResponse(jsonable(result), status_code=201 if name == "ship" else 200)


def rows(driver: ErpDriver, table: str, params: dict[str, str]) -> JSONResponse:
    t = SCHEMA.get(table.upper())
    if t is None:
        return JSONResponse({"error": f"Table {table} is not simulated."}, status_code=404)
    unknown = [k for k in params if k.upper() not in t.by_name]
    if unknown:
        return JSONResponse({"error": f"{t.name} has no column(s) {unknown}."}, status_code=400)
    try:
        found = driver.db.select(t.name, {k.upper(): v for k, v in params.items()} or None)
    except (RowError, ValueError) as err:
        return JSONResponse({"error": str(err)}, status_code=400)
    return JSONResponse(jsonable(found))


def install_erp_routes(app: FastAPI, sim: SimState) -> ErpDriver:
    """The routes of this module's docstring; returns the driver they use (`app.state.erp`)."""
    driver = ErpDriver(sim.db)
    app.state.erp = driver

    @app.post("/_sim/erp/{name}")
    async def erp_change(name: str, request: Request):
        if name not in ROUTES:
            return JSONResponse({"error": f"/_sim/erp/{name} is not a driver route."}, status_code=404)
        return await run_in_threadpool(run, driver, name, await request.body())

    @app.get("/_sim/erp/rows/{table}")
    async def erp_rows(table: str, request: Request):
        return await run_in_threadpool(rows, driver, table, dict(request.query_params))

    return driver
