"""Product variants of the simulated store (X-Cart module XC/ProductVariants), reference xcart.md §1b:
`GET|POST /api/products/{pid}/variants`, `GET|PUT|DELETE /api/products/{pid}/variants/{id}` with
`sku, price, default_price, amount, default_amount, weight, default_weight, default_variant, image`.

Rules kept here, as strict as X-Cart:
- PUT is partial-safe (the input DTO is pre-filled from the stored variant, §1b), so only the given
  fields change; unknown keys are ignored as API Platform ignores them.
- A variant SKU is unique across products and variants (X-Cart checks both tables); a blank SKU is
  allowed (the variant then shows its id as SKU in the admin UI) and is not checked.
- `amount` is an unsigned int (negative: 400). `default_amount` true means the variant uses the
  product's stock, `default_price` / `default_weight` the product's price / weight (§1b).
- At most one `default_variant` per product: setting one clears the flag on its siblings.
- A variant of another product is 404 under this product's path.
A mixin of `XCartStore`, like `Catalogue`: it uses the store's lock, clock and sequences.
"""
from __future__ import annotations

import copy
import itertools
from decimal import Decimal
from typing import Any

from .catalogue import DuplicateSku
from .formats import as_float, money

_VARIANT_FIELDS: dict[str, tuple[type, ...]] = {
    "sku": (str,), "price": (int, float), "default_price": (bool,), "amount": (int,),
    "default_amount": (bool,), "weight": (int, float), "default_weight": (bool,),
    "default_variant": (bool,), "image": (str, type(None)),
}


class Variants:
    """Variants keyed by id, each with its `product_id`; a mixin of `XCartStore`."""

    def _init_variants(self) -> None:
        self.variants: dict[int, dict[str, Any]] = {}
        self._variant_seq = itertools.count(1)
        self._variant_sku_index: dict[str, int] = {}

    # ---- SKU uniqueness over both tables --------------------------------------------------

    def sku_owner(self, sku: str) -> tuple[str, int] | None:
        """("product", id) or ("variant", id) holding `sku`, or None."""
        with self._lock:
            if sku in self._sku_index:
                return "product", self._sku_index[sku]
            if sku in self._variant_sku_index:
                return "variant", self._variant_sku_index[sku]
            return None

    def _check_sku_free(self, sku: str, owner: tuple[str, int] | None) -> None:
        found = self.sku_owner(sku) if sku else None
        if found is not None and found != owner:
            raise DuplicateSku(f"sku: SKU {sku!r} already exists")

    # ---- seeding --------------------------------------------------------------------------

    def add_variant(self, pid: int, sku: str, *, price: Decimal | None = None, amount: int | None = None,
                    weight: float | None = None, default_variant: bool = False) -> int:
        """A variant of product `pid`; a field left None uses the product's (`default_*` true)."""
        spec: dict[str, Any] = {"sku": sku, "default_variant": default_variant}
        if price is not None:
            spec["price"] = float(price)
        if amount is not None:
            spec["amount"] = amount
        if weight is not None:
            spec["weight"] = weight
        return self.create_variant(pid, spec)["id"]

    def add_product_with_variants(self, sku: str, name: str, price: Decimal,
                                  variants: list[dict[str, Any]], amount: int = 0) -> tuple[int, list[int]]:
        """(product id, variant ids): `variants` items are `{"sku", "price"?, "amount"?, "weight"?,
        "default_variant"?}` as for `add_variant`."""
        pid = self.add_product(sku, name, price, amount)
        return pid, [self.add_variant(pid, v["sku"], price=v.get("price"), amount=v.get("amount"),
                                      weight=v.get("weight"), default_variant=v.get("default_variant", False))
                     for v in variants]

    # ---- API operations -------------------------------------------------------------------

    @staticmethod
    def _variant_json(v: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(v)
        out["price"] = as_float(v["price"])
        return out

    def list_variants(self, pid: int, window: slice = slice(None)) -> tuple[int, list[dict[str, Any]]] | None:
        with self._lock:
            if pid not in self.products:
                return None
            rows = sorted((v for v in self.variants.values() if v["product_id"] == pid), key=lambda v: v["id"])
            return len(rows), [self._variant_json(v) for v in rows[window]]

    def get_variant(self, pid: int, vid: int) -> dict[str, Any] | None:
        with self._lock:
            v = self.variants.get(vid)
            return self._variant_json(v) if v is not None and v["product_id"] == pid else None

    def create_variant(self, pid: int, spec: dict[str, Any]) -> dict[str, Any] | None:
        """None when the product does not exist; ValueError (400) for bad fields or a taken SKU."""
        with self._lock:
            product = self.products.get(pid)
            if product is None:
                return None
            clean = self._validate_variant(spec, None)
            v = {"id": 0, "product_id": pid, "sku": "", "price": product["price"], "default_price": True,
                 "amount": 0, "default_amount": True, "weight": product["weight"], "default_weight": True,
                 "default_variant": False, "image": None}
            for k, default_flag in (("price", "default_price"), ("amount", "default_amount"),
                                    ("weight", "default_weight")):
                if k in clean and default_flag not in clean:
                    clean[default_flag] = False
            v.update(clean)
            v["id"] = next(self._variant_seq)
            self.variants[v["id"]] = v
            self._index_variant_sku(v, "")
            self._single_default(v)
            product["update_date"] = int(self.now())
            return self._variant_json(v)

    def update_variant(self, pid: int, vid: int, changes: dict[str, Any]) -> dict[str, Any] | None:
        """Partial PUT: only the given known fields change."""
        with self._lock:
            v = self.variants.get(vid)
            if v is None or v["product_id"] != pid:
                return None
            clean = self._validate_variant(changes, ("variant", vid))
            old_sku = v["sku"]
            v.update(clean)
            self._index_variant_sku(v, old_sku)
            self._single_default(v)
            self.products[pid]["update_date"] = int(self.now())
            return self._variant_json(v)

    def delete_variant(self, pid: int, vid: int) -> bool:
        with self._lock:
            v = self.variants.get(vid)
            if v is None or v["product_id"] != pid:
                return False
            del self.variants[vid]
            self._variant_sku_index.pop(v["sku"], None)
            return True

    def _delete_product_variants(self, pid: int) -> None:
        for vid in [vid for vid, v in self.variants.items() if v["product_id"] == pid]:
            self._variant_sku_index.pop(self.variants.pop(vid)["sku"], None)

    # ---- helpers --------------------------------------------------------------------------

    def _validate_variant(self, changes: dict[str, Any], owner: tuple[str, int] | None) -> dict[str, Any]:
        clean: dict[str, Any] = {}
        for k, value in changes.items():
            types = _VARIANT_FIELDS.get(k)
            if types is None:
                continue
            if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
                raise ValueError(f"{k}: This value should be of type {types[0].__name__}.")
            if k in ("price", "amount", "weight") and value < 0:
                raise ValueError(f"{k}: This value should be greater than or equal to 0.")
            clean[k] = money(value) if k == "price" else value
        if "sku" in clean:
            clean["sku"] = clean["sku"].strip()
            self._check_sku_free(clean["sku"], owner)
        return clean

    def _index_variant_sku(self, v: dict[str, Any], old_sku: str) -> None:
        if old_sku and self._variant_sku_index.get(old_sku) == v["id"]:
            del self._variant_sku_index[old_sku]
        if v["sku"]:
            self._variant_sku_index[v["sku"]] = v["id"]

    def _single_default(self, v: dict[str, Any]) -> None:
        if v["default_variant"]:
            for other in self.variants.values():
                if other["product_id"] == v["product_id"] and other["id"] != v["id"]:
                    other["default_variant"] = False
