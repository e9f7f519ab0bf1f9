"""Categories and category-product links of the simulated store, reference xcart.md §1b: "Categories:
`POST /api/categories/{cid}/products {"product_id":N}`, `GET` same, `DELETE
/api/categories/{cid}/products/{pid}`". Categories are not in the product body (§5), so a product's
categories are read through these links.

The reference names only the link endpoints. The category collection itself (`GET|POST
/api/categories`, `GET /api/categories/{cid}`) is served in a plausible API Platform shape, not
confirmed against X-Cart's source: `{id, parent_id, name, description, enabled, position,
clean_url}`, POST requires a non-blank `name`, `parent_id` (optional) must exist. X-Cart keeps an
invisible root category; here a top-level category has `parent_id` null.

Link choices (unconfirmed, strict side): a link row renders `{category_id, product_id, position}`;
linking an unknown product is 400 (`product_id` must name a product), linking it twice is 400 (X-Cart
has a unique (category, product) key); deleting a link that does not exist is 404.
A mixin of `XCartStore`.
"""
from __future__ import annotations

import itertools
from typing import Any


class CategoryError(ValueError):
    """A category write X-Cart refuses (400)."""


class Categories:
    def _init_categories(self) -> None:
        self.categories: dict[int, dict[str, Any]] = {}
        self._category_seq = itertools.count(2)       # 1 is X-Cart's hidden root
        self._links: dict[int, list[int]] = {}        # category id -> product ids, in link order

    def add_category(self, name: str, parent_id: int | None = None) -> int:
        """Seeding helper: a category, its id."""
        return self.create_category({"name": name, "parent_id": parent_id})["id"]

    def create_category(self, spec: dict[str, Any]) -> dict[str, Any]:
        name, parent = spec.get("name"), spec.get("parent_id")
        if not isinstance(name, str) or not name.strip():
            raise CategoryError("name: This value should not be blank.")
        with self._lock:
            if parent is not None and (isinstance(parent, bool) or parent not in self.categories):
                raise CategoryError(f"parent_id: no category {parent!r}.")
            cid = next(self._category_seq)
            self.categories[cid] = {
                "id": cid, "parent_id": parent, "name": name.strip(),
                "description": spec.get("description") if isinstance(spec.get("description"), str) else "",
                "enabled": spec.get("enabled") if isinstance(spec.get("enabled"), bool) else True,
                "position": spec.get("position") if type(spec.get("position")) is int else 0,
                "clean_url": name.strip().lower().replace(" ", "-"),
            }
            self._links[cid] = []
            return dict(self.categories[cid])

    def get_category(self, cid: int) -> dict[str, Any] | None:
        with self._lock:
            c = self.categories.get(cid)
            return dict(c) if c else None

    def list_categories(self, window: slice = slice(None)) -> tuple[int, list[dict[str, Any]]]:
        with self._lock:
            rows = [dict(self.categories[k]) for k in sorted(self.categories)]
            return len(rows), rows[window]

    def category_products(self, cid: int, window: slice = slice(None)) -> tuple[int, list[dict[str, Any]]] | None:
        with self._lock:
            if cid not in self.categories:
                return None
            rows = [self._link_json(cid, pid, n) for n, pid in enumerate(self._links[cid])]
            return len(rows), rows[window]

    def link_product(self, cid: int, pid: Any) -> dict[str, Any] | None:
        """None when the category does not exist; CategoryError for a bad or duplicate product."""
        with self._lock:
            if cid not in self.categories:
                return None
            if type(pid) is not int or pid not in self.products:
                raise CategoryError(f"product_id: no product {pid!r}.")
            if pid in self._links[cid]:
                raise CategoryError(f"product {pid} is already in category {cid}.")
            self._links[cid].append(pid)
            return self._link_json(cid, pid, len(self._links[cid]) - 1)

    def unlink_product(self, cid: int, pid: int) -> bool:
        with self._lock:
            if pid not in self._links.get(cid, []):
                return False
            self._links[cid].remove(pid)
            return True

    def product_categories(self, pid: int) -> list[int]:
        """Category ids linking `pid` (for tests)."""
        with self._lock:
            return [cid for cid, pids in sorted(self._links.items()) if pid in pids]

    def _unlink_product(self, pid: int) -> None:
        for pids in self._links.values():
            if pid in pids:
                pids.remove(pid)

    @staticmethod
    def _link_json(cid: int, pid: int, position: int) -> dict[str, Any]:
        return {"category_id": cid, "product_id": pid, "position": position}
