"""The business tables of a pair file's `mapping:` block: every choice that is the merchant's, not
an API fact (status codes, payment methods, ship-via, locations, charge codes, defaults).

Transform applies them; the writers receive their results already in the canonical events. Keys are
strict: a misspelled key or a `"false"` where a boolean belongs stops the service at start instead of
mapping every order wrongly.
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PaymentStatusRule(Strict):
    status: str
    ready_for_erp: StrictBool


class ChargeCodes(Strict):
    """ERP miscellaneous charge codes for what the store adds to an order."""
    shipping: str = Field(description="Charge code for the storefront's shipping amount (Sage 300 OEMISC, 6 chars).")


class MappingTables(Strict):
    payment_status: dict[str, PaymentStatusRule] = Field(
        description="Store payment status code -> canonical status and whether the order is exported; needs `default`.")
    shipping_status: dict[str, str] = Field(description="Store shipping status code -> canonical status; needs `default`.")
    block_shipping_status: list[str] = Field(default_factory=list,
                                             description="Shipping statuses that block the export.")
    payment_methods: dict[str, str] = Field(default_factory=dict,
                                            description="Store payment method name -> ERP payment code (`default` allowed).")
    ship_via: dict[str, str | None] = Field(default_factory=dict,
                                            description="Store shipping method name -> ERP ship-via code (`default` allowed).")
    locations: dict[str, str] = Field(default_factory=dict,
                                      description="Store location/warehouse -> ERP location (`default` allowed).")
    charge_codes: ChargeCodes
    default_customer: str = Field(description="ERP customer for orders until customer sync links a real one.")
    default_location: str = Field(description="ERP location for order lines with no mapped location.")

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
