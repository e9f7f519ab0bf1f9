"""The Shift4Shop `StorefrontSink`: ERP-origin stock, products, order status, tracking, customers.

Product-level writes (`set_stock`, `update_product` of a product SKU) go through the batcher
(`batcher.py`): each becomes one `PUT /Products` item `{"SKUInfo": {"CatalogID": .., ...}, ...}`
(shift4shop.md §1.4: SkuVault's stock write, 3dcart's sample's price write) joined with other
callers' items. Variant SKUs (`AdvancedOptionSufix`, §2.2) are written with
`PUT /Products/{catalogid}/AdvancedOptions` (§1.4, [S6]), one call each: variants of one product
share that path and the array form of it is not documented beyond SkuVault's use.

Stock is written blind (a read costs the same as the write, and the runtime coalesces settled
SKUs); it may be negative and fractional, as the store records it (§2.2). `update_product` reads
the product (`GET /Products/{catalogid}`) and sends only the fields that differ: price
(`SKUInfo.Price`), `Description`, `Hide` (= not active, or deleted) and category membership
(`CategoryList`, existing categories only: the hub creates none on Shift4Shop).

`concurrency_hint`: how many writer handlers it takes to fill batches (two batches' worth: one
being sent while the next fills); storefront_writer runs max(MAX_IN_FLIGHT, hint) handlers.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from sagebridge_common.contracts import WriteOutcome
from sagebridge_common.errors import PermanentError

from .api import ItemResult, Shift4ShopClient
from .batcher import ProductBatcher
from .catalogue import CategoryMap, SkuPlace, SkuResolver
from .config import Shift4ShopStorefrontConfig
from .sink_customers import CustomerWrites
from .sink_orders import OrderWrites


def json_number(value: Decimal) -> int | float:
    """A Decimal as the JSON number the API reads, at this edge only (an integral value as an int)."""
    return int(value) if value == value.to_integral_value() else float(value)


def _item_error(r: ItemResult, sku: str) -> PermanentError:
    if r.status == 404:
        return PermanentError(f"Shift4Shop: SKU {sku!r} (CatalogID {r.value}) is gone: {r.message}", reason="unknown_sku")
    return PermanentError(f"Shift4Shop refused SKU {sku!r} (CatalogID {r.value}, status {r.status}): {r.message}",
                          reason="refused_value")


def _same(current: Any, wanted: Any) -> bool:
    if isinstance(wanted, Decimal):
        try:
            return current is not None and Decimal(str(current)) == wanted
        except ArithmeticError:
            return False
    return current == wanted


class Shift4ShopSink(OrderWrites, CustomerWrites):
    kind = "shift4shop"

    def __init__(self, cfg: Shift4ShopStorefrontConfig, zone: ZoneInfo | str = "UTC", *,
                 client: Shift4ShopClient | None = None, transport: httpx.BaseTransport | None = None) -> None:
        self.cfg = cfg
        self.zone = ZoneInfo(zone) if isinstance(zone, str) else zone
        self.client = client or Shift4ShopClient(cfg, transport=transport)
        self.skus = SkuResolver(self.client, cfg.sku_map_ttl_s, page_size=cfg.page_size)
        self.categories = CategoryMap(self.client, cfg.sku_map_ttl_s)
        self.batcher = ProductBatcher(self._put_products, size=cfg.batch_size, wait_s=cfg.batch_wait_ms / 1000)
        self.concurrency_hint: int = 2 * cfg.batch_size
        OrderWrites.__init__(self)

    def close(self) -> None:
        self.client.close()

    def ping(self) -> tuple[bool, str]:
        return self.client.ping()

    def _put_products(self, items: list[dict[str, Any]]) -> list[ItemResult]:
        return self.client.put("put_products", "/Products", items)

    def _batched(self, sku: str, place: SkuPlace, item: dict[str, Any]) -> ItemResult:
        r = self.batcher.submit(place.catalog_id, item)
        if not r.ok:
            if r.status == 404:
                self.skus.forget(sku)
            raise _item_error(r, sku)
        return r

    def _put_option(self, sku: str, place: SkuPlace, fields: dict[str, Any], operation: str) -> None:
        body = [{"AdvancedOptionCode": place.option_code, "AdvancedOptionSufix": sku, **fields}]
        try:
            results = self.client.put(operation, f"/Products/{place.catalog_id}/AdvancedOptions", body)
        except PermanentError as e:
            if e.reason == "shift4shop_not_found":
                self.skus.forget(sku)
                raise PermanentError(f"Shift4Shop: variant SKU {sku!r} is gone", reason="unknown_sku") from e
            raise
        bad = next((r for r in results if not r.ok), None)
        if bad is not None:
            raise _item_error(bad, sku)

    # -- stock ---------------------------------------------------------------------------------
    def set_stock(self, sku: str, quantity: Decimal, location: str | None = None) -> WriteOutcome:
        place = self.skus.find(sku)
        qty = json_number(Decimal(quantity))
        if place.is_variant:
            self._put_option(sku, place, {"AdvancedOptionStock": qty}, "set_variant_stock")
            return WriteOutcome("updated", f"{place.catalog_id}/{place.option_code}", f"stock {qty}")
        self._batched(sku, place, {"SKUInfo": {"CatalogID": place.catalog_id, "Stock": qty}})
        return WriteOutcome("updated", str(place.catalog_id), f"stock {qty}")

    # -- product -------------------------------------------------------------------------------
    def update_product(self, product: dict[str, Any]) -> WriteOutcome:
        sku = str(product["sku"]).strip()
        place = self.skus.find(sku)
        if place.is_variant:
            return self._update_variant(sku, place, product)
        current = self.client.get_one("get_product", f"/Products/{place.catalog_id}")
        if current is None:
            self.skus.forget(sku)
            raise PermanentError(f"Shift4Shop: SKU {sku!r} (CatalogID {place.catalog_id}) is gone", reason="unknown_sku")
        item, notes = self._differences(current, product)
        if not item:
            return WriteOutcome("already_present", str(place.catalog_id), "; ".join(notes) or None)
        sku_info = {"CatalogID": place.catalog_id}
        if "Price" in item:
            sku_info["Price"] = item.pop("Price")
        self._batched(sku, place, {"SKUInfo": sku_info, **item})
        return WriteOutcome("updated", str(place.catalog_id), "; ".join(notes) or None)

    def _differences(self, current: dict[str, Any], product: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        item: dict[str, Any] = {}
        notes: list[str] = []
        info = current.get("SKUInfo") or {}
        if product.get("price") is not None and not _same(info.get("Price"), Decimal(str(product["price"]))):
            item["Price"] = json_number(Decimal(str(product["price"])))
            notes.append(f"price={product['price']}")
        if product.get("description") is not None and current.get("Description") != product["description"]:
            item["Description"] = product["description"]
            notes.append("description")
        hide = not bool(product.get("active", True)) or bool(product.get("deleted", False))
        if bool(current.get("Hide", False)) != hide:
            item["Hide"] = hide
            notes.append(f"hide={hide}")
        categories, cat_notes = self._category_list(current, product)
        if categories is not None:
            item["CategoryList"] = categories
        return item, notes + cat_notes

    def _category_list(self, current: dict[str, Any], product: dict[str, Any]) -> tuple[list | None, list[str]]:
        """The product's CategoryList plus the named categories it is not in yet (None: no change)."""
        have = list(current.get("CategoryList") or [])
        ids = {int(c["CategoryID"]) for c in have if "CategoryID" in c}
        added, notes = [], []
        for name in product.get("categories") or []:
            cid = self.categories.find(name)
            if cid is None:
                notes.append(f"category {name!r} not in the store (not created)")
            elif cid not in ids:
                ids.add(cid)
                added.append({"CategoryID": cid, "CategoryName": name})
                notes.append(f"category {name}")
        return (have + added if added else None), notes

    def _update_variant(self, sku: str, place: SkuPlace, product: dict[str, Any]) -> WriteOutcome:
        """A variant has only its price to set here (description, visibility and categories are
        the parent product's)."""
        if product.get("price") is None:
            return WriteOutcome("skipped", f"{place.catalog_id}/{place.option_code}",
                                "a variant has no description, visibility or categories of its own")
        price = Decimal(str(product["price"]))
        if _same((place.option or {}).get("AdvancedOptionPrice"), price):
            return WriteOutcome("already_present", f"{place.catalog_id}/{place.option_code}", None)
        self._put_option(sku, place, {"AdvancedOptionPrice": json_number(price)}, "set_variant_price")
        self.skus.forget(sku)       # the cached option row now holds the old price
        return WriteOutcome("updated", f"{place.catalog_id}/{place.option_code}", f"price={price}")
