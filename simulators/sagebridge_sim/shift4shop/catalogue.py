"""The store's products and their variants (AdvancedOptionList), shift4shop.md §2.2 and §1.4.

- `PUT /Products/{catalogid}` and each item of the batch `PUT /Products` take the Product write
  model: `SKUInfo` {Price, Stock, Cost, ...} and top-level fields (`records.PRODUCT_WRITABLE`); the
  item's CatalogID comes from the path, else `SKUInfo.CatalogID` (else a top-level `CatalogID`).
- `PUT /Products/{catalogid}/AdvancedOptions` takes a list of AdvancedOption objects; each names its
  variant by `AdvancedOptionCode`, else by `AdvancedOptionSufix` (the variant SKU) (§1.4 "Variant stock",
  §2.2; how the real API matches them is not documented: code first is the simulator's choice).
- Stock may go negative (§2.2). A negative Price/Cost is refused with 400 (ASSUMPTION, the reference
  is silent) so a sign error in a connector shows up.
- SKUs are unique across products and variants (case-insensitively); a write that would duplicate
  one is refused (400): the hub finds products by SKU.
Every accepted write moves the product's `LastUpdate`; a Stock change emits `product.stock`, any other
change `product.changed` (§3 "Product Stock Changed" / "Product Changed").
"""
from __future__ import annotations

import itertools
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from . import records as rm
from .orders import render
from .query import Filters
from .values import FieldError, apply_fields

if TYPE_CHECKING:
    from .store import Shift4ShopStore

Events = list[tuple[str, dict[str, Any]]]


class Catalogue:
    def __init__(self, store: "Shift4ShopStore", first_id: int) -> None:
        self.s = store
        self._products: dict[int, dict[str, Any]] = {}
        self._skus: dict[str, tuple[int, str | None]] = {}      # sku.lower() -> (CatalogID, option code)
        self._ids = itertools.count(first_id)

    def count(self) -> int:
        return len(self._products)

    def _render(self, p: dict[str, Any]) -> dict[str, Any]:
        return render(p, self.s.clock.wire)

    # ---- reading -------------------------------------------------------------------------
    def query(self, filters: Filters, offset: int, limit: int, sku_info_only: bool = False
              ) -> tuple[int, list[dict[str, Any]]]:
        """(matching count, one rendered page); products in CatalogID order (ASSUMPTION, as for
        orders). `sku_info_only`: the page holds the SKUInfo objects (GET /Products/skuinfo)."""
        with self.s.lock:
            matching = [p for _, p in sorted(self._products.items()) if filters.match(p)]
            page = matching[offset - 1: offset - 1 + limit]
            if sku_info_only:
                return len(matching), [dict(p["SKUInfo"]) for p in page]
            return len(matching), [self._render(p) for p in page]

    def get(self, catalog_id: int) -> dict[str, Any] | None:
        with self.s.lock:
            p = self._products.get(catalog_id)
            return self._render(p) if p else None

    def resolve(self, sku: str) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
        """(product, variant or None) owning `sku` (case-insensitive); raw records, lock held by caller."""
        found = self._skus.get(_key(sku))
        if found is None:
            return None
        p = self._products[found[0]]
        if found[1] is None:
            return p, None
        return p, next(o for o in p["AdvancedOptionList"] if o["AdvancedOptionCode"] == found[1])

    def _index(self, sku: str, catalog_id: int, code: str | None, old: str | None = None) -> None:
        if old is not None:
            self._skus.pop(_key(old), None)
        self._skus[_key(sku)] = (catalog_id, code)

    def find(self, sku: str) -> dict[str, Any] | None:
        """For `/_sim/products/by-sku`: {product, variant} rendered."""
        with self.s.lock:
            found = self.resolve(sku)
            if found is None:
                return None
            return {"product": self._render(found[0]), "variant": dict(found[1]) if found[1] else None}

    def _sku_taken(self, sku: str, by: dict[str, Any] | None, option: dict[str, Any] | None = None) -> bool:
        found = self.resolve(sku)
        return found is not None and (found[0] is not by or found[1] is not option)

    # ---- creating ------------------------------------------------------------------------
    def create(self, spec: dict[str, Any]) -> dict[str, Any]:
        """`/_sim/products`; ValueError for a SKU already in use."""
        with self.s.lock:
            skus = [spec["sku"]] + [o["sku"] for o in spec.get("options", [])]
            if not all(x.strip() for x in skus):
                raise ValueError("SKUs must not be empty")
            if len({_key(x) for x in skus}) != len(skus) or any(self.resolve(x) for x in skus):
                raise ValueError(f"a SKU of {skus} is already in use")
            codes = [str(o["code"]) for o in spec.get("options", [])]
            if len(set(codes)) != len(codes):
                raise ValueError(f"option codes {codes} repeat")
            cid = next(self._ids)
            p = rm.new_product(cid, self.s.now(), spec)
            self._products[cid] = p
            self._index(p["SKUInfo"]["SKU"], cid, None)
            for o in p["AdvancedOptionList"]:
                self._index(o["AdvancedOptionSufix"], cid, o["AdvancedOptionCode"])
            snapshot = self._render(p)
        self.s.emit([("product.new", snapshot)])
        return snapshot

    # ---- writes --------------------------------------------------------------------------
    def update(self, catalog_id: int, body: dict[str, Any]) -> bool:
        """One product write; False for an unknown CatalogID, FieldError for a bad value."""
        with self.s.lock:
            p = self._products.get(catalog_id)
            if p is None:
                return False
            info = body.get("SKUInfo") or {}
            if not isinstance(info, dict):
                raise FieldError("SKUInfo", info)
            staged_info, staged = dict(p["SKUInfo"]), dict(p)
            info_changed = apply_fields(staged_info, info, rm.SKUINFO_WRITABLE)
            changed = apply_fields(staged, body, rm.PRODUCT_WRITABLE)
            for money in ("Price", "Cost", "RetailPrice", "SalePrice"):
                if staged_info[money] < 0:
                    raise FieldError(money, staged_info[money])
            if "SKU" in info_changed and (not staged_info["SKU"].strip() or self._sku_taken(staged_info["SKU"], p)):
                raise FieldError("SKU", staged_info["SKU"])
            if "SKU" in info_changed:
                self._index(staged_info["SKU"], catalog_id, None, old=p["SKUInfo"]["SKU"])
            p.update(staged)
            p["SKUInfo"] = staged_info
            events = self._save(p, stock="Stock" in info_changed,
                                other=bool(changed) or bool(set(info_changed) - {"Stock"}))
        self.s.emit(events)
        return True

    def update_options(self, catalog_id: int, items: list[Any]) -> list[tuple[str, str, int, str]] | None:
        """Per-item (key, value, status, message); None for an unknown CatalogID. Each item stands
        alone: a bad one fails with its own status and the others are written."""
        with self.s.lock:
            p = self._products.get(catalog_id)
            if p is None:
                return None
            results, stock, other = [], False, False
            for item in items:
                outcome = self._update_option(p, item)
                results.append(outcome[:4])
                stock, other = stock or outcome[4], other or outcome[5]
            events = self._save(p, stock=stock, other=other) if (stock or other) else []
        self.s.emit(events)
        return results

    def _update_option(self, p: dict[str, Any], item: Any) -> tuple[str, str, int, str, bool, bool]:
        if not isinstance(item, dict):
            return "AdvancedOptionCode", "", 400, "The request is invalid: expected an AdvancedOption.", False, False
        code, sufix = item.get("AdvancedOptionCode"), item.get("AdvancedOptionSufix")
        if code not in (None, ""):
            key, value = "AdvancedOptionCode", str(code)
        else:
            key, value = "AdvancedOptionSufix", str(sufix or "")
        if not value:
            return key, "", 400, "AdvancedOptionCode or AdvancedOptionSufix is required", False, False
        if key == "AdvancedOptionCode":
            option = next((o for o in p["AdvancedOptionList"] if o["AdvancedOptionCode"] == value), None)
        else:
            option = next((o for o in p["AdvancedOptionList"]
                           if o["AdvancedOptionSufix"].strip().lower() == value.strip().lower()), None)
        if option is None:
            return key, value, 404, "Advanced option not found", False, False
        staged = dict(option)
        try:
            changed = apply_fields(staged, item, rm.ADVANCED_OPTION_WRITABLE)
            if staged["AdvancedOptionPrice"] < 0 or staged["AdvancedOptionCost"] < 0:
                raise FieldError("AdvancedOptionPrice", staged["AdvancedOptionPrice"])
            if "AdvancedOptionSufix" in changed and self._sku_taken(staged["AdvancedOptionSufix"], p, option):
                raise FieldError("AdvancedOptionSufix", staged["AdvancedOptionSufix"])
        except FieldError as e:
            return key, value, 400, str(e), False, False
        if "AdvancedOptionSufix" in changed:
            self._index(staged["AdvancedOptionSufix"], p["SKUInfo"]["CatalogID"], option["AdvancedOptionCode"],
                        old=option["AdvancedOptionSufix"])
        option.update(staged)
        return (key, value, 200, "updated successfully", "AdvancedOptionStock" in changed,
                bool(set(changed) - {"AdvancedOptionStock"}))

    def _save(self, p: dict[str, Any], *, stock: bool, other: bool) -> Events:
        p["LastUpdate"] = self.s.now()
        snapshot = self._render(p)
        events: Events = []
        if stock:
            events.append(("product.stock", snapshot))
        if other or not stock:
            events.append(("product.changed", snapshot))
        return events

    def take_stock_for(self, lines: list[dict[str, Any]]) -> Events:
        """Checkout's stock reduction (lock held by the caller). Sets each line's ItemUnitStock."""
        events: Events = []
        for line in lines:
            p = self._products.get(line["catalog_id"])
            if p is None:
                continue
            qty = Decimal(line["quantity"])
            if line.get("option_code"):
                option = next(o for o in p["AdvancedOptionList"] if o["AdvancedOptionCode"] == line["option_code"])
                option["AdvancedOptionStock"] -= qty
                line["unit_stock"] = option["AdvancedOptionStock"]
            else:
                p["SKUInfo"]["Stock"] -= qty
                line["unit_stock"] = p["SKUInfo"]["Stock"]
            events += self._save(p, stock=True, other=False)
        return events

    def sim_edit(self, catalog_id: int, body: dict[str, Any]) -> dict[str, Any] | None:
        """`/_sim/products/{id}` edit (the merchant in the admin UI): the same write model, plus
        `add_options` to create variants."""
        with self.s.lock:
            p = self._products.get(catalog_id)
            if p is None:
                return None
            for o in body.pop("add_options", []) or []:
                if self.resolve(o["sku"]) or any(x["AdvancedOptionCode"] == str(o["code"])
                                                 for x in p["AdvancedOptionList"]):
                    raise ValueError(f"SKU {o['sku']!r} or code {o['code']!r} is already in use")
                p["AdvancedOptionList"].append(rm.new_option(o))
                self._index(o["sku"], catalog_id, str(o["code"]))
        self.update(catalog_id, body)
        return self.get(catalog_id)


def _key(sku: str) -> str:
    return sku.strip().lower()
