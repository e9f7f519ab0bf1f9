"""The simulated store's product catalogue (`GET|PUT /api/products`), as X-Cart 5.5 renders it
(`XLite\\API\\Endpoint\\Product` output DTO): PUT is partial (the input DTO is pre-filled from the
stored product, so only the given fields change), SKUs are unique (400 otherwise), dates are PHP
`date('c')`. A mixin of `XCartStore`: it uses the store's lock, clock and indexes.
"""
from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any, Callable

from .formats import as_float, iso_c, money


class DuplicateSku(ValueError):
    """Product SKUs are unique in X-Cart (the API answers 400)."""


# Product fields a PUT may change, with the type each must have.
_PRODUCT_FIELDS: dict[str, tuple[type, ...]] = {
    "sku": (str,), "name": (str,), "description": (str,), "brief_description": (str,),
    "meta_tags": (str,), "meta_description": (str,), "meta_title": (str,), "clean_url": (str,),
    "price": (int, float), "enabled": (bool,), "inventory_traceable": (bool,), "amount": (int,),
    "weight": (int, float), "separate_box": (bool,), "width": (int, float), "length": (int, float),
    "height": (int, float), "free_shipping": (bool,), "taxable": (bool,),
}


def stable_sorted(rows: list[Any], sort: list[tuple[str, bool]], key_of: Callable[[Any, str], Any]) -> list[Any]:
    """Sort by the requested keys with `id` ascending as the final tie-break, so pages are stable."""
    rows = sorted(rows, key=lambda r: key_of(r, "id"))
    for name, desc in reversed(sort):
        rows.sort(key=lambda r: key_of(r, name), reverse=desc)
    return rows


class Catalogue:

    def seed_products(self, count: int) -> list[int]:
        """Catalogue for load tests: SKU-00001.. with varied prices and stock."""
        return [self.add_product(f"SKU-{n:05d}", f"Product {n}", money(5 + (n % 50) * 1.25), 100 + n % 7)
                for n in range(1, count + 1)]

    def add_product(self, sku: str, name: str, price: Decimal, amount: int = 100) -> int:
        with self._lock:
            self._check_sku_free(sku, None)
            pid = next(self._product_seq)
            self._sku_index[sku] = pid
            ts = int(self.now())
            self.products[pid] = {
                "id": pid, "sku": sku, "name": name, "description": "", "brief_description": "",
                "meta_tags": "", "meta_description": "", "meta_title": "", "clean_url": sku.lower(),
                "price": price, "enabled": True, "inventory_traceable": True, "amount": amount,
                "weight": 1.0, "separate_box": False, "width": 0.0, "length": 0.0, "height": 0.0,
                "free_shipping": False, "taxable": True, "create_date": ts, "update_date": ts,
                "arrival_date": ts, "product_class": None, "tax_class": None, "memberships": [],
                "images": [],
            }
            return pid

    def _product_by_sku(self, sku: str) -> dict[str, Any] | None:
        pid = self._sku_index.get(sku)
        return self.products[pid] if pid is not None else None

    @staticmethod
    def _product_json(p: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(p)
        out["price"] = as_float(p["price"])
        for k in ("create_date", "update_date", "arrival_date"):
            out[k] = iso_c(p[k])
        return out

    def get_product(self, pid: int) -> dict[str, Any] | None:
        with self._lock:
            p = self.products.get(pid)
            return self._product_json(p) if p else None

    def list_products(self, sort: list[tuple[str, bool]] | None = None,
                      window: slice = slice(None)) -> tuple[int, list[dict[str, Any]]]:
        """(total, rendered rows in `window`) so only one page is rendered."""
        with self._lock:
            rows = stable_sorted(list(self.products.values()), sort or [], lambda p, k: p[k])
            return len(rows), [self._product_json(p) for p in rows[window]]

    def update_product(self, pid: int, changes: dict[str, Any]) -> dict[str, Any] | None:
        """Partial PUT: only given (known) fields change; unknown keys are ignored like API Platform."""
        with self._lock:
            p = self.products.get(pid)
            if p is None:
                return None
            clean = self._validate_product_changes(pid, changes)
            if "sku" in clean:
                del self._sku_index[p["sku"]]
                self._sku_index[clean["sku"]] = pid
            p.update(clean)
            p["update_date"] = int(self.now())
            return self._product_json(p)

    def _validate_product_changes(self, pid: int, changes: dict[str, Any]) -> dict[str, Any]:
        clean: dict[str, Any] = {}
        for k, v in changes.items():
            types = _PRODUCT_FIELDS.get(k)
            if types is None:
                continue
            if not isinstance(v, types) or (bool not in types and isinstance(v, bool)):
                raise ValueError(f"{k}: This value should be of type {types[0].__name__}.")
            if k in ("price", "amount") and v < 0:
                raise ValueError(f"{k}: This value should be greater than or equal to 0.")
            clean[k] = money(v) if k == "price" else v
        if "sku" in clean:
            clean["sku"] = clean["sku"].strip()
            if not clean["sku"]:
                raise ValueError("sku: This value should not be blank.")
            self._check_sku_free(clean["sku"], ("product", pid))
        return clean

    def create_product(self, spec: dict[str, Any]) -> dict[str, Any]:
        """`POST /api/products`: `sku` and `name` are required; other known fields as for PUT."""
        sku, name = spec.get("sku"), spec.get("name")
        if not isinstance(sku, str) or not sku.strip():
            raise ValueError("sku: This value should not be blank.")
        if not isinstance(name, str) or not name.strip():
            raise ValueError("name: This value should not be blank.")
        with self._lock:
            self._validate_product_changes(0, spec)
            pid = self.add_product(sku.strip(), name, money(0), 0)
            return self.update_product(pid, {k: v for k, v in spec.items() if k != "sku"})

    def delete_product(self, pid: int) -> bool:
        """`DELETE /api/products/{id}`: its variants and category links go with it."""
        with self._lock:
            p = self.products.pop(pid, None)
            if p is None:
                return False
            self._sku_index.pop(p["sku"], None)
            self._delete_product_variants(pid)
            self._unlink_product(pid)
            return True
