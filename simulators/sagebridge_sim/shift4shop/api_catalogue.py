"""REST routes of products (shift4shop.md §1.3, §1.4, §2.2).

- `GET /Products` (sku, name, catalogid, lastupdatestart/end, limit/offset/countonly), `GET
  /Products/{catalogid}` (array of one), `GET /Products/skuinfo?sku=` (SKUInfo objects only).
- `PUT /Products/{catalogid}` body `{"SKUInfo": {"CatalogID":.., "Stock":.., "Price":..}, ...}`.
- batch `PUT /Products`: an array of such bodies, each naming its product by `SKUInfo.CatalogID`
  (or a top-level `CatalogID`). Each item stands alone: an unknown CatalogID gets its own result with
  Status "404", a missing one or a bad value Status "400", the others are written; the answer is 200
  with one `{Key:"CatalogID", Value, Status, Message:"updated successfully"}` per item in request
  order (§1.4, H; 3dcart's sample matches results by Value). More than `max_batch` (100) items:
  the whole request is refused with 400 (ASSUMPTION, see `api_common.Context`).
- `PUT /Products/{catalogid}/AdvancedOptions`: a list of AdvancedOption objects (variant stock, §1.4
  [S6]); per-item results keyed by `AdvancedOptionCode` (or `AdvancedOptionSufix` when that named it).
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from .api_common import Context, batch_limit, commit_late, path_id
from .query import product_filters
from .values import FieldError
from .wire import ApiError, array_body, object_body, respond, result


def product_routes(r: APIRouter, ctx: Context) -> None:
    store, paging = ctx.store, ctx.paging

    @r.get("/Products")
    def list_products(request: Request):
        filters = product_filters(request.query_params, store.clock)
        return paging.answer(request, lambda offset, limit: store.catalogue.query(filters, offset, limit), "Product")

    @r.get("/Products/skuinfo")
    def sku_info(request: Request):
        filters = product_filters(request.query_params, store.clock)
        return paging.answer(request, lambda offset, limit: store.catalogue.query(filters, offset, limit, True),
                             "Product")

    @r.get("/Products/{cid}")
    def get_product(cid: str):
        product = store.catalogue.get(path_id(cid, "CatalogID"))
        if product is None:
            raise ApiError(404, "Product not found", "CatalogID", cid)
        return respond([product])

    @r.put("/Products/{cid}")
    async def put_product(cid: str, request: Request):
        catalog_id = path_id(cid, "CatalogID")
        body = await object_body(request)
        await commit_late(ctx, request)
        status, message = _update_one(ctx, catalog_id, body)
        if status != 200:
            raise ApiError(status, message, "CatalogID", str(catalog_id))
        return respond([result("CatalogID", catalog_id, 200, message)])

    @r.put("/Products")
    async def put_products(request: Request):
        items = await array_body(request, batch_limit(ctx))
        await commit_late(ctx, request)
        out = []
        for item in items:
            catalog_id, raw = _catalog_id_of(item)
            if catalog_id is None:
                out.append(result("CatalogID", raw, 400, "CatalogID is required"))
                continue
            out.append(result("CatalogID", catalog_id, *_update_one(ctx, catalog_id, item)))
        return respond(out)

    @r.put("/Products/{cid}/AdvancedOptions")
    async def put_options(cid: str, request: Request):
        catalog_id = path_id(cid, "CatalogID")
        items = await array_body(request, batch_limit(ctx))
        await commit_late(ctx, request)
        outcomes = store.catalogue.update_options(catalog_id, items)
        if outcomes is None:
            raise ApiError(404, "Product not found", "CatalogID", str(catalog_id))
        return respond([result(*o) for o in outcomes])


def _catalog_id_of(item: Any) -> tuple[int | None, str]:
    if not isinstance(item, dict):
        return None, ""
    info = item.get("SKUInfo") if isinstance(item.get("SKUInfo"), dict) else {}
    raw = info.get("CatalogID", item.get("CatalogID"))
    if raw is None or isinstance(raw, bool):
        return None, ""
    try:
        return int(str(raw)), str(raw)
    except ValueError:
        return None, str(raw)


def _update_one(ctx: Context, catalog_id: int, body: dict[str, Any]) -> tuple[int, str]:
    try:
        found = ctx.store.catalogue.update(catalog_id, body)
    except FieldError as e:
        return 400, str(e)
    return (200, "updated successfully") if found else (404, "Product not found")
