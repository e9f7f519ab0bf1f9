"""3dcart / Shift4Shop addresses and order customers, normalised as X-Cart's are.

Both APIs give flat address parts (REST `Billing*` / `Shipment*` fields, SOAP `BillingAddress{...}` /
`Shipment{...}` elements); each API's module names its fields and hands the parts here. Country and
state normalisation is X-Cart's (`xcart.address`: ISO 3166-1 alpha-2 country, ISO 3166-2 region code
via pycountry, `mapping.countries`), reused, not repeated. SOAP may write the state with its country
prefix ("US-CA", recorded mock, shift4shop.md §4): the region is kept without it.

`CustomerID` 0 means a guest (shift4shop.md §2.1); identity is the e-mail key as for X-Cart.
"""
from __future__ import annotations

from dataclasses import dataclass

from sagebridge_common.customers import email_key
from sagebridge_common.errors import PermanentError
from sagebridge_common.pair_mapping import MappingTables
from sagebridge_common.pairs import PairConfig

from ..xcart.address import country_code, region_code
from .values import text


@dataclass(frozen=True)
class AddressParts:
    first_name: object = None
    last_name: object = None
    company: object = None
    line1: object = None
    line2: object = None
    city: object = None
    region: object = None
    postal_code: object = None
    country: object = None
    phone: object = None
    email: object = None

    def blank(self) -> bool:
        """No place at all (a name alone, as on a download-only order's shipment, is no address)."""
        return not any(text(getattr(self, f)) for f in ("line1", "city", "postal_code", "country"))


def _region(country: str, value: object) -> str | None:
    region = text(value)
    if region and region.upper().startswith(country + "-"):
        region = region[len(country) + 1:].strip() or None
    return region


def address(parts: AddressParts | None, email: str | None, mapping: MappingTables, where: str) -> dict | None:
    """The canonical v2 Address, or None when the record has no address at all."""
    if parts is None or parts.blank():
        return None
    country = country_code(parts.country, where)
    region = _region(country, parts.region)
    name = " ".join(p for p in (text(parts.first_name), text(parts.last_name)) if p) or "—"
    return {"name": name, "company": text(parts.company), "line1": text(parts.line1) or "",
            "line2": text(parts.line2), "city": text(parts.city) or "", "region": region,
            "postal_code": text(parts.postal_code) or "", "country": country, "phone": text(parts.phone),
            "email": text(parts.email) or text(email), "region_code": region_code(country, region),
            "erp_country": mapping.erp_country(country)}


def is_guest(customer_id: object) -> bool:
    return text(customer_id) in (None, "0")


def order_customer(customer_id: object, billing: AddressParts, pair: PairConfig, where: str) -> dict:
    """The v2 OrderCustomer of an order, from its billing e-mail, name and phone."""
    mapping = pair.mapping
    email = text(billing.email)
    key = email_key(email)
    if not key:
        raise PermanentError(f"{where} has no billing e-mail", reason="invalid_order")
    guest = is_guest(customer_id)
    to_default = guest and mapping.customers.guests == "default_customer"
    return {"storefront_customer_id": None if guest else text(customer_id), "email": email, "email_key": key,
            "first_name": text(billing.first_name) or "", "last_name": text(billing.last_name) or "",
            "phone": text(billing.phone), "is_guest": guest,
            "erp_customer_id": mapping.default_customer if to_default else None,
            "new_customer_number": None if to_default else mapping.customer_number(key)}
