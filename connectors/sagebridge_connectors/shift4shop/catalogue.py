"""Where a SKU lives in the Shift4Shop catalogue, and category names by id (shift4shop.md §2.2).

A product SKU is `SKUInfo.SKU`, found by `GET /Products?sku=` (§1.3, §1.4: 3dcart's own sample
looks the CatalogID up that way); the filter's exactness is not documented, so rows are matched
exactly. A variant SKU is an `AdvancedOptionSufix` in some product's `AdvancedOptionList` (§2.2:
an order line's ItemID equals it), which no filter finds: a miss reads the catalogue (paged) and
indexes every variant, at most once per `ttl_s`, so a burst of unknown SKUs costs one scan.
Each entry is reused for `ttl_s`; an unknown SKU raises `PermanentError(reason="unknown_sku")`.

A burst of writes for many SKUs (a stock sync after a Sage count) would cost one lookup per SKU,
at a few calls per second: 500 SKUs, 100 s before the first batched write. So once `scan_after`
SKUs have missed the cache since the last scan, the next miss reads the whole catalogue instead
(`page_size` rows a call) and the other missing callers wait for that one scan.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from sagebridge_common.errors import PermanentError


@dataclass(frozen=True)
class SkuPlace:
    catalog_id: int
    option_code: str | None = None       # AdvancedOptionCode of a variant; None for the product itself
    option: dict[str, Any] | None = None  # the AdvancedOptionList row as last read

    @property
    def is_variant(self) -> bool:
        return self.option_code is not None


def _same_sku(a: Any, b: str) -> bool:
    return str(a or "").strip() == b


class SkuResolver:
    def __init__(self, client, ttl_s: float, *, page_size: int = 100, scan_after: int = 20,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.ttl = ttl_s
        self.page_size = page_size
        self.scan_after = scan_after
        self._clock = clock
        self._lock = threading.Lock()
        self._scan_lock = threading.Lock()
        self._places: dict[str, tuple[float, SkuPlace]] = {}
        self._scanned_at: float | None = None
        self._misses = 0

    def find(self, sku: str) -> SkuPlace:
        sku = sku.strip()
        hit = self._cached(sku)
        if hit is not None:
            return hit
        with self._lock:
            self._misses += 1
            many = self._misses > self.scan_after
        if many:
            self._scan_variants()
            hit = self._cached(sku)
            if hit is not None:
                return hit
        for row in self.client.get_list("find_product_sku", "/Products", {"sku": sku}):
            info = row.get("SKUInfo") or {}
            if _same_sku(info.get("SKU"), sku):
                return self._remember(sku, SkuPlace(int(info["CatalogID"])))
            for opt in row.get("AdvancedOptionList") or []:
                if _same_sku(opt.get("AdvancedOptionSufix"), sku):
                    return self._remember(sku, SkuPlace(int(info["CatalogID"]), str(opt.get("AdvancedOptionCode")), opt))
        self._scan_variants()
        hit = self._cached(sku)
        if hit is None:
            raise PermanentError(f"Shift4Shop has no product or variant with SKU {sku!r}", reason="unknown_sku")
        return hit

    def forget(self, sku: str) -> None:
        with self._lock:
            self._places.pop(sku.strip(), None)

    def _cached(self, sku: str) -> SkuPlace | None:
        with self._lock:
            entry = self._places.get(sku)
            if entry is not None and self._clock() - entry[0] < self.ttl:
                return entry[1]
        return None

    def _remember(self, sku: str, place: SkuPlace) -> SkuPlace:
        with self._lock:
            self._places[sku] = (self._clock(), place)
        return place

    def _scan_variants(self) -> None:
        """Indexes every variant (and product) SKU of the catalogue, once per TTL; concurrent
        callers wait for the one scan under way."""
        with self._scan_lock:
            with self._lock:
                if self._scanned_at is not None and self._clock() - self._scanned_at < self.ttl:
                    return
            self._index(self.client.pages("scan_products", "/Products", size=self.page_size))
            with self._lock:
                self._scanned_at, self._misses = self._clock(), 0

    def _index(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            info = row.get("SKUInfo") or {}
            if "CatalogID" not in info:
                continue
            cid = int(info["CatalogID"])
            if info.get("SKU"):
                self._remember(str(info["SKU"]).strip(), SkuPlace(cid))
            for opt in row.get("AdvancedOptionList") or []:
                if opt.get("AdvancedOptionSufix"):
                    self._remember(str(opt["AdvancedOptionSufix"]).strip(),
                                   SkuPlace(cid, str(opt.get("AdvancedOptionCode")), opt))


class CategoryMap:
    """Category name -> CategoryID from `GET /Categories` (§1.4 lists the resource; fields
    `CategoryID`, `CategoryName` as in a product's CategoryList, §2.2), re-read once per TTL."""

    def __init__(self, client, ttl_s: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.ttl = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._ids: dict[str, int] = {}
        self._read_at: float | None = None

    def find(self, name: str) -> int | None:
        key = name.strip().casefold()
        with self._lock:
            if key in self._ids:
                return self._ids[key]
            if self._read_at is not None and self._clock() - self._read_at < self.ttl:
                return None         # read recently and not there: no re-read per product
        rows = self.client.pages("list_categories", "/Categories")
        with self._lock:
            self._ids = {str(r.get("CategoryName", "")).strip().casefold(): int(r["CategoryID"])
                         for r in rows if "CategoryID" in r}
            self._read_at = self._clock()
            return self._ids.get(key)
