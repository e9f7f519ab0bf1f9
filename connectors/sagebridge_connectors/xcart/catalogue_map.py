"""Where a SKU lives in an X-Cart store, and which category has which name.

X-Cart 5.5's API has no SKU filter (reference xcart.md §1b: "No SKU filter, so build and cache a
sku -> id map by paging"), and a SKU may be a product's or a variant's (module XC/ProductVariants,
`/api/products/{pid}/variants`). So the map is built by paging every product and its variants, and
rebuilt when a SKU is not in it. A SKU the store really lacks must not cost a full re-read per
event, so a rebuild for a miss happens at most once per `ttl_s`; a SKU still missing after that is
unknown (the caller dead-letters it). Categories are matched by name the same way.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

from sagebridge_common.errors import PermanentError

from .sink_http import StoreCalls


@dataclass(frozen=True)
class SkuPlace:
    product_id: int
    variant_id: int | None = None      # None: the SKU is the product's own


class SkuMap:
    def __init__(self, calls: StoreCalls, ttl_s: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._calls = calls
        self._ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()          # one rebuild at a time; others wait and reuse it
        self._places: dict[str, SkuPlace] = {}
        self._built_at: float | None = None
        self.rebuilds = 0

    def find(self, sku: str) -> SkuPlace | None:
        """The SKU's place, rebuilding the map on a miss (at most once per ttl)."""
        place = self._places.get(sku)
        if place is not None:
            return place
        with self._lock:
            place = self._places.get(sku)
            if place is None and (self._built_at is None or self._clock() - self._built_at >= self._ttl_s):
                self._rebuild()
                place = self._places.get(sku)
        return place

    def _rebuild(self) -> None:
        places: dict[str, SkuPlace] = {}
        for product in self._calls.pages("list_products", "/api/products"):
            pid = int(product["id"])
            places[product["sku"]] = SkuPlace(pid)
            for variant in self._variants(pid):
                if variant.get("sku"):
                    places[variant["sku"]] = SkuPlace(pid, int(variant["id"]))
        self._places = places
        self._built_at = self._clock()
        self.rebuilds += 1

    def _variants(self, pid: int) -> list[dict]:
        """The product's variants; none where the ProductVariants module is not installed (the
        route does not exist there: 404)."""
        try:
            return list(self._calls.pages("list_variants", f"/api/products/{pid}/variants"))
        except PermanentError as e:
            if e.reason == "xcart_not_found":
                return []
            raise


class CategoryMap:
    """Category name -> id, read from `GET /api/categories` when a name is not known yet."""

    def __init__(self, calls: StoreCalls) -> None:
        self._calls = calls
        self._lock = threading.Lock()
        self._ids: dict[str, int] = {}

    def find(self, name: str) -> int | None:
        cid = self._ids.get(name)
        if cid is None:
            with self._lock:
                self._ids = {c["name"]: int(c["id"]) for c in self._calls.pages("list_categories", "/api/categories")}
                cid = self._ids.get(name)
        return cid

    def create(self, name: str) -> int:
        with self._lock:
            made = self._calls.post("create_category", "/api/categories", {"name": name}).json()
            self._ids[name] = int(made["id"])
            return self._ids[name]
