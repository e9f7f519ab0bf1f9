"""`/api/products`, `/api/products/{pid}/variants` and `/api/categories` routes of the simulated
X-Cart 5.5 API (shapes and rules: `catalogue`, `variants`, `categories`; reference xcart.md §1b).

`GET /api/products` has only sorting filters (`order[name|price|arrival_date]`, plus `order[id]`):
there is no SKU filter, and an unknown query parameter such as `sku=` is ignored as API Platform
ignores it, so the caller gets the whole (paged) catalogue. Paging is `page`/`itemsPerPage` (max 100).
Write errors (bad type, negative `amount`, taken SKU) are 400 `{"message"}`; unknown ids are 404.
"""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from .api_http import (PLAIN_JSON, ApiError, collection_response, item_response, json_body, page_window, parse_id,
                       parse_sort, wants_ld)
from .categories import CategoryError
from .store import XCartStore

_PRODUCT_SORT = {"name", "price", "arrival_date", "id"}


def _bad_request(call):
    try:
        return call()
    except ValueError as e:      # DuplicateSku, CategoryError
        raise ApiError(400, str(e)) from None


def catalogue_routes(r: APIRouter, store: XCartStore) -> None:
    _product_routes(r, store)
    _variant_routes(r, store)
    _category_routes(r, store)


def _product_routes(r: APIRouter, store: XCartStore) -> None:
    @r.get("/api/products")
    def list_products(request: Request):
        window = page_window(request)
        total, rows = store.list_products(parse_sort(request, _PRODUCT_SORT), window)
        return collection_response(request, window, total, rows, "/api/products", "Product")

    @r.post("/api/products")
    async def create_product(request: Request):
        body = await json_body(request)
        row = _bad_request(lambda: store.create_product(body))
        response = item_response(request, row, "/api/products", "Product")
        response.status_code = 201
        return response

    @r.get("/api/products/{ref}")
    def get_product(ref: str, request: Request):
        return item_response(request, store.get_product(parse_id(ref)), "/api/products", "Product")

    @r.put("/api/products/{ref}")
    async def put_product(ref: str, request: Request):
        pid, body = parse_id(ref), await json_body(request)
        row = _bad_request(lambda: store.update_product(pid, body))
        return item_response(request, row, "/api/products", "Product")

    @r.delete("/api/products/{ref}")
    def delete_product(ref: str):
        if not store.delete_product(parse_id(ref)):
            raise ApiError(404, "Not Found")
        return Response(status_code=204)


def _variant_routes(r: APIRouter, store: XCartStore) -> None:
    @r.get("/api/products/{ref}/variants")
    def list_variants(ref: str, request: Request):
        pid, window = parse_id(ref), page_window(request)
        found = store.list_variants(pid, window)
        if found is None:
            raise ApiError(404, "Not Found")
        return collection_response(request, window, *found, f"/api/products/{pid}/variants", "ProductVariant")

    @r.post("/api/products/{ref}/variants")
    async def create_variant(ref: str, request: Request):
        pid, body = parse_id(ref), await json_body(request)
        row = _bad_request(lambda: store.create_variant(pid, body))
        response = item_response(request, row, f"/api/products/{pid}/variants", "ProductVariant")
        response.status_code = 201
        return response

    @r.get("/api/products/{ref}/variants/{vref}")
    def get_variant(ref: str, vref: str, request: Request):
        pid = parse_id(ref)
        return item_response(request, store.get_variant(pid, parse_id(vref)), f"/api/products/{pid}/variants",
                             "ProductVariant")

    @r.put("/api/products/{ref}/variants/{vref}")
    async def put_variant(ref: str, vref: str, request: Request):
        pid, vid, body = parse_id(ref), parse_id(vref), await json_body(request)
        row = _bad_request(lambda: store.update_variant(pid, vid, body))
        return item_response(request, row, f"/api/products/{pid}/variants", "ProductVariant")

    @r.delete("/api/products/{ref}/variants/{vref}")
    def delete_variant(ref: str, vref: str):
        if not store.delete_variant(parse_id(ref), parse_id(vref)):
            raise ApiError(404, "Not Found")
        return Response(status_code=204)


def _category_routes(r: APIRouter, store: XCartStore) -> None:
    @r.get("/api/categories")
    def list_categories(request: Request):
        window = page_window(request)
        total, rows = store.list_categories(window)
        return collection_response(request, window, total, rows, "/api/categories", "Category")

    @r.post("/api/categories")
    async def create_category(request: Request):
        body = await json_body(request)
        row = _bad_request(lambda: store.create_category(body))
        response = item_response(request, row, "/api/categories", "Category")
        response.status_code = 201
        return response

    @r.get("/api/categories/{ref}")
    def get_category(ref: str, request: Request):
        return item_response(request, store.get_category(parse_id(ref)), "/api/categories", "Category")

    @r.get("/api/categories/{ref}/products")
    def category_products(ref: str, request: Request):
        cid, window = parse_id(ref), page_window(request)
        found = store.category_products(cid, window)
        if found is None:
            raise ApiError(404, "Not Found")
        total, rows = found
        return JSONResponse(rows, media_type=PLAIN_JSON) if not wants_ld(request) else collection_response(
            request, window, total, [{"id": row["product_id"], **row} for row in rows],
            f"/api/categories/{cid}/products", "CategoryProduct")

    @r.post("/api/categories/{ref}/products")
    async def link_product(ref: str, request: Request):
        cid, body = parse_id(ref), await json_body(request)
        try:
            row = store.link_product(cid, body.get("product_id"))
        except CategoryError as e:
            raise ApiError(400, str(e)) from None
        if row is None:
            raise ApiError(404, "Not Found")
        return JSONResponse(row, status_code=201, media_type=PLAIN_JSON)

    @r.delete("/api/categories/{ref}/products/{pref}")
    def unlink_product(ref: str, pref: str):
        if not store.unlink_product(parse_id(ref), parse_id(pref)):
            raise ApiError(404, "Not Found")
        return Response(status_code=204)

