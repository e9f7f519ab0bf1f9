"""`mapping:` keys for stores that give an order ONE status id (3dcart / Shift4Shop), and the order
total tolerance.

Shift4Shop's REST order carries `OrderStatusID` and 3dcart's SOAP order only the status *text*
(the connector adds the id from getOrderStatus). The texts are labels the merchant can rename
(`GET /OrderStatus` gives `StatusDefinition` and an editable `StatusText`, shift4shop.md §2.1), so
the hub maps by id, never by label: `mapping.order_status` is "status id -> canonical status,
whether the order goes to the ERP, canonical fulfilment status", with a `default` for ids it does
not list (custom statuses 8-10, new ones). The ids 1-7, 11, 12 and their meanings are the store's
fixed definitions (1-6, 11 from 3dcart's own sample, H; 7, 12 from SkuVault's enum, M), so the
shipped table below is the default when a pair file leaves the key out.

X-Cart pair files do not use this table (X-Cart has separate payment and shipping codes); it
is optional so they stay valid unchanged.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import Field, StrictBool, field_validator

from .pair_mapping_base import Strict


class OrderStatusRule(Strict):
    status: str = Field(description="Canonical order status (e.g. new, shipped, cancelled).")
    ready_for_erp: StrictBool = Field(description="Whether an order with this status id is exported to the ERP.")
    fulfilment: str = Field(description="Canonical fulfilment status (e.g. new, processing, shipped).")

    def __repr__(self) -> str:          # the README default column shows the table as the pair file writes it
        return repr(self.model_dump())


def default_order_status() -> dict[str, OrderStatusRule]:
    """The store's fixed status definitions (shift4shop.md §2.1); unknown ids: not exported."""
    rows = {"1": ("new", True, "new"), "2": ("processing", True, "processing"),
            "3": ("partially_shipped", True, "partially_shipped"), "4": ("shipped", True, "shipped"),
            "5": ("cancelled", False, "will_not_deliver"), "6": ("on_hold", False, "on_hold"),
            "7": ("not_completed", False, "not_finished"), "11": ("awaiting_payment", False, "new"),
            "12": ("review", False, "awaiting_approval"), "default": ("unknown", False, "unknown")}
    return {k: OrderStatusRule(status=s, ready_for_erp=r, fulfilment=f) for k, (s, r, f) in rows.items()}


def check_order_status(value: dict[str, OrderStatusRule]) -> dict[str, OrderStatusRule]:
    """Keys are status ids as strings ("4", as the YAML `"4":` or `4:`) plus `default`."""
    bad = [k for k in value if k != "default" and not k.isdigit()]
    if bad:
        raise ValueError(f"keys must be store status ids (digits, e.g. \"4\") or `default`, not {', '.join(bad)} "
                         "(status labels are merchant-editable: map by id)")
    if "default" not in value:
        raise ValueError("order_status needs a `default` entry for status ids the table does not list")
    return value


def ids_as_strings(value: Any) -> Any:
    """YAML reads `4:` as the integer 4; the table is keyed by the id's text."""
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else value


class StoreStatusMixin(Strict):
    """The fields MappingTables gains for single-status-id stores."""
    order_status: dict[str, OrderStatusRule] = Field(
        default_factory=default_order_status,
        description="3dcart/Shift4Shop order status id -> {status, ready_for_erp, fulfilment}; needs `default`. "
                    "Default: 1 new, 2 processing, 3 partially_shipped, 4 shipped (exported); 5 cancelled, "
                    "6 on_hold, 7 not_completed, 11 awaiting_payment, 12 review, default unknown (not exported).")
    order_total_tolerance: Decimal = Field(
        default=Decimal("0.01"), ge=0,
        description="Largest accepted difference between the store's order total and lines - discount + "
                    "shipping + tax (3dcart/Shift4Shop); more is a `totals_mismatch` dead letter.")

    @field_validator("order_status", mode="before")
    @classmethod
    def _ids_as_strings(cls, value: Any) -> Any:
        return ids_as_strings(value)

    @field_validator("order_status")
    @classmethod
    def _ids_and_default(cls, value: dict[str, OrderStatusRule]) -> dict[str, OrderStatusRule]:
        return check_order_status(value)

    @field_validator("order_total_tolerance", mode="before")
    @classmethod
    def _exact_tolerance(cls, value: Any) -> Any:
        """A YAML float (0.01) becomes its shortest text first, so no binary fraction sneaks in."""
        return str(value) if isinstance(value, float) else value

    def store_order_status(self, status_id: object) -> OrderStatusRule:
        """The rule of a store status id (int or text); `default` for ids the table does not list."""
        key = str(status_id).strip() if status_id is not None else ""
        return self.order_status.get(key, self.order_status["default"])
