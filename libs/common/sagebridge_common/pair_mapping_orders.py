"""`mapping:` keys for the sales order itself: where charges go, tax, currency rate type, countries
and item numbers.

An ERP order carries the store's extras in two ways: a line with a charge code (Sage 300: an OE
Miscellaneous line with a code from OEMISC; Intacct: an sotransitem whose itemid is a charge item)
or a header amount (Sage 300: `OrderDiscountAmount`, discounts only; Intacct: a subtotal, any
charge). Which one is the merchant's accounting choice. What one ERP cannot hold is refused by its
sink at start (Sage 300: header charges other than discounts, codes over 6 characters:
`sagebridge_connectors.sage300.orders.check_charge_rules`), not here.
"""
from __future__ import annotations

from functools import cached_property
from typing import Literal

from pydantic import Field, model_validator

from .item_numbers import ItemNumberRule
from .pair_mapping_base import Strict


class ChargeRule(Strict):
    placement: Literal["line", "header"] = Field(
        description="`line` = a charge line with `code`; `header` = an order header amount (Sage 300: discounts "
                    "only; Intacct: a subtotal).")
    code: str | None = Field(default=None, min_length=1, max_length=100, description=(
        "Charge code of a `line`: Sage 300 OE miscellaneous charge code (OEMISC, at most 6 characters), Intacct "
        "charge item id (ITEMID); required for `line`."))

    @model_validator(mode="after")
    def _line_has_code(self) -> "ChargeRule":
        if self.placement == "line" and not self.code:
            raise ValueError("placement line needs a `code` (the OE miscellaneous charge code)")
        return self


class OrderCharges(Strict):
    """Where each kind of X-Cart surcharge goes on the ERP order (tax is never a charge: it is the
    order's tax amount)."""
    shipping: ChargeRule = Field(description="The store's shipping amount.")
    handling: ChargeRule | None = Field(default=None, description="Handling surcharges; default: as `shipping`.")
    discount: ChargeRule = Field(default=ChargeRule(placement="header"),
                                 description="Coupons and discounts: `header` (a negative header amount) or a `line`.")
    surcharge: ChargeRule | None = Field(default=None,
                                         description="Any other non-tax surcharge; default: as `shipping`.")

    def rule(self, kind: str) -> ChargeRule:
        """The rule for a charge kind: shipping | handling | discount | surcharge."""
        return getattr(self, kind) or self.shipping


class ItemsConfig(Strict):
    """Store SKU <-> ERP item number (see `sagebridge_common.item_numbers`)."""
    rule: Literal["as_is", "formatted", "table"] = Field(
        default="as_is", description="`as_is`, `formatted` (insert the item structure's separators) or `table`.")
    structure: str | None = Field(
        default=None, description="For `formatted`: e.g. `XX-XXX/X`, X = one character of the SKU, anything else "
                                  "a separator.")
    table: dict[str, str] = Field(default_factory=dict,
                                  description="For `table`: SKU -> item number, one-to-one.")

    @model_validator(mode="after")
    def _rule_is_usable(self) -> "ItemsConfig":
        self.number_rule      # ValueError names what is wrong with the structure or table
        return self

    @cached_property
    def number_rule(self) -> ItemNumberRule:
        return ItemNumberRule(self.rule, self.structure, self.table)


TaxMode = Literal["store", "erp"]
