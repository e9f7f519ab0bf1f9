"""REST routes of orders, shipments, transactions and the status catalogue (shift4shop.md §1.4).

- `GET /Orders` (filters in `query`, paging in `wire.Paging`), `GET /Orders/{orderid}` (an array of
  one, §1.1), `PUT /Orders/{orderid}` and batch `PUT /Orders` (`[{"OrderID":..,...}]`, §1.4 recorded).
- `GET/POST/PUT /Orders/{orderid}/Shipments`, `PUT /Orders/{orderid}/Shipments/{shipmentid}`.
- `GET /Orders/{orderid}/Transactions`, `GET /OrderStatus`, `GET /OrderStatus/{id}`.
PUT answers 200 with `[{Key, Value, Status, Message}]` per record (§1.4, H); POST 201 with
`[{"Key":"ShipmentID","Value":..,"Status":"201","Message":"Created successfully"}]` (§1.4 POST shape).
In a batch each record stands alone: an unknown id fails with its own Status 404, a bad value 400,
while the others are written; the HTTP status stays 200. Writes wait `commit_delay` (shared fault
plan, commit-late) after the body was read and before they commit.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from .api_common import Context, batch_limit, commit_late, path_id
from .query import order_filters
from .values import FieldError, as_api_error
from .wire import ApiError, array_body, json_body, object_body, respond, result


def order_routes(r: APIRouter, ctx: Context) -> None:
    store, paging = ctx.store, ctx.paging

    @r.get("/Orders")
    def list_orders(request: Request):
        filters = order_filters(request.query_params, store.clock)
        return paging.answer(request, lambda offset, limit: store.orders.query(filters, offset, limit), "Order")

    @r.get("/Orders/{oid}")
    def get_order(oid: str):
        order = store.orders.get(path_id(oid, "OrderID"))
        if order is None:
            raise ApiError(404, "Order not found", "OrderID", oid)
        return respond([order])

    @r.put("/Orders/{oid}")
    async def put_order(oid: str, request: Request):
        order_id = path_id(oid, "OrderID")
        body = await object_body(request)
        await commit_late(ctx, request)
        status, message = _update_one(ctx, order_id, body)
        if status != 200:
            raise ApiError(status, message, "OrderID", str(order_id))
        return respond([result("OrderID", order_id, 200, message)])

    @r.put("/Orders")
    async def put_orders(request: Request):
        items = await array_body(request, batch_limit(ctx))
        await commit_late(ctx, request)
        out = []
        for item in items:
            raw_id = item.get("OrderID") if isinstance(item, dict) else None
            try:
                order_id = int(raw_id)
            except (TypeError, ValueError):
                out.append(result("OrderID", raw_id if raw_id is not None else "", 400, "OrderID is required"))
                continue
            status, message = _update_one(ctx, order_id, item)
            out.append(result("OrderID", order_id, status, message))
        return respond(out)

    _shipment_routes(r, ctx)
    _read_only_routes(r, ctx)


def _update_one(ctx: Context, order_id: int, body: dict[str, Any]) -> tuple[int, str]:
    try:
        found = ctx.store.orders.update(order_id, body)
    except FieldError as e:
        return 400, str(e)
    return (200, "updated successfully") if found else (404, "Order not found")


def _shipment_routes(r: APIRouter, ctx: Context) -> None:
    store = ctx.store

    @r.get("/Orders/{oid}/Shipments")
    def get_shipments(oid: str, request: Request):
        rows = store.orders.children(path_id(oid, "OrderID"), "ShipmentList")
        if rows is None:
            raise ApiError(404, "Order not found", "OrderID", oid)
        return ctx.paging.page(request, rows, "Shipment")

    @r.post("/Orders/{oid}/Shipments")
    async def post_shipments(oid: str, request: Request):
        order_id = path_id(oid, "OrderID")
        body = await _object_or_array(request, ctx)
        await commit_late(ctx, request)
        out = []
        for item in body:
            try:
                sid = store.orders.add_shipment(order_id, item)
            except FieldError as e:
                raise as_api_error(e) from None
            if sid is None:
                raise ApiError(404, "Order not found", "OrderID", str(order_id))
            out.append(result("ShipmentID", sid, 201, "Created successfully"))
        return respond(out, 201)

    @r.put("/Orders/{oid}/Shipments")
    async def put_shipments(oid: str, request: Request):
        order_id = path_id(oid, "OrderID")
        items = await array_body(request, batch_limit(ctx))
        await commit_late(ctx, request)
        out = []
        for item in items:
            raw = item.get("ShipmentID") if isinstance(item, dict) else None
            try:
                sid = int(raw)
            except (TypeError, ValueError):
                out.append(result("ShipmentID", raw if raw is not None else "", 400, "ShipmentID is required"))
                continue
            out.append(result("ShipmentID", sid, *_shipment_update(ctx, order_id, sid, item)))
        return respond(out)

    @r.put("/Orders/{oid}/Shipments/{sid}")
    async def put_shipment(oid: str, sid: str, request: Request):
        order_id, shipment_id = path_id(oid, "OrderID"), path_id(sid, "ShipmentID")
        body = await object_body(request)
        await commit_late(ctx, request)
        status, message = _shipment_update(ctx, order_id, shipment_id, body)
        if status != 200:
            raise ApiError(status, message, "ShipmentID", str(shipment_id))
        return respond([result("ShipmentID", shipment_id, 200, message)])


def _shipment_update(ctx: Context, order_id: int, shipment_id: int, body: dict[str, Any]) -> tuple[int, str]:
    try:
        outcome = ctx.store.orders.update_shipment(order_id, shipment_id, body)
    except FieldError as e:
        return 400, str(e)
    return {"ok": (200, "updated successfully"), "no_order": (404, "Order not found"),
            "no_shipment": (404, "Shipment not found")}[outcome]


async def _object_or_array(request: Request, ctx: Context) -> list[dict[str, Any]]:
    """POST bodies: one object or an array of them (each must be an object)."""
    body = await json_body(request)
    items = body if isinstance(body, list) else [body]
    if not items or not all(isinstance(i, dict) for i in items):
        raise ApiError(400, "The request is invalid: expected an object or an array of objects.", "Body")
    if len(items) > batch_limit(ctx):
        raise ApiError(400, f"Too many records in one request ({len(items)}); the maximum is {batch_limit(ctx)}.",
                       "Body", str(len(items)))
    return items


def _read_only_routes(r: APIRouter, ctx: Context) -> None:
    store = ctx.store

    @r.get("/Orders/{oid}/Transactions")
    def get_transactions(oid: str, request: Request):
        rows = store.orders.children(path_id(oid, "OrderID"), "TransactionList")
        if rows is None:
            raise ApiError(404, "Order not found", "OrderID", oid)
        return ctx.paging.page(request, rows, "Transaction")

    @r.get("/OrderStatus")
    def list_statuses():
        """All status rows at once: the reference documents no paging for the catalogue."""
        return respond(store.statuses.list())

    @r.get("/OrderStatus/{sid}")
    def get_status(sid: str):
        status_id = path_id(sid, "OrderStatusID")
        rows = [row for row in store.statuses.list() if row["OrderStatusID"] == status_id]
        if not rows:
            raise ApiError(404, "Order status not found", "OrderStatusID", sid)
        return respond(rows)
