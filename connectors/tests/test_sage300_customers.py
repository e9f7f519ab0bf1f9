"""Sage 300 customers through the sink, against the simulator over real HTTP with its ARCUS table
read back through ODBC: created with the template's number and the erp block's defaults, found by
e-mail whatever the case, updated property by property, never doubled by concurrent creators."""
from __future__ import annotations

import threading

import httpx
import pytest

from sagebridge_common.errors import OutcomeUnknownError, PermanentError
from sagebridge_connectors.sage300.sink import Sage300Sink

from .conftest import address, api, api_calls, customer, unique, wait_for

DEFAULTS = {"group_code": "RTL", "account_set": "USA", "terms": "NET30", "tax_group": "CALIF", "currency": "USD"}


def arcus(sage, email: str) -> list[dict]:
    """ARCUS rows (through ODBC) stored under the e-mail's key."""
    return sage.db.select("ARCUS", {"EMAIL2": email.strip().lower()})


def refused_creates(sage) -> int:
    """ARCustomers POSTs Sage answered 409 RecordDuplicate so far."""
    return sum(r["count"] for r in httpx.get(f"{sage.url}/_sim/stats").json()["requests"]
               if r["method"] == "POST" and r["resource"].endswith("ARCustomers") and r["status"] == 409)


def sage_customer(sage, number: str) -> dict:
    resp = api(sage, "GET", f"AR/ARCustomers('{number}')")
    resp.raise_for_status()
    return resp.json()


def test_new_customer_is_created_with_the_template_number_fields_and_defaults(sage, make_pair):
    sink = Sage300Sink(make_pair(new_customers=DEFAULTS))
    number = unique("W")
    long_street = "9" * 70
    given = f"  Ann.Lee+{number}@Example.COM "
    done = sink.ensure_customer(customer(given, number, billing_address=address(line1=long_street)))
    assert done.outcome == "created" and done.document_id == number
    [row] = arcus(sage, given)                 # stored by its e-mail key
    assert row["IDCUST"].strip() == number
    entry = sage_customer(sage, number)
    assert entry["Email"] == given.strip().lower()
    assert entry["CustomerName"] == "Ann Lee" and entry["ContactName"] == "Ann Lee" and entry["ShortName"] == "Ann Lee"
    assert entry["AddressLine1"] == "9" * 60                   # cut to TEXTSTRE1's 60 characters
    assert entry["AddressLine2"] == "Apt 4" and entry["City"] == "New York"
    assert entry["StateProvince"] == "NY" and entry["Country"] == "USA"     # region_code, erp_country
    assert entry["ZipPostalCode"] == "10001" and entry["PhoneNumber"] == "212-555-0100"
    assert entry["CheckForDuplicatePOs"] == "Error" and entry["Status"] == "Active" and entry["OnHold"] == "No"
    assert (entry["GroupCode"], entry["AccountSet"], entry["Terms"], entry["TaxGroup"], entry["CurrencyCode"]) == \
        ("RTL", "USA", "NET30", "CALIF", "USD")
    assert sink.guards.cached(number) is True                  # the order right after needs no read


def test_found_whatever_the_case_of_the_email(sage, make_pair):
    sink = Sage300Sink(make_pair())
    number = unique("W")
    sink.ensure_customer(customer(f"Ann{number}@Example.com", number))
    again = sink.ensure_customer(customer(f"  ANN{number}@EXAMPLE.COM", unique("W")), update=False)
    assert again.outcome == "already_present" and again.document_id == number
    assert len(arcus(sage, f"ann{number}@example.com")) == 1
    # A customer keyed in by a clerk with a mixed-case e-mail: found through the e-mail as the store gives it.
    clerk = unique("C")
    api(sage, "POST", "AR/ARCustomers", json={"CustomerNumber": clerk, "CustomerName": "Bob Ray",
                                              "Email": f"Bob{clerk}@Example.com"}).raise_for_status()
    found = sink.ensure_customer(customer(f"Bob{clerk}@Example.com ", unique("W"), first_name="Bob",
                                          last_name="Ray", billing_address=None, phone=None))
    assert found.outcome == "already_present" and found.document_id == clerk


def test_update_sends_only_what_changed_and_keeps_what_sage_owns(sage, make_pair):
    sink = Sage300Sink(make_pair())
    number = unique("W")
    email = f"upd{number}@example.com"
    sink.ensure_customer(customer(email, number))
    httpx.post(f"{sage.url}/_sim/customers/{number}", json={"ShortName": "CLERK"}).raise_for_status()
    assert sink.ensure_customer(customer(email, number)).outcome == "already_present"      # nothing differs
    moved = customer(email, number, phone="212-555-0199", billing_address=address(city="Brooklyn", line2=None))
    assert sink.ensure_customer(moved, update=False).outcome == "already_present"          # an order's customer
    assert sage_customer(sage, number)["City"] == "New York"
    done = sink.ensure_customer(moved)
    assert done.outcome == "updated" and done.details == {"changed": "AddressLine2,City,PhoneNumber"}
    entry = sage_customer(sage, number)
    assert (entry["City"], entry["AddressLine2"], entry["PhoneNumber"]) == ("Brooklyn", "", "212-555-0199")
    assert entry["ShortName"] == "CLERK" and entry["AddressLine1"] == "1 Main Street"      # untouched
    before = api_calls(sage)
    assert sink.ensure_customer(moved).outcome == "already_present"
    assert api_calls(sage) - before == 1                       # the lookup, no PATCH


def test_concurrent_creators_of_one_email_make_one_customer(sage, make_pair):
    """Both look up before either creates (lookups held 300 ms); both post the template's number;
    Sage's natural key refuses the second (RecordDuplicate), which reads the winner as present."""
    sinks = [Sage300Sink(make_pair()), Sage300Sink(make_pair())]
    number = unique("W")
    emails = [f"race{number}@example.com", f" RACE{number}@Example.com"]
    sage.injector.configure(latency_ms=300, methods=["GET"])
    refused = refused_creates(sage)
    start, outcomes = threading.Barrier(2), []

    def create(i: int) -> None:
        start.wait()
        outcomes.append(sinks[i].ensure_customer(customer(emails[i], number)))

    threads = [threading.Thread(target=create, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(o.outcome for o in outcomes) == ["already_present", "created"]
    assert {o.document_id for o in outcomes} == {number}
    assert refused_creates(sage) == refused + 1                # the loser went through RecordDuplicate
    assert len(arcus(sage, f"race{number}@example.com")) == 1


def test_template_number_held_by_another_email_is_a_clear_permanent_error(sage, make_pair):
    number = unique("W")
    api(sage, "POST", "AR/ARCustomers", json={"CustomerNumber": number, "CustomerName": "Someone Else",
                                              "Email": "someone@else.com"}).raise_for_status()
    with pytest.raises(PermanentError) as e:
        Sage300Sink(make_pair()).ensure_customer(customer(f"new{number}@example.com", number))
    assert e.value.reason == "sage300_customer_number_taken"
    assert f"new{number}@example.com".lower() in str(e.value) and "someone@else.com" in str(e.value)
    assert arcus(sage, f"new{number}@example.com") == []


def test_an_email_longer_than_the_column_is_refused_before_any_call(sage, make_pair):
    with pytest.raises(PermanentError) as e:
        Sage300Sink(make_pair()).ensure_customer(customer("a" * 45 + "@example.com", unique("W")))
    assert e.value.reason == "sage300_email_too_long"


def test_create_whose_answer_is_lost_is_found_by_email_next_time(sage, make_pair):
    """A customer has a natural key, so no settle delay is needed: a late commit is either found by
    the e-mail lookup or refused as RecordDuplicate and read back; never a second customer."""
    sink = Sage300Sink(make_pair(timeout_s=0.5))
    number = unique("W")
    email = f"late{number}@example.com"
    sage.injector.configure(commit_late_ms=1500, methods=["POST"])
    with pytest.raises(OutcomeUnknownError):
        sink.ensure_customer(customer(email, number))
    sage.injector.configure(reset=True)
    wait_for(lambda: arcus(sage, email), "the late commit")
    again = sink.ensure_customer(customer(email, number))
    assert again.outcome == "already_present" and again.document_id == number
    assert len(arcus(sage, email)) == 1
