"""REST routes of customers and webhook subscriptions (shift4shop.md §1.3, §1.4, §2.3, §3).

- `GET /Customers` (email, firstname, lastname, lastupdatestart/end, limit/offset/countonly),
  `GET /Customers/{id}` (array of one), `POST /Customers` (one Customer object; 201 with
  `[{"Key":"CustomerID","Value":..,"Status":"201","Message":"Created successfully"}]`),
  `PUT /Customers/{id}` (200, `[{Key:"CustomerID",...,"updated successfully"}]`), batch `PUT /Customers`
  (array with CustomerID; per-item results, each item standing alone as for products, §1.4).
- `GET /Webhooks` (name, url, enabled, format filters; paging), `POST /Webhooks` (201,
  `[{"Key":"Id","Value":..,"Status":"201","Message":"Created successfully"}]` as the help sample shows,
  §1.4), `GET /Webhooks/Events`.
"""
from __future__ import annotations

from fastapi import APIRouter, Request

from .api_common import Context, batch_limit, commit_late, path_id
from .query import customer_filters
from .values import FieldError, as_api_error
from .webhooks import webhook_filters
from .wire import ApiError, array_body, object_body, respond, result


def customer_routes(r: APIRouter, ctx: Context) -> None:
    store, paging = ctx.store, ctx.paging

    @r.get("/Customers")
    def list_customers(request: Request):
        filters = customer_filters(request.query_params, store.clock)
        return paging.answer(request, lambda offset, limit: store.customers.query(filters, offset, limit),
                             "Customer")

    @r.get("/Customers/{cid}")
    def get_customer(cid: str):
        customer = store.customers.get(path_id(cid, "CustomerID"))
        if customer is None:
            raise ApiError(404, "Customer not found", "CustomerID", cid)
        return respond([customer])

    @r.post("/Customers")
    async def post_customer(request: Request):
        body = await object_body(request)
        await commit_late(ctx, request)
        try:
            created = store.customers.create(body)
        except FieldError as e:
            raise as_api_error(e) from None
        return respond([result("CustomerID", created["CustomerID"], 201, "Created successfully")], 201)

    @r.put("/Customers/{cid}")
    async def put_customer(cid: str, request: Request):
        customer_id = path_id(cid, "CustomerID")
        body = await object_body(request)
        await commit_late(ctx, request)
        status, message = _update_one(ctx, customer_id, body)
        if status != 200:
            raise ApiError(status, message, "CustomerID", str(customer_id))
        return respond([result("CustomerID", customer_id, 200, message)])

    @r.put("/Customers")
    async def put_customers(request: Request):
        items = await array_body(request, batch_limit(ctx))
        await commit_late(ctx, request)
        out = []
        for item in items:
            raw = item.get("CustomerID") if isinstance(item, dict) else None
            try:
                customer_id = int(raw)
            except (TypeError, ValueError):
                out.append(result("CustomerID", raw if raw is not None else "", 400, "CustomerID is required"))
                continue
            out.append(result("CustomerID", customer_id, *_update_one(ctx, customer_id, item)))
        return respond(out)


def _update_one(ctx: Context, customer_id: int, body: dict) -> tuple[int, str]:
    try:
        found = ctx.store.customers.update(customer_id, body)
    except FieldError as e:
        return 400, str(e)
    return (200, "updated successfully") if found else (404, "Customer not found")


def webhook_routes(r: APIRouter, ctx: Context) -> None:
    wire_time = ctx.store.clock.wire

    def render(row: dict) -> dict:
        return {**row, "DateCreated": wire_time(row["DateCreated"]), "DateUpdated": wire_time(row["DateUpdated"])}

    @r.get("/Webhooks/Events")
    def events(request: Request):
        return ctx.paging.page(request, ctx.webhooks.events(), "Event")

    @r.get("/Webhooks")
    def list_webhooks(request: Request):
        rows = ctx.webhooks.list(webhook_filters(request.query_params, ctx.store.clock))
        return ctx.paging.page(request, [render(h) for h in rows], "Webhook")

    @r.post("/Webhooks")
    async def post_webhook(request: Request):
        body = await object_body(request)
        await commit_late(ctx, request)
        try:
            hook = ctx.webhooks.create(body)
        except FieldError as e:
            raise as_api_error(e) from None
        return respond([result("Id", hook["Id"], 201, "Created successfully")], 201)
