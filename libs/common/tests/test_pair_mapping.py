"""The issue-6 `mapping:` blocks: order charges, tax, countries, item numbers (both directions),
customer numbers, payments, fees and refunds; each mistake is refused naming its key."""
from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from sagebridge_common.errors import PermanentError
from sagebridge_common.item_numbers import ItemNumberRule
from sagebridge_common.pair_mapping import MappingTables

BASE = {
    "payment_status": {"default": {"status": "unknown", "ready_for_erp": False}},
    "shipping_status": {"default": "unknown"},
    "order_charges": {"shipping": {"placement": "line", "code": "FRT"}},
    "default_customer": "WEBCUST", "default_location": "1",
}


def tables(**over) -> MappingTables:
    return MappingTables.model_validate({**BASE, **over})


def refused(**over) -> tuple[str, str]:
    """(dotted location, message) of the single error the override causes."""
    with pytest.raises(ValidationError) as e:
        tables(**over)
    [err] = e.value.errors()
    return ".".join(str(p) for p in err["loc"]), err["msg"]


# ---------------------------------------------------------------- order charges

def test_defaults_handling_and_surcharges_like_shipping_and_discounts_in_the_header():
    m = tables()
    assert (m.order_charges.rule("handling").code, m.order_charges.rule("surcharge").code) == ("FRT", "FRT")
    assert m.order_charges.rule("discount").placement == "header" and m.order_charges.rule("discount").code is None
    assert (m.tax, m.currency_rate_type, m.items.rule, m.customers.guests) == ("store", None, "as_is",
                                                                               "default_customer")


def test_a_line_charge_needs_a_code():
    loc, msg = refused(order_charges={"shipping": {"placement": "line", "code": "FRT"},
                                      "handling": {"placement": "line"}})
    assert loc == "order_charges.handling" and "needs a `code`" in msg


def test_header_charges_and_long_codes_are_the_erps_business():
    """Intacct takes any header subtotal and long charge item ids; the Sage 300 sink refuses them
    at start (connectors/tests/test_sage300_charge_rules.py)."""
    m = tables(order_charges={"shipping": {"placement": "header"},
                              "handling": {"placement": "line", "code": "HANDLING"}})
    assert m.order_charges.rule("shipping").placement == "header" and m.order_charges.rule("handling").code == "HANDLING"


@pytest.mark.parametrize("over,loc", [({"tax": "sage"}, "tax"), ({"countries": {"us": "USA"}}, "countries"),
                                      ({"countries": {"USA": "USA"}}, "countries")])
def test_tax_mode_and_country_keys_are_checked(over, loc):
    assert refused(**over)[0] == loc


def test_erp_country_defaults_to_the_alpha2():
    m = tables(countries={"US": "USA"})
    assert (m.erp_country("US"), m.erp_country("CA")) == ("USA", "CA")


# ---------------------------------------------------------------- item numbers

def test_as_is_both_directions():
    rule = tables().items.number_rule
    assert rule.to_erp("WIDGET-1") == "WIDGET-1" and rule.to_store("WIDGET-1") == "WIDGET-1"


def test_formatted_inserts_the_structure_separators_and_strips_them_back():
    rule = tables(items={"rule": "formatted", "structure": "XX-XXX/X"}).items.number_rule
    assert rule.to_erp("A14000") == "A1-400/0"
    assert rule.to_store("A1-400/0") == "A14000"
    assert rule.to_store(rule.to_erp("ZZ9990")) == "ZZ9990"


@pytest.mark.parametrize("sku", ["A1400", "A140000", ""])
def test_formatted_refuses_a_sku_that_does_not_fill_the_structure(sku):
    with pytest.raises(PermanentError) as e:
        ItemNumberRule("formatted", "XX-XXX/X").to_erp(sku)
    assert e.value.reason == "sku_not_in_item_structure" and "XX-XXX/X" in str(e.value)


@pytest.mark.parametrize("item", ["A1/400-0", "A14000", "A1-400/00"])
def test_formatted_refuses_an_item_number_off_the_structure(item):
    with pytest.raises(PermanentError) as e:
        ItemNumberRule("formatted", "XX-XXX/X").to_store(item)
    assert e.value.reason == "item_not_in_item_structure"


@pytest.mark.parametrize("items,message", [({"rule": "formatted"}, "needs a structure"),
                                           ({"rule": "formatted", "structure": "--/"}, "has no X"),
                                           ({"rule": "formatted", "structure": "-XX"}, "start and end"),
                                           ({"rule": "table", "table": {"A": "I1", "B": "I1"}}, "one-to-one")])
def test_unusable_item_rules_are_refused_at_start(items, message):
    loc, msg = refused(items=items)
    assert loc == "items" and message in msg


def test_table_both_directions_and_unknown_codes():
    rule = tables(items={"rule": "table", "table": {"TEA-EG": "A1-105/0", "MUG": "M-1"}}).items.number_rule
    assert (rule.to_erp("TEA-EG"), rule.to_store("M-1")) == ("A1-105/0", "MUG")
    with pytest.raises(PermanentError) as e:
        rule.to_erp("SPOON")
    assert e.value.reason == "sku_not_mapped" and "SPOON" in str(e.value)
    with pytest.raises(PermanentError) as e:
        rule.to_store("X-9")
    assert e.value.reason == "item_not_mapped"


# ---------------------------------------------------------------- customer numbers

def test_hash_numbers_are_prefix_plus_base32_of_sha256_cut_to_length():
    m = tables()
    # independent of the code: base64.b32encode(sha256(b"ann.lee@example.com")) starts W7QNQNZKI72
    assert m.customer_number("ann.lee@example.com") == "WW7QNQNZKI72"
    assert m.customer_number("grace@navy.mil") == "WPDTPE4STWON"
    short = tables(customers={"number_prefix": "WEB", "number_length": 11})
    assert short.customer_number("ann.lee@example.com") == "WEBW7QNQNZK"


def test_email_name_numbers_keep_the_local_part_and_four_hash_characters():
    m = tables(customers={"number_rule": "email_name"})
    assert m.customer_number("ann.lee+shop@example.com").startswith("WANNLEE-")     # A-Z0-9 only, cut to fit
    number = m.customer_number("ann.lee@example.com")
    assert number == "WANNLEE-W7QN" and len(number) == 12
    assert m.customer_number("ann.lee@example.org") != number            # same local part, other hash
    assert m.customer_number("a@b.c").startswith("WA-") and len(m.customer_number("a@b.c")) == 7


@pytest.mark.parametrize("customers,message", [
    ({"number_prefix": "WEBSHOP", "number_length": 12}, "needs at least 8"),
    ({"number_rule": "email_name", "number_prefix": "WEBSHOPAB"}, "needs at least 5"),
    ({"number_length": 13}, "less than or equal to 12"),
    ({"number_prefix": "w-"}, "should match pattern"),
    ({"guests": "guest"}, "default_customer"),
])
def test_customer_number_rules_that_cannot_work_are_refused(customers, message):
    loc, msg = refused(customers=customers)
    assert loc.startswith("customers") and message in msg


# ---------------------------------------------------------------- payments, fees, refunds

def test_payment_method_rules_fall_back_to_default():
    m = tables(payments={"methods": {"PAYPAL": {"bank_code": "PAYPAL"},
                                     "default": {"bank_code": "SEATAC", "receipt_type": "Receipt"}}})
    assert (m.payments.method("PAYPAL").bank_code, m.payments.method("PAYPAL").receipt_type) == ("PAYPAL",
                                                                                                "Prepayment")
    assert m.payments.method("CC").receipt_type == "Receipt" and m.payments.method(None).bank_code == "SEATAC"
    assert tables().payments.method("CC") is None


def test_receipt_types_are_sages():
    loc, _ = refused(payments={"methods": {"CC": {"bank_code": "SEATAC", "receipt_type": "Deposit"}}})
    assert loc == "payments.methods.CC.receipt_type"


def test_fees_percent_plus_fixed_rounded_to_the_cent_only_when_enabled():
    fees = {"enabled": True, "expense_account": "6100", "clearing_account": "1020",
            "methods": {"CC": {"percent": "2.9", "fixed": "0.30"}}}
    m = tables(payments={"fees": fees})
    assert m.payments.fees.fee("CC", Decimal("100.00")) == Decimal("3.20")
    assert m.payments.fees.fee("CC", Decimal("38.30")) == Decimal("1.41")       # 1.1107 + 0.30
    assert m.payments.fees.fee("PAYPAL", Decimal("10")) is None                 # no rule, no default
    assert tables(payments={"fees": {**fees, "enabled": False}}).payments.fees.fee("CC", Decimal(1)) is None


@pytest.mark.parametrize("fees,loc", [({"enabled": True, "expense_account": "6100"}, "payments.fees"),
                                      ({"enabled": "yes"}, "payments.fees.enabled"),
                                      ({"methods": {"CC": {"percent": "-1"}}}, "payments.fees.methods.CC.percent")])
def test_unusable_fee_settings_are_refused(fees, loc):
    assert refused(payments={"fees": fees})[0] == loc


def test_refund_accounts():
    m = tables(refunds={"gl_account": "4030"})
    assert (m.refunds.gl_account, m.refunds.distribution_code) == ("4030", None)
    assert refused(refunds={"account": "4030"})[0] == "refunds.account"
