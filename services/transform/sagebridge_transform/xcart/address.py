"""X-Cart address DTO → canonical v2 Address, normalised.

The 5.5 address DTO (`billing_address`, `shipping_address`, `/api/profiles/{id}/addresses`) has
firstname, lastname, phone, street, zipcode, city, country_code, state (the store's state id) and
state_name, and no street2 or company (those come as custom fields if the merchant configured them).
Normalised: strings trimmed, country ISO 3166-1 alpha-2 in upper case, `region_code` the ISO 3166-2
subdivision code without the country prefix (from `pycountry`, the Debian iso-codes data) when the
state name or code resolves, `erp_country` the code the ERP holds (`mapping.countries`).
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache

import pycountry

from sagebridge_common.errors import PermanentError
from sagebridge_common.pair_mapping import MappingTables

from .values import text

_CUSTOM_FIELDS = {"company": "company", "address line 2": "line2", "street2": "line2", "address2": "line2"}


def _fold(s: str) -> str:
    """Case and accents folded: stores write "Québec" where ISO 3166-2 has "Quebec"."""
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c)).casefold()


@lru_cache(maxsize=None)
def _subdivisions(alpha2: str) -> dict[str, str]:
    """Folded name or code (with and without the country prefix) → code without the prefix."""
    out: dict[str, str] = {}
    for sub in pycountry.subdivisions.get(country_code=alpha2) or []:
        short = sub.code.split("-", 1)[1]
        for key in (sub.name, short, sub.code):
            out.setdefault(_fold(key), short)
    return out


def region_code(alpha2: str, region: str | None) -> str | None:
    """"New York" or "NY" in US → "NY"; None when the region does not resolve."""
    if not region:
        return None
    return _subdivisions(alpha2).get(_fold(region.strip()))


def country_code(value: object, where: str) -> str:
    code = (text(value) or "").upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise PermanentError(f"{where}: country {value!r} is not an ISO 3166-1 alpha-2 code",
                             reason="invalid_address")
    return code


def _custom(a: dict) -> dict[str, str]:
    found: dict[str, str] = {}
    for f in a.get("custom_fields") or []:
        if isinstance(f, dict):
            key = _CUSTOM_FIELDS.get(str(f.get("name") or "").strip().lower())
            if key and text(f.get("value")):
                found.setdefault(key, text(f.get("value")))
    return found


def address(a: dict | None, email: str | None, mapping: MappingTables, where: str) -> dict | None:
    """The canonical address, or None when the order/profile has none."""
    if not a:
        return None
    country = country_code(a.get("country_code"), where)
    region = text(a.get("state_name"))
    extra = _custom(a)
    name = " ".join(p for p in (text(a.get("firstname")), text(a.get("lastname"))) if p) or "—"
    return {"name": name, "company": extra.get("company"), "line1": text(a.get("street")) or "",
            "line2": extra.get("line2"), "city": text(a.get("city")) or "", "region": region,
            "postal_code": text(a.get("zipcode")) or "", "country": country, "phone": text(a.get("phone")),
            "email": text(email), "region_code": region_code(country, region),
            "erp_country": mapping.erp_country(country)}
