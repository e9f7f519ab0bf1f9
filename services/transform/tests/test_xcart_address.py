"""Addresses normalised: trimmed strings, country alpha-2 upper case, ISO 3166-2 region codes by
name or code (pycountry), the ERP's country code from the template, bad countries refused."""
from __future__ import annotations

import pytest

from sagebridge_common.errors import PermanentError
from sagebridge_transform.xcart.address import address, region_code

from .test_xcart_order import PAIRS, mapped, xcart_order

MAPPING = PAIRS["xcart-sage300"].mapping


def dto(**over) -> dict:
    base = {"id": 1, "is_billing": True, "is_shipping": True, "firstname": "  Ann ", "lastname": "Lee  ",
            "phone": " 555-0100 ", "street": " 1 Main St ", "zipcode": " 10001 ", "city": " New York ",
            "country_code": " us ", "state": 12, "state_name": " New York ", "custom_fields": []}
    return {**base, **over}


def test_strings_are_trimmed_and_the_country_upper_cased():
    a = address(dto(), " ann@example.com ", MAPPING, "order 1")
    assert a == {"name": "Ann Lee", "company": None, "line1": "1 Main St", "line2": None, "city": "New York",
                 "region": "New York", "postal_code": "10001", "country": "US", "phone": "555-0100",
                 "email": "ann@example.com", "region_code": "NY", "erp_country": "US"}


@pytest.mark.parametrize("country,region,code", [
    ("US", "New York", "NY"), ("US", "ny", "NY"), ("US", "US-CA", "CA"), ("CA", "Québec", "QC"),
    ("CA", "ON", "ON"), ("DE", "Bayern", "BY"), ("US", "Atlantis", None), ("US", None, None), ("GB", "", None)])
def test_region_codes_resolve_by_name_or_code_within_the_country(country, region, code):
    assert region_code(country, region) == code


def test_a_region_of_another_country_does_not_resolve():
    assert region_code("CA", "New York") is None


def test_the_erp_country_comes_from_the_template_and_defaults_to_the_alpha2():
    o = mapped(countries={"US": "USA"})
    assert (o["billing_address"]["country"], o["billing_address"]["erp_country"]) == ("US", "USA")
    assert mapped()["billing_address"]["erp_country"] == "US"


def test_company_and_second_line_from_the_custom_fields_x_cart_uses_for_them():
    fields = [{"name": "Company", "value": " Acme Inc "}, {"name": "Address line 2", "value": "Suite 4"}]
    a = address(dto(custom_fields=fields), None, MAPPING, "order 1")
    assert (a["company"], a["line2"], a["email"]) == ("Acme Inc", "Suite 4", None)


@pytest.mark.parametrize("country", ["USA", "", None, "ZZ", "1"])
def test_a_country_that_is_not_iso_alpha2_is_permanent_naming_the_address(country):
    order = xcart_order()
    order["shipping_address"]["country_code"] = country
    with pytest.raises(PermanentError) as e:
        mapped(order)
    assert e.value.reason == "invalid_address" and "order 1051 shipping" in str(e.value)


def test_a_missing_address_stays_null():
    assert mapped(xcart_order(billing_address=None))["billing_address"] is None
