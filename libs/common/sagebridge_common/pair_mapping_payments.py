"""`mapping.payments` and `mapping.refunds`: how store money movements land in Sage 300 AR.

A payment becomes a receipt batch entry (AR/ARReceiptAndAdjustmentBatches, BatchRecordType CA):
the bank it is deposited into (`BankCode`) and its `ReceiptTransactionType` (Receipt, Prepayment or
UnappliedCash) are the merchant's, per ERP payment code. A refund becomes an adjustment (AD)
distributed to a GL account. Gateway fees, when enabled, are a GL journal (expense debited,
clearing credited).
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from pydantic import Field, model_validator

from .pair_mapping_base import Strict

CENT = Decimal("0.01")


class PaymentMethodRule(Strict):
    bank_code: str = Field(description="Sage 300 bank code the receipt is deposited into.")
    receipt_type: Literal["Receipt", "Prepayment", "UnappliedCash"] = Field(
        default="Prepayment", description="AR receipt transaction type (ReceiptTransactionType).")


class FeeRule(Strict):
    percent: Decimal = Field(default=Decimal(0), ge=0, description="Percent of the payment amount.")
    fixed: Decimal = Field(default=Decimal(0), ge=0, description="Fixed amount per payment.")

    def fee(self, amount: Decimal) -> Decimal:
        return (amount * self.percent / 100 + self.fixed).quantize(CENT, ROUND_HALF_UP)


class FeesConfig(Strict):
    enabled: bool = Field(default=False, strict=True, description="Post gateway fees as a GL journal entry.")
    expense_account: str | None = Field(default=None, description="GL account debited with the fee.")
    clearing_account: str | None = Field(default=None, description="GL account credited with the fee.")
    methods: dict[str, FeeRule] = Field(default_factory=dict,
                                        description="ERP payment code -> {percent, fixed} (`default` allowed).")

    @model_validator(mode="after")
    def _accounts_when_enabled(self) -> "FeesConfig":
        if self.enabled and not (self.expense_account and self.clearing_account):
            raise ValueError("enabled fees need expense_account and clearing_account")
        return self

    def fee(self, method_code: str | None, amount: Decimal) -> Decimal | None:
        """The fee of a payment, or None when fees are off or the method has no fee rule."""
        if not self.enabled:
            return None
        rule = self.methods.get(method_code or "", self.methods.get("default"))
        return rule.fee(amount) if rule is not None else None


class PaymentsConfig(Strict):
    methods: dict[str, PaymentMethodRule] = Field(
        default_factory=dict, description="ERP payment code (payment_methods' result) -> {bank_code, receipt_type}; "
                                          "`default` allowed.")
    fees: FeesConfig = Field(default_factory=FeesConfig)

    def method(self, code: str | None) -> PaymentMethodRule | None:
        return self.methods.get(code or "", self.methods.get("default"))


class RefundsConfig(Strict):
    gl_account: str | None = Field(default=None,
                                   description="GL account the refund adjustment is distributed to; needed for refunds.")
    distribution_code: str | None = Field(default=None, description="AR distribution code, instead of the account.")
