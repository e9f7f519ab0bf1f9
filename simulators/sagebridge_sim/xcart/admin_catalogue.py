"""`/_sim` control surface for the catalogue and the write log: tests and benchmarks seed products
(with variants and category links) and categories without the API, look a SKU up, and read what the
hub wrote (`write_log`). No auth, never faulted, and not recorded in the write log.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

from .api_http import ApiError
from .formats import money
from .store import XCartStore
from .write_log import WriteLog


class VariantSpec(BaseModel):
    sku: str
    price: Decimal | None = Field(None, ge=0)       # None: the product's price (default_price)
    amount: int | None = Field(None, ge=0)          # None: the product's stock (default_amount)
    weight: float | None = Field(None, ge=0)
    default_variant: bool = False


class ProductSpec(BaseModel):
    """`POST /_sim/products`: one product, optionally with variants and category links."""
    sku: str
    name: str = ""
    price: Decimal = Field(Decimal("10.00"), ge=0)
    amount: int = Field(100, ge=0)
    enabled: bool = True
    inventory_traceable: bool = True
    description: str = ""
    variants: list[VariantSpec] = Field(default_factory=list)
    categories: list[int] = Field(default_factory=list)


class SeedSpec(BaseModel):
    """`POST /_sim/products/seed`: SKU-00001..N (as `--seed-products`); with `variants_per_product`
    > 0 each product gets variants SKU-00001-V1.. with their own stock."""
    count: int = Field(ge=1, le=200_000)
    variants_per_product: int = Field(0, ge=0, le=50)


class CategorySpec(BaseModel):
    name: str
    parent_id: int | None = None


def _run(call):
    try:
        return call()
    except ValueError as e:
        raise ApiError(400, str(e)) from None


def add_product_spec(store: XCartStore, spec: ProductSpec) -> dict[str, Any]:
    """Creates the product of `spec` and its variants and links; {"id", "variant_ids"}."""
    pid, vids = store.add_product_with_variants(
        spec.sku, spec.name or spec.sku, money(spec.price), [v.model_dump() for v in spec.variants], spec.amount)
    store.update_product(pid, {"enabled": spec.enabled, "inventory_traceable": spec.inventory_traceable,
                               "description": spec.description})
    for cid in spec.categories:
        if store.link_product(cid, pid) is None:
            raise ValueError(f"no category {cid}")
    return {"id": pid, "variant_ids": vids}


def seed_catalogue(store: XCartStore, count: int, variants_per_product: int = 0) -> list[int]:
    """Product ids of SKU-00001..`count`; each with `variants_per_product` variants SKU-nnnnn-Vk."""
    pids = store.seed_products(count)
    for pid in pids if variants_per_product else []:
        sku = store.products[pid]["sku"]
        for k in range(1, variants_per_product + 1):
            store.add_variant(pid, f"{sku}-V{k}", amount=10 * k, default_variant=k == 1)
    return pids


def install_catalogue_admin_routes(app: FastAPI, store: XCartStore) -> None:
    @app.post("/_sim/products", status_code=201)
    def sim_add_product(spec: ProductSpec):
        return _run(lambda: add_product_spec(store, spec))

    @app.post("/_sim/products/seed", status_code=201)
    def sim_seed(spec: SeedSpec):
        return {"ids": _run(lambda: seed_catalogue(store, spec.count, spec.variants_per_product))}

    @app.get("/_sim/products/by_sku/{sku:path}")   # SKUs may hold "/" (formatted item numbers: A1-105/0)
    def sim_by_sku(sku: str):
        """`{"kind": "product"|"variant", "product_id", "variant_id", "record"}` of the SKU's holder."""
        owner = store.sku_owner(sku)
        if owner is None:
            raise ApiError(404, "Not Found")
        kind, oid = owner
        if kind == "product":
            return {"kind": kind, "product_id": oid, "variant_id": None, "record": store.get_product(oid),
                    "categories": store.product_categories(oid)}
        pid = store.variants[oid]["product_id"]
        return {"kind": kind, "product_id": pid, "variant_id": oid, "record": store.get_variant(pid, oid)}

    @app.post("/_sim/categories", status_code=201)
    def sim_add_category(spec: CategorySpec):
        return {"id": _run(lambda: store.add_category(spec.name, spec.parent_id))}


def install_write_log_routes(app: FastAPI, writes: WriteLog) -> None:
    @app.get("/_sim/writes")
    def sim_writes(since: int = 0, kind: str | None = None, key: str | None = None, limit: int = 10_000):
        """`{"writes": [...], "last_seq", "more"}`: entries after `since`, oldest first."""
        return writes.read(since, kind, key, limit)

    @app.get("/_sim/writes/summary")
    def sim_writes_summary():
        """`{"last_seq", "kinds": {kind: {total, ok, failed}}, "per_sku": {sku: {total, ok, failed}}}`."""
        return writes.summary()

    @app.delete("/_sim/writes")
    def sim_writes_clear():
        writes.clear()
        return writes.summary()
