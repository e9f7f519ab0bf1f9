"""The business tables of a pair file's `mapping:` block: every choice that is the merchant's, not
an API fact (status codes, payment methods, ship-via, locations, order charges, tax, item numbers,
customers, payments, refunds, defaults). Sub-blocks live in pair_mapping_orders / _customers /
_payments / _erp / _store_status (the status-by-id table of 3dcart / Shift4Shop).

Transform applies them; the writers receive their results already in the canonical events. Keys are
strict: a misspelled key or a `"false"` where a boolean belongs stops the service at start instead of
mapping every order wrongly.
"""
from __future__ import annotations


from pydantic import Field, StrictBool, field_validator, model_validator

from .pair_mapping_base import Strict
from .pair_mapping_customers import CustomersConfig
from .pair_mapping_erp import (CatalogueMapping, ErpCustomersMapping, InventoryMapping, PricesMapping, StoreStatusCodes,
                               check_order_statuses, default_order_statuses)
from .pair_mapping_orders import ChargeRule, ItemsConfig, OrderCharges, TaxMode
from .pair_mapping_payments import PaymentsConfig, RefundsConfig
from .pair_mapping_store_status import OrderStatusRule, StoreStatusMixin

__all__ = ["CatalogueMapping", "ChargeRule", "CustomersConfig", "ErpCustomersMapping", "InventoryMapping",
           "PricesMapping", "StoreStatusCodes", "ItemsConfig", "MappingTables", "OrderCharges", "OrderStatusRule",
           "PaymentStatusRule", "PaymentsConfig", "RefundsConfig", "Strict"]


class PaymentStatusRule(Strict):
    status: str = Field(description="Canonical payment status.")
    ready_for_erp: StrictBool = Field(description="Whether an order in this status is exported to the ERP.")

    def __repr__(self) -> str:          # the README default column shows the table as the pair file writes it
        return repr(self.model_dump())


def _unknown_payment_status() -> dict[str, PaymentStatusRule]:
    return {"default": PaymentStatusRule(status="unknown", ready_for_erp=False)}


def _unknown_shipping_status() -> dict[str, str]:
    return {"default": "unknown"}


class MappingTables(StoreStatusMixin):
    """`order_status` and `order_total_tolerance` (single-status-id stores) come from StoreStatusMixin."""
    payment_status: dict[str, PaymentStatusRule] = Field(
        default_factory=_unknown_payment_status,
        description="Store payment status code -> canonical status and whether the order is exported; needs "
                    "`default`. Omitted (stores with one status id, see order_status): only `default` unknown, "
                    "not exported.")
    shipping_status: dict[str, str] = Field(
        default_factory=_unknown_shipping_status,
        description="Store shipping status code -> canonical status; needs `default`. Omitted: only `default` "
                    "unknown.")
    block_shipping_status: list[str] = Field(default_factory=list,
                                             description="Shipping statuses that block the export.")
    payment_methods: dict[str, str] = Field(default_factory=dict,
                                            description="Store payment method name -> ERP payment code (`default` allowed).")
    ship_via: dict[str, str | None] = Field(default_factory=dict,
                                            description="Store shipping method name -> ERP ship-via code (`default` allowed).")
    locations: dict[str, str] = Field(default_factory=dict,
                                      description="Store location/warehouse -> ERP location (`default` allowed).")
    order_charges: OrderCharges = Field(description="Where shipping, handling, discounts and surcharges go.")
    tax: TaxMode = Field(default="store", description="`store`: send the store's tax as an override; `erp`: let the "
                                                      "ERP compute it.")
    currency_rate_type: str | None = Field(
        default=None, description="ERP rate type (e.g. `SP`) sent with the order's currency; unset: no rate type.")
    countries: dict[str, str] = Field(default_factory=dict,
                                      description="ISO 3166-1 alpha-2 -> the ERP's country code (default: the alpha-2).")
    items: ItemsConfig = Field(default_factory=ItemsConfig)
    customers: CustomersConfig = Field(default_factory=CustomersConfig)
    payments: PaymentsConfig = Field(default_factory=PaymentsConfig)
    refunds: RefundsConfig = Field(default_factory=RefundsConfig)
    inventory: InventoryMapping = Field(default_factory=InventoryMapping)
    prices: PricesMapping = Field(default_factory=PricesMapping)
    catalogue: CatalogueMapping = Field(default_factory=CatalogueMapping)
    erp_order_status: dict[str, StoreStatusCodes] = Field(
        default_factory=default_order_statuses,
        description="Canonical ERP order status (open, on_hold, partially_shipped, shipped, complete) -> "
                    "{shipping_status, payment_status} (X-Cart) or {order_status} (the status id, Shift4Shop / "
                    "3dcart) store codes to set; omitted: leave the order alone. "
                    "System-only codes (payment A, D; shipping WFA, NBA) are refused.")
    erp_customers: ErpCustomersMapping = Field(default_factory=ErpCustomersMapping)
    default_customer: str = Field(description="ERP customer for guest orders when customers.guests is "
                                              "`default_customer`.")
    default_location: str = Field(description="ERP location for order lines with no mapped location.")

    @field_validator("countries")
    @classmethod
    def _alpha2_keys(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [k for k in value if len(k) != 2 or not k.isalpha() or not k.isupper()]
        if bad:
            raise ValueError(f"keys must be ISO 3166-1 alpha-2 codes in upper case (e.g. US), not {', '.join(bad)}")
        return value

    @field_validator("erp_order_status")
    @classmethod
    def _known_erp_statuses(cls, value: dict[str, StoreStatusCodes]) -> dict[str, StoreStatusCodes]:
        return check_order_statuses(value)

    @model_validator(mode="after")
    def _defaults_present(self) -> "MappingTables":
        for table in ("payment_status", "shipping_status"):
            if "default" not in getattr(self, table):
                raise ValueError(f"{table} needs a `default` entry for codes the table does not list")
        return self

    def payment(self, code: str | None) -> PaymentStatusRule:
        return self.payment_status.get(code or "", self.payment_status["default"])

    def shipping(self, code: str | None) -> str:
        return self.shipping_status.get(code or "", self.shipping_status["default"])

    def payment_method_code(self, name: str | None) -> str | None:
        return self.payment_methods.get(name or "", self.payment_methods.get("default"))

    def ship_via_code(self, name: str | None) -> str | None:
        return self.ship_via.get(name or "", self.ship_via.get("default"))

    def location_code(self, store_location: str | None) -> str:
        return self.locations.get(store_location or "", self.locations.get("default", self.default_location))

    def store_status_codes(self, erp_status: str) -> StoreStatusCodes:
        """The store codes an ERP-side order status sets (none set: leave the store order alone)."""
        return self.erp_order_status.get(erp_status) or StoreStatusCodes()

    def erp_country(self, alpha2: str) -> str:
        return self.countries.get(alpha2, alpha2)

    def customer_number(self, email_key: str) -> str:
        """The number a new ERP customer with this e-mail key gets (see pair_mapping_customers)."""
        return self.customers.customer_number(email_key)
