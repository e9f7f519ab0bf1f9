"""ARCUS -> erp.customers.v1 (v2 Customer keyed IDCUST), and no echo of the hub's own writes."""
from __future__ import annotations

from sagebridge_common.topics import ERP_CUSTOMERS

from .sage300_raw import Sage, pairs_with, values

ARCUS = {"IDCUST": "1200", "NAMECUST": "Mr. Ronald Black", "TEXTSTRE1": "2 Elm Street", "TEXTSTRE2": "Suite 4",
         "TEXTSTRE3": "", "TEXTSTRE4": "", "NAMECITY": "Portland", "CODESTTE": "OR", "CODEPSTL": "97201",
         "CODECTRY": "USA", "NAMECTAC": "Ronald Black", "TEXTPHON1": "5035550100", "EMAIL1": "contact@example.com",
         "EMAIL2": " Ron@Example.com ", "SWACTV": 1, "SWHOLD": 0}


def test_arcus_row_becomes_a_customer():
    sage = Sage(pairs_with(countries={"US": "USA"}))
    out = sage.row("ARCUS", "1200", ARCUS)
    [c] = values(out, ERP_CUSTOMERS)
    assert [o.key for o in out] == ["1200"]
    assert c["customer_id"] == "1200" and c["erp_customer_id"] == "1200"
    assert c["email"] == "Ron@Example.com" and c["email_key"] == "ron@example.com"
    assert (c["first_name"], c["last_name"], c["company"]) == ("Ronald", "Black", "Mr. Ronald Black")
    a = c["billing_address"]
    assert (a["line1"], a["line2"], a["city"], a["region"], a["postal_code"]) == (
        "2 Elm Street", "Suite 4", "Portland", "OR", "97201")
    assert a["country"] == "US" and a["erp_country"] == "USA"
    assert c["source_version"].endswith("|1200") and c["metadata"]["source_system"] == "sage300"


def test_contact_email_when_the_customer_email_is_blank():
    [c] = values(Sage().row("ARCUS", "1200", {**ARCUS, "EMAIL2": ""}), ERP_CUSTOMERS)
    assert c["email"] == "contact@example.com"


def test_changes_saved_by_the_hubs_own_user_are_not_sent_back():
    sage = Sage(pairs_with(erp_customers={"ignore_audit_users": ["WEBAPI"]}))
    assert sage.row("ARCUS", "1200", ARCUS, user="WEBAPI") == []
    [c] = values(sage.row("ARCUS", "1200", {**ARCUS, "TEXTPHON1": "1"}, user="ADMIN"), ERP_CUSTOMERS)
    assert c["phone"] == "1"


def test_update_store_off_emits_nothing():
    assert Sage(pairs_with(erp_customers={"update_store": False})).row("ARCUS", "1200", ARCUS) == []


def test_customer_without_email_is_skipped():
    assert Sage().row("ARCUS", "1200", {**ARCUS, "EMAIL1": "", "EMAIL2": ""}) == []
