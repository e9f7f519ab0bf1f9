"""The pair's mapping template: status tables, payment methods, ship-via codes, defaults.

Loaded and validated once at start, so a typo in the template stops the service with a clear
message instead of dead-lettering every order later.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class PaymentStatusRule:
    status: str
    ready_for_erp: bool


@dataclass(frozen=True)
class MappingTemplate:
    pair: str
    payment_status: dict[str, PaymentStatusRule]
    shipping_status: dict[str, str]
    block_shipping_status: frozenset[str]
    payment_methods: dict[str, str]
    ship_via: dict[str, str | None]
    default_customer: str
    default_location: str

    def payment(self, code: str | None) -> PaymentStatusRule:
        return self.payment_status.get(code or "", self.payment_status["default"])

    def shipping(self, code: str | None) -> str:
        return self.shipping_status.get(code or "", self.shipping_status["default"])

    def payment_method_code(self, name: str | None) -> str | None:
        return self.payment_methods.get(name or "", self.payment_methods.get("default"))

    def ship_via_code(self, name: str | None) -> str | None:
        return self.ship_via.get(name or "", self.ship_via.get("default"))


class MappingError(ValueError):
    pass


def load_mapping(path: str | Path) -> MappingTemplate:
    try:
        doc = yaml.safe_load(Path(path).read_text())
    except OSError as e:
        raise MappingError(f"cannot read mapping template {path}: {e}") from e
    try:
        payment = {str(k): PaymentStatusRule(str(v["status"]), bool(v["ready_for_erp"]))
                   for k, v in doc["payment_status"].items()}
        shipping = {str(k): str(v) for k, v in doc["shipping_status"].items()}
        if "default" not in payment or "default" not in shipping:
            raise MappingError("payment_status and shipping_status need a `default` entry")
        return MappingTemplate(
            pair=str(doc["pair"]),
            payment_status=payment,
            shipping_status=shipping,
            block_shipping_status=frozenset(str(c) for c in doc.get("block_shipping_status") or ()),
            payment_methods={str(k): str(v) for k, v in (doc.get("payment_methods") or {}).items()},
            ship_via={str(k): (None if v is None else str(v)) for k, v in (doc.get("ship_via") or {}).items()},
            default_customer=str(doc["default_customer"]),
            default_location=str(doc["default_location"]),
        )
    except (KeyError, TypeError, AttributeError) as e:
        raise MappingError(f"mapping template {path} is missing or has a malformed entry: {e!r}") from e
