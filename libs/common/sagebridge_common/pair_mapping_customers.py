"""`mapping.customers`: guests, and the number a new ERP customer gets.

The number is a pure function of the e-mail key, so two writers creating the same new customer at
once (three orders of one new e-mail on different partitions) pick the same number: Sage 300
refuses the second POST AR/ARCustomers with RecordDuplicate on its natural key, instead of
creating a second customer under another number. Sage's customer number (ARCUS.IDCUST) is char(12).
"""
from __future__ import annotations

import base64
import hashlib
import re
from typing import Literal

from pydantic import Field, model_validator

from .pair_mapping_base import Strict

IDCUST_LENGTH = 12
HASH_SUFFIX = 4          # email_name: "-" + this many hash characters keep two "ann@" addresses apart
MIN_HASH_CHARS = 8       # hash: at least 40 bits of the digest


def _b32_digest(email_key: str) -> str:
    return base64.b32encode(hashlib.sha256(email_key.encode()).digest()).decode().rstrip("=")


class CustomersConfig(Strict):
    guests: Literal["default_customer", "own_customer"] = Field(
        default="default_customer",
        description="Guest orders: `default_customer` (mapping.default_customer) or `own_customer` (an ERP customer "
                    "per e-mail).")
    number_rule: Literal["hash", "email_name"] = Field(
        default="hash", description="New customer numbers: `hash` (prefix + base32 of sha256(e-mail)) or "
                                    "`email_name` (prefix + the e-mail's local part + `-` + 4 hash characters).")
    number_prefix: str = Field(default="W", pattern=r"^[A-Z0-9]*$",
                               description="Prefix of new customer numbers (A-Z, 0-9).")
    number_length: int = Field(default=IDCUST_LENGTH, ge=1, le=IDCUST_LENGTH,
                               description="Length of new customer numbers, prefix included (Sage IDCUST is char(12)).")

    @model_validator(mode="after")
    def _room_for_the_rule(self) -> "CustomersConfig":
        room = self.number_length - len(self.number_prefix)
        need = MIN_HASH_CHARS if self.number_rule == "hash" else HASH_SUFFIX + 1
        if room < need:
            raise ValueError(f"number_prefix {self.number_prefix!r} leaves {room} of number_length "
                             f"{self.number_length} characters; rule {self.number_rule} needs at least {need}")
        return self

    def customer_number(self, email_key: str) -> str:
        """The ERP customer number this rule gives an e-mail key (deterministic)."""
        digest = _b32_digest(email_key)
        if self.number_rule == "hash":
            return (self.number_prefix + digest)[:self.number_length]
        local = re.sub(r"[^A-Z0-9]", "", email_key.partition("@")[0].upper())
        room = self.number_length - len(self.number_prefix) - HASH_SUFFIX - 1
        return f"{self.number_prefix}{local[:room]}-{digest[:HASH_SUFFIX]}"
