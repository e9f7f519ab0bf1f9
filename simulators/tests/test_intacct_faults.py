"""Faults of the Intacct simulator over real HTTP: the per-company concurrency limit (429 GW-0010),
a write committed then answered 524, the offline answer, the shared plan's 5xx / 429 shapes."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from lxml import etree

from sagebridge_sim.intacct.testing import SessionClient, request_xml, running_sim

SO = ("<create_sotransaction><transactiontype>Sales Order</transactiontype><datecreated><year>2026</year>"
      "<month>12</month><day>01</day></datecreated><customerid>C1</customerid><referenceno>XI1-{n}</referenceno>"
      "<termname>N30</termname><sotransitems><sotransitem><itemid>WIDGET-1</itemid><warehouseid>WH1</warehouseid>"
      "<quantity>2</quantity><price>9.99</price></sotransitem></sotransitems></create_sotransaction>")
READ = "<readByQuery><object>ITEM</object><fields>ITEMID</fields><query></query><pagesize>1</pagesize></readByQuery>"


@pytest.fixture(scope="module")
def sim():
    with running_sim() as s:
        yield s


@pytest.fixture()
def client(sim):
    sim.admin.post("/_sim/reset").raise_for_status()
    sim.admin.post("/_sim/customers", json={"CUSTOMERID": "C1", "NAME": "Ann"}).raise_for_status()
    return SessionClient(sim)


def test_three_concurrent_requests_over_a_limit_of_two_get_one_gw0010(sim, client):
    sim.faults(latency_ms=1000)                 # every request stays in flight for a second
    assert sim.admin.get("/_sim/faults").json()["concurrency_limit"] == 2
    with ThreadPoolExecutor(3) as pool:
        replies = list(pool.map(lambda n: client.send(READ, controlid=f"r{n}"), range(3)))
    refused = [r for r in replies if r.status_code == 429]
    assert len(refused) == 1 and sum(r.status_code == 200 for r in replies) == 2
    doc = etree.fromstring(refused[0].content)
    assert doc.findtext("control/status") == "failure"
    assert doc.findtext("errormessage/error/errorno") == "GW-0010"
    assert "retry-after" not in refused[0].headers
    assert sim.admin.get("/_sim/faults").json()["rejected_concurrency"] == 1
    assert sim.transactions()["by_function"]["readByQuery"] == 2     # the refused one executed nothing


def test_commit_then_524_leaves_the_document(sim, client):
    sim.faults(commit_then_524_count=1)
    assert client.result(READ).findtext("status") == "success"      # reads are not affected
    r = client.send(SO.format(n=1), controlid="so-1", uniqueid=True)
    assert r.status_code == 524 and r.headers["content-type"].startswith("text/html")
    docs = sim.admin.get("/_sim/state").json()["objects"]["SODOCUMENT"]
    assert [(d["DOCID"], d["REFERENCENO"]) for d in docs] == [("Sales Order-SO-00001", "XI1-1")]
    again = client.result(SO.format(n=1), controlid="so-1", uniqueid=True)    # committed: the control id is used
    assert again.findtext("errormessage/error/errorno") == "XL03000016"
    assert client.send(SO.format(n=2), controlid="so-2", uniqueid=True).status_code == 200   # count used up


def test_offline_answers_a_control_failure(sim, client):
    sim.faults(offline_count=1)
    r = client.send(READ)
    doc = etree.fromstring(r.content)
    assert r.status_code == 200 and doc.findtext("control/status") == "failure"
    assert doc.findtext("errormessage/error/description2") == "The Service is Temporarily Off-line"
    assert client.result(READ).findtext("status") == "success"
    sim.faults(offline_count=1, offline_status=503)
    assert client.send(READ).status_code == 503


def test_shared_plan_5xx_is_html_and_429_is_gw0010(sim, client):
    sim.faults(error_status=502, error_count=1)
    r = client.send(READ)
    assert r.status_code == 502 and r.headers["content-type"].startswith("text/html")
    sim.faults(rate_limit_count=1, retry_after_s=3)
    r = client.send(READ)
    assert r.status_code == 429 and r.headers["retry-after"] == "3"
    assert etree.fromstring(r.content).findtext("errormessage/error/errorno") == "GW-0010"
    assert client.result(READ).findtext("status") == "success"


def test_admin_routes_are_never_faulted(sim, client):
    sim.faults(outage_seconds=60)
    assert client.send(READ).status_code == 503
    assert sim.admin.get("/_sim/state").status_code == 200
    sim.faults(reset=True)
    assert sim.post(request_xml("<getAPISession/>")).status_code == 200
