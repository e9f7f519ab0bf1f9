"""`mapping:` keys for the ERP -> store direction (issue 7): stock locations, the price list, the
catalogue, the order statuses the ERP sets in the store, and customers changed in the ERP.

Transform applies them to `erp.raw.v1` rows; the storefront writer receives their results in the
canonical events (quantity to show, price, active flag, category names, store status codes).

X-Cart sets an order's shipping and payment status codes; Shift4Shop and 3dcart have one order
status id instead (shift4shop.md §2.1 `OrderStatusID`), `order_status`.

X-Cart order status codes that only X-Cart itself sets (payment A "Authorized", D "Declined";
shipping WFA "Waiting for approve", NBA "New/Backorder") are refused here, at load time: a pair
file asking the hub to set them would fail on every order instead of once at start.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool, model_validator

from .pair_mapping_base import Strict

SYSTEM_ONLY_PAYMENT = frozenset({"A", "D"})        # xcart.md §1b/§3: set by payment processing only
SYSTEM_ONLY_SHIPPING = frozenset({"WFA", "NBA"})   # xcart.md §3: "system only (5.4+)"
ERP_STATUSES = ("open", "on_hold", "partially_shipped", "shipped", "complete", "cancelled")


class InventoryMapping(Strict):
    """Sage ICILOC locations -> the store's stock."""
    locations: dict[str, str] = Field(
        default_factory=lambda: {"1": "default"},
        description="Sage location (ICILOC LOCATION) -> store location (`default` for a single-stock store); "
                    "Sage locations not listed are ignored.")
    combine: Literal["sum", "pick"] = Field(
        default="sum", description="Several Sage locations on one store location: `sum` adds them, `pick` takes "
                                   "the first listed that has the item.")
    quantity: Literal["available", "on_hand"] = Field(
        default="available", description="Quantity the store shows: `available` (live on-hand - QTYCOMMIT) or "
                                         "`on_hand` (live on-hand = QTYONHAND + QTYRENOCST + QTYADNOCST - QTYSHNOCST).")

    def store_location(self, sage_location: str) -> str | None:
        return self.locations.get(sage_location)

    def sage_locations(self, store_location: str) -> list[str]:
        """The Sage locations feeding a store location, in the order the pair file lists them."""
        return [s for s, store in self.locations.items() if store == store_location]


class PricesMapping(Strict):
    price_list: str = Field(default="WEB", min_length=1, max_length=6,
                            description="ICPRICP PRICELIST (6 chars) the store price comes from; the currency is "
                                        "the pair's `currency`.")
    price_type: Literal["base", "sale"] = Field(
        default="base", description="`base` (DPRICETYPE 1) or `sale` (DPRICETYPE 2 while inside SALESTART..SALEEND, "
                                    "else the base price).")


class CatalogueMapping(Strict):
    categories: dict[str, str] = Field(default_factory=dict,
                                       description="Sage ICITEM CATEGORY -> store category name; unlisted: no category.")
    create_missing_categories: StrictBool = Field(
        default=False, description="Create a mapped store category that does not exist yet.")
    disable_when_not_on_web: StrictBool = Field(
        default=True, description="ALLOWONWEB = 0 disables the store product (INACTIVE = 1 always does).")
    sync_description: StrictBool = Field(
        default=True, description="ICITEM DESC becomes the store product's description; false: the store's "
                                  "own description is left alone.")


class StoreStatusCodes(Strict):
    shipping_status: str | None = Field(default=None, min_length=1,
                                        description="X-Cart shipping status code to set; unset: leave it.")
    payment_status: str | None = Field(default=None, min_length=1,
                                       description="X-Cart payment status code to set; unset: leave it.")
    order_status: str | None = Field(default=None, min_length=1,
                                     description="Shift4Shop/3dcart order status id to set (OrderStatusID, e.g. "
                                                 "\"4\" Shipped); unset: leave it. X-Cart has none.")

    def __repr__(self) -> str:          # the README default column shows the table as the pair file writes it
        return repr(self.model_dump(exclude_none=True))

    @model_validator(mode="after")
    def _settable_by_the_hub(self) -> "StoreStatusCodes":
        if self.payment_status in SYSTEM_ONLY_PAYMENT:
            raise ValueError(f"payment_status {self.payment_status} is set by X-Cart itself (system only); "
                             "the hub may not set it")
        if self.shipping_status in SYSTEM_ONLY_SHIPPING:
            raise ValueError(f"shipping_status {self.shipping_status} is system only in X-Cart 5.4+; "
                             "the hub may not set it")
        if self.order_status is not None and not (self.order_status.isascii() and self.order_status.isdigit()):
            raise ValueError(f"order_status {self.order_status!r} must be the store's status id (digits, e.g. \"4\"), "
                             "not its label: labels are merchant-editable")
        return self


def default_order_statuses() -> dict[str, StoreStatusCodes]:
    return {"shipped": StoreStatusCodes(shipping_status="S"),
            "partially_shipped": StoreStatusCodes(shipping_status="P"),
            "complete": StoreStatusCodes(shipping_status="S")}


class ErpCustomersMapping(Strict):
    update_store: StrictBool = Field(default=True,
                                     description="ARCUS changes update the store profile with that e-mail.")
    ignore_audit_users: list[str] = Field(
        default_factory=list, description="Sage users (ARCUS AUDTUSER) whose saves are the hub's own writes "
                                          "(the Web API user, erp.user): not sent back to the store.")

    def is_echo(self, audit_user: str | None) -> bool:
        user = (audit_user or "").strip().upper()
        return bool(user) and user in {u.strip().upper() for u in self.ignore_audit_users}


def check_order_statuses(value: dict[str, StoreStatusCodes]) -> dict[str, StoreStatusCodes]:
    """The table itself, or ValueError naming a status transform never derives (a typo)."""
    unknown = sorted(set(value) - set(ERP_STATUSES))
    if unknown:
        raise ValueError(f"unknown ERP status {', '.join(unknown)} (statuses: {', '.join(ERP_STATUSES)})")
    return value


OrderStatusTable = dict[str, StoreStatusCodes]
