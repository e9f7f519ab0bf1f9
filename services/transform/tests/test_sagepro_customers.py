"""ARCUST -> erp.customers.v1 (v2 Customer keyed custno) when the pair asks for store updates; the
shipped xcart-sagepro pair does not (update_store false): nothing then."""
from __future__ import annotations

from sagebridge_common.topics import ERP_CUSTOMERS

from .test_sagepro_raw import SagePro, at, arcust, pairs_with, position, values

UPDATES = {"update_store": True}


def test_the_shipped_pair_sends_no_customer_changes_to_the_store():
    assert SagePro().row("ARCUST", arcust()) == []


def test_arcust_row_becomes_a_customer_field_by_field():
    sage = SagePro(pairs_with(erp_customers=UPDATES, countries={"US": "USA"}))
    out = sage.row("ARCUST", arcust(), second=7)
    [c] = values(out, ERP_CUSTOMERS)
    assert [(o.key, o.schema) for o in out] == [("W3F2A9C1D0", "sagebridge.v2.Customer")]
    assert (c["customer_id"], c["erp_customer_id"], c["email"], c["email_key"]) == (
        "W3F2A9C1D0", "W3F2A9C1D0", "Ron@Example.com", "ron@example.com")
    assert (c["first_name"], c["last_name"], c["company"], c["phone"], c["is_guest"]) == (
        "Ronald", "Black", "Black Hardware", "5035550100", False)
    a = c["billing_address"]
    assert (a["name"], a["company"], a["line1"], a["line2"], a["city"], a["region"], a["postal_code"]) == (
        "Ronald Black", "Black Hardware", "2 Elm Street", "Suite 4", "Portland", "OR", "97201")
    assert (a["country"], a["erp_country"], a["email"], a["phone"]) == ("US", "USA", "Ron@Example.com", "5035550100")
    assert c["shipping_address"] is None and c["new_customer_number"] == ""
    assert c["created_at"] == c["updated_at"] == at(7) and c["source_version"] == position(7, "W3F2A9C1D0")
    assert (c["metadata"]["source_system"], c["metadata"]["event_type"]) == ("sagepro", "customer.updated")


def test_without_contact_the_company_is_the_name_and_without_address_no_address():
    [c] = values(SagePro(pairs_with(erp_customers=UPDATES)).row("ARCUST", arcust(contact="", address1="")),
                 ERP_CUSTOMERS)
    assert (c["first_name"], c["last_name"], c["billing_address"]) == ("Black", "Hardware", None)


def test_no_email_deletes_and_the_hubs_own_writes_send_nothing():
    sage = SagePro(pairs_with(erp_customers={**UPDATES, "ignore_audit_users": ["SAGEBRIDGE"]}))
    assert sage.row("ARCUST", arcust(email="")) == []
    assert sage.row("ARCUST", arcust(), delete=True) == []
    assert sage.row("ARCUST", arcust(custno="W2", lckuser="sagebridge")) == []
    assert len(sage.row("ARCUST", arcust(custno="W3", lckuser="ADMIN"))) == 1
