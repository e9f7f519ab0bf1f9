"""The X-Cart 5.5 `StorefrontSink`: ERP-origin stock, products, order status, tracking, customers.

Calls (reference xcart.md §1b): `PUT /api/products/{id}` and `PUT /api/products/{pid}/variants/{id}`
(partial: only the sent fields change), category membership through `/api/categories/{cid}/products`,
`GET /api/orders/by_number/{n}` then `PUT /api/orders/{id}/shipping_status|payment_status`
(`{"code": ..}`), tracking numbers through the Sagebridge push module's endpoint
(`POST /?target=sagebridge_tracking`), profiles' addresses through `/api/profiles/{id}/addresses`.

Rules:
- idempotent: every call sets a state; a repeat of the same event answers `already_present`;
- only what differs is written where a read is cheap (a product, a status, an address: one GET
  that saves a PUT and a store-side history entry). Stock is written blind: a read costs the same
  call as the write, and coalescing already keeps it to about one call per settled SKU;
- never the system-only codes (§3: payment A, D are gateway-only; shipping WFA, NBA are set by the
  system): `PermanentError(reason="refused_value")` before any call;
- negative quantities are clamped at 0 (`amount` is an unsigned int in X-Cart, §5); a fractional
  quantity is rounded down (the store cannot sell part of a unit it does not have);
- where the module is absent (`tracking: none`) the 5.5 API has no tracking write, so a shipment
  sets the shipping status to Shipped and the number is only recorded in the result message.
"""
from __future__ import annotations

import time
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import httpx

from sagebridge_common.contracts import WriteOutcome
from sagebridge_common.errors import PermanentError

from .catalogue_map import CategoryMap, SkuMap, SkuPlace
from .config import XCartStorefrontConfig
from .sink_customers import CustomerWrites
from .sink_http import MODULE_TOKEN_HEADER, StoreCalls, json_number

SYSTEM_ONLY = {"payment_status": {"A", "D"}, "shipping_status": {"WFA", "NBA"}}
SHIPPED = "S"
PING_FRESH_S = 30.0     # a store answer younger than this stands for readiness (see `ping`)


def store_amount(quantity: Decimal) -> int:
    return max(0, int(quantity.to_integral_value(rounding=ROUND_FLOOR)))


def _not_found(e: PermanentError) -> bool:
    return e.reason == "xcart_not_found"


class XCartSink(CustomerWrites):
    kind = "xcart"

    def __init__(self, cfg: XCartStorefrontConfig, *, transport: httpx.BaseTransport | None = None,
                 calls: StoreCalls | None = None) -> None:
        self.cfg = cfg
        self.calls = calls or StoreCalls(cfg, transport=transport)
        self.skus = SkuMap(self.calls, cfg.sku_map_ttl_s)
        self.categories = CategoryMap(self.calls)

    def close(self) -> None:
        self.calls.close()

    def ping(self) -> tuple[bool, str]:
        """A store that answered one of the writer's own calls lately is reachable: no probe then,
        because a probe waits its turn in the rate limit behind queued writes and a busy writer
        would look down to a readiness check with a short timeout."""
        last = self.calls.last_answer
        if last is not None and time.monotonic() - last < PING_FRESH_S:
            return True, f"store answered {time.monotonic() - last:.0f}s ago"
        try:
            self.calls.get("ping", "/api/products", {"itemsPerPage": 1})
            return True, "ok"
        except Exception as e:
            return False, str(e)[:200]

    # -- catalogue -------------------------------------------------------------------------------
    def _place(self, sku: str) -> SkuPlace:
        place = self.skus.find(sku)
        if place is None:
            raise PermanentError(f"X-Cart has no product or variant with SKU {sku!r}", reason="unknown_sku")
        return place

    @staticmethod
    def _path(place: SkuPlace) -> str:
        if place.variant_id is None:
            return f"/api/products/{place.product_id}"
        return f"/api/products/{place.product_id}/variants/{place.variant_id}"

    def set_stock(self, sku: str, quantity: Decimal, location: str | None = None) -> WriteOutcome:
        place = self._place(sku)
        amount = store_amount(quantity)
        body: dict[str, Any] = {"amount": amount}
        if place.variant_id is not None:
            body["default_amount"] = False      # a variant on the product's stock would ignore `amount`
        try:
            self.calls.put("set_stock", self._path(place), body)
        except PermanentError as e:
            if _not_found(e):
                raise PermanentError(f"SKU {sku!r} is gone from X-Cart ({self._path(place)})",
                                     reason="unknown_sku") from e
            raise
        return WriteOutcome("updated", str(place.variant_id or place.product_id), f"amount {amount}")

    def update_product(self, product: dict[str, Any]) -> WriteOutcome:
        place = self._place(product["sku"])
        path = self._path(place)
        current = self.calls.get("get_product", path)
        wanted: dict[str, Any] = {}
        if product.get("price") is not None:
            wanted["price"] = Decimal(product["price"])
        if place.variant_id is None:
            if product.get("description") is not None:
                wanted["description"] = product["description"]
            wanted["enabled"] = bool(product.get("active", True)) and not product.get("deleted", False)
        changes = {k: v for k, v in wanted.items() if not _same(current.get(k), v)}
        if changes:
            self.calls.put("update_product", path,
                           {k: json_number(v) if isinstance(v, Decimal) else v for k, v in changes.items()})
        notes = [f"{k}={v}" for k, v in changes.items() if k != "description"] + (
            ["description"] if "description" in changes else [])
        added, missing = self._categories(place.product_id, product)
        notes += [f"category {c}" for c in added] + [f"category {c!r} not in the store (not created)" for c in missing]
        outcome = "updated" if changes or added else "already_present"
        return WriteOutcome(outcome, str(place.variant_id or place.product_id), "; ".join(notes) or None)

    def _categories(self, pid: int, product: dict[str, Any]) -> tuple[list[str], list[str]]:
        """Adds the product to each named category (created when the event says so)."""
        added, missing = [], []
        for name in product.get("categories") or []:
            cid = self.categories.find(name)
            if cid is None:
                if not product.get("create_missing_categories"):
                    missing.append(name)
                    continue
                cid = self.categories.create(name)
            members = self.calls.pages("get_category_products", f"/api/categories/{cid}/products")
            if not any(int(m.get("product_id", m.get("id", -1))) == pid for m in members):
                self.calls.post("add_category_product", f"/api/categories/{cid}/products", {"product_id": pid})
                added.append(name)
        return added, missing

    # -- orders ----------------------------------------------------------------------------------
    def _order_id(self, order_number: str) -> int:
        try:
            return int(self.calls.get("get_order_by_number", f"/api/orders/by_number/{order_number}")["id"])
        except PermanentError as e:
            if _not_found(e):
                raise PermanentError(f"X-Cart has no order number {order_number!r}", reason="unknown_order") from e
            raise

    def set_order_status(self, order_number: str, *, shipping_status: str | None = None,
                         payment_status: str | None = None, order_status: str | None = None) -> WriteOutcome:
        """X-Cart has shipping and payment statuses and no single order status id: `order_status`
        (Shift4Shop/3dcart's) is ignored; an X-Cart pair's mapping never sets it."""
        wanted = {k: v for k, v in (("shipping_status", shipping_status), ("payment_status", payment_status)) if v}
        for kind, code in wanted.items():
            if code in SYSTEM_ONLY[kind]:
                raise PermanentError(f"{kind} {code!r} is set by X-Cart itself, never by hand",
                                     reason="refused_value")
        if not wanted:
            if order_status:
                return WriteOutcome("skipped", None, f"order_status {order_status!r} ignored: X-Cart orders have "
                                                     "shipping and payment statuses only")
            return WriteOutcome("skipped", None, "no store status to set")
        oid = self._order_id(order_number)
        written = []
        for kind, code in wanted.items():
            current = self.calls.get(f"get_{kind}", f"/api/orders/{oid}/{kind}")
            if current.get("code") != code:
                self.calls.put(f"set_{kind}", f"/api/orders/{oid}/{kind}", {"code": code})
                written.append(f"{kind} {code}")
        if not written:
            return WriteOutcome("already_present", str(oid), None)
        return WriteOutcome("updated", str(oid), ", ".join(written))

    def add_shipment(self, order_number: str, carrier: str | None, tracking_number: str) -> WriteOutcome:
        if self.cfg.tracking == "none":
            done = self.set_order_status(order_number, shipping_status=SHIPPED)
            note = (f"tracking {tracking_number} ({carrier or 'no carrier'}) not stored: the X-Cart 5.5 API has no "
                    "tracking write and the push module is not installed (tracking: none)")
            return WriteOutcome(done.outcome, done.document_id, f"{note}; {done.message or 'status already S'}")
        body = {"order_number": order_number, "tracking_number": tracking_number, "carrier": carrier or ""}
        try:
            resp = self.calls.post("add_tracking", "/", body, params={"target": "sagebridge_tracking"},
                                   headers={MODULE_TOKEN_HEADER: self.cfg.module_token.get_secret_value()})
        except PermanentError as e:
            if _not_found(e):
                raise PermanentError(f"X-Cart has no order number {order_number!r}", reason="unknown_order") from e
            raise
        made = resp.json()
        outcome = "updated" if resp.status_code == 201 else "already_present"
        return WriteOutcome(outcome, str(made.get("order_id")), f"tracking {tracking_number}")


def _same(current: Any, wanted: Any) -> bool:
    if isinstance(wanted, Decimal):
        try:
            return current is not None and Decimal(str(current)) == wanted
        except ArithmeticError:
            return False
    return current == wanted
