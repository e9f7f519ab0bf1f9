"""Sage 300 simulator: the `Email eq` lookup is pre-filtered in SQL ("contains one of", LIKE) instead
of converting every A/R customer row in Python, and stays exact: LIKE's wildcards only widen the
pre-filter, the OData predicate decides. (bench/new_customer_flow.py found the full scan: with 600
customers it made the lookup the simulator's main cost and the new-customer phase fall behind.)
The case and trimming rules themselves are covered in test_sage300_ledgers.py.
"""
from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path

import pytest

from sagebridge_sim.sage300 import odata
from sagebridge_sim.sage300.catalog import build_resources
from sagebridge_sim.sage300.db import Containing

from sagebridge_sim.sage300.testing import loads

_spec = importlib.util.spec_from_file_location("sage300_ledgers_tests", Path(__file__).with_name("test_sage300_ledgers.py"))
ledgers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ledgers)
api, database, db_path, injector, server = ledgers.api, ledgers.database, ledgers.db_path, ledgers.injector, ledgers.server
new_customer = ledgers.new_customer

CUSTOMERS = build_resources()[("AR", "ARCUSTOMERS")]


def prefilter(text: str) -> dict:
    return CUSTOMERS.trimmed_prefilter(odata.text_alternatives(odata.parse_filter(text, CUSTOMERS.filter_props)))


def test_the_connectors_email_lookup_is_pushed_into_sql():
    assert prefilter("Email eq 'a@x.com' or Email eq 'A@x.com'") == {"EMAIL2": Containing(("a@x.com", "A@x.com"))}
    assert prefilter("CustomerNumber eq 'W1' and Email eq 'a@x.com'") == {"EMAIL2": Containing(("a@x.com",))}
    assert prefilter("Email eq 'a@x.com' or CustomerName eq 'A'") == {}       # not one column: no pre-filter
    assert prefilter("Email eq 'a\\b@x.com'") == {}                            # PostgreSQL's LIKE escape


def test_the_pre_filter_narrows_the_rows_read(database):
    t = uuid.uuid4().hex[:8]
    for n, email in enumerate([f"p{t}@x.com", f"  P{t}@x.com", f"q{t}@x.com"]):
        database.upsert("ARCUS", {"IDCUST": f"P{t}{n}", "EMAIL2": email})
    rows = database.select("ARCUS", {"EMAIL2": Containing((f"p{t}@x.com",))})
    # SQLite's LIKE ignores ASCII case: a superset of the case-sensitive match, never less
    assert sorted(r["IDCUST"] for r in rows) == [f"P{t}0", f"P{t}1"]


@pytest.mark.parametrize("wild, plain", [("a_b", "axb"), ("a%b", "azzb")])
def test_like_wildcards_in_an_email_do_not_widen_the_answer(api, wild, plain):
    t = uuid.uuid4().hex[:8]
    wanted = new_customer(api, Email=f"{wild}.{t}@x.com")
    new_customer(api, Email=f"{plain}.{t}@x.com")
    feed = loads(api.get("/AR/ARCustomers", params={"$filter": f"Email eq '{wild}.{t}@x.com'", "$top": "5"}))
    assert [c["CustomerNumber"] for c in feed["value"]] == [wanted["CustomerNumber"]]
