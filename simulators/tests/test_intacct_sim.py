"""The Intacct simulator over real HTTP: envelopes and the three error levels, sessions living at
their own endpoint with sliding expiry, uniqueid refusal, the transaction counter, the CLI."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest
from lxml import etree

from sagebridge_sim.intacct.testing import (COMPANY_ID, USER_ID, SessionClient, request_xml, running_sim)
from sagebridge_sim.serve import free_port

CUSTOMER = ("<create><CUSTOMER><CUSTOMERID>{id}</CUSTOMERID><NAME>Ann Lee</NAME><DISPLAYCONTACT><PRINTAS>Ann Lee"
            "</PRINTAS><EMAIL1>ann@example.com</EMAIL1><MAILADDRESS><CITY>Boston</CITY></MAILADDRESS></DISPLAYCONTACT>"
            "</CUSTOMER></create>")


@pytest.fixture(scope="module")
def sim():
    with running_sim() as s:
        yield s


@pytest.fixture(autouse=True)
def fresh(sim):
    sim.admin.post("/_sim/reset").raise_for_status()


def doc(r: httpx.Response) -> etree._Element:
    return etree.fromstring(r.content)


def errnos(el: etree._Element) -> list[str]:
    return [e.findtext("errorno") for e in el.findall("errormessage/error")]


def test_get_api_session_returns_a_different_endpoint_that_alone_accepts_the_session(sim):
    r = sim.post(request_xml("<getAPISession/>"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/xml")
    d = doc(r)
    assert d.findtext("control/status") == "success"
    auth = d.find("operation/authentication")
    assert (auth.findtext("status"), auth.findtext("userid"), auth.findtext("companyid")) == ("success", USER_ID,
                                                                                               COMPANY_ID)
    assert auth.findtext("sessiontimeout") > auth.findtext("sessiontimestamp")
    endpoint = d.findtext("operation/result/data/api/endpoint")
    assert endpoint == sim.url + "/na1/ia/xml/xmlgw.phtml"
    sid = d.findtext("operation/result/data/api/sessionid")
    read = "<readByQuery><object>ITEM</object><fields>ITEMID</fields><query></query><pagesize>1</pagesize></readByQuery>"
    at_login = doc(sim.post(request_xml(read, sessionid=sid)))          # the login path is not the session's
    assert at_login.findtext("operation/authentication/status") == "failure"
    assert errnos(at_login.find("operation")) == ["XL03000006"]
    assert at_login.find("operation/result") is None
    at_endpoint = doc(sim.post(request_xml(read, sessionid=sid), url=endpoint))
    assert at_endpoint.findtext("operation/result/status") == "success"


def test_sessions_slide_and_expire(sim):
    clock = [1000.0]
    sim.app.state.sessions.now = lambda: clock[0]
    try:
        sim.faults(session_timeout_s=100)
        c = SessionClient(sim)
        read = ("<readByQuery><object>ITEM</object><fields>ITEMID</fields><query></query><pagesize>1</pagesize>"
                "</readByQuery>")
        for _ in range(4):                   # each use moves the expiry: 4 x 60 s > the 100 s timeout
            clock[0] += 60
            assert c.result(read).findtext("status") == "success"
        clock[0] += 101
        late = doc(c.send(read))
        assert late.findtext("operation/authentication/status") == "failure"
        assert errnos(late.find("operation")) == ["XL03000006"]
    finally:
        sim.app.state.sessions.now = time.time


def test_expire_sessions_admin_call(sim):
    c = SessionClient(sim)
    assert sim.admin.post("/_sim/expire_sessions").json() == {"expired": 1}
    read = "<readByQuery><object>ITEM</object><fields>ITEMID</fields><query></query><pagesize>1</pagesize></readByQuery>"
    assert errnos(doc(c.send(read)).find("operation")) == ["XL03000006"]


def test_wrong_sender_is_a_control_failure_and_bad_login_an_auth_failure(sim):
    bad_sender = doc(sim.post(request_xml("<getAPISession/>", sender=("sagebridge-sender", "wrong"))))
    assert bad_sender.findtext("control/status") == "failure"
    assert errnos(bad_sender) == ["XL03000006"] and bad_sender.find("operation") is None
    bad_login = doc(sim.post(request_xml("<getAPISession/>", login={"userid": USER_ID, "companyid": COMPANY_ID,
                                                                     "password": "nope"})))
    assert bad_login.findtext("control/status") == "success"
    assert bad_login.findtext("operation/authentication/status") == "failure"
    assert errnos(bad_login.find("operation")) == ["XL03000006"]
    assert sim.transactions()["total"] == 0          # nothing was executed


@pytest.mark.parametrize("body", [
    b"<request><control>",                                                        # not well-formed
    request_xml("<getAPISession/>").replace(b"<senderid>", b"<dtdversion>3.0</dtdversion><senderid>", 1),
    request_xml("<getAPISession/>").replace(b'<function controlid="f1">', b"<function>"),
    request_xml("<create_sotransaction><customerid>C1</customerid><transactiontype>Sales Order</transactiontype>"
                "</create_sotransaction>"),                                        # header out of DTD order
])
def test_malformed_or_out_of_order_is_xl03000003(sim, body):
    d = doc(sim.post(body))
    assert d.findtext("control/status") == "failure"
    assert errnos(d) == ["XL03000003"]


def test_oversize_body_is_413():
    with running_sim(max_body_bytes=2000) as small:
        r = small.post(request_xml("<getAPISession/>") + b" " * 3000)
        assert r.status_code == 413


def test_result_level_failure_keeps_the_request_successful(sim):
    c = SessionClient(sim)
    r = c.result("<readByQuery><object>ITEM</object><fields>NOPE</fields><query></query></readByQuery>")
    assert r.findtext("status") == "failure" and errnos(r) == ["Invalid fields list NOPE"]


def test_uniqueid_refuses_a_repeat_of_a_successful_function_only(sim):
    c = SessionClient(sim)
    first = c.result(CUSTOMER.format(id="C1"), controlid="cust-1", uniqueid=True)
    assert first.findtext("status") == "success"
    assert first.findtext("data/customer/CUSTOMERID") == "C1"
    again = c.result(CUSTOMER.format(id="C2"), controlid="cust-1", uniqueid=True)
    assert again.findtext("status") == "failure" and errnos(again) == ["XL03000016"]
    assert again.findtext("errormessage/error/description2") == (
        "The function with control id cust-1 was already executed successfully (uniqueid).")
    ids = [r["CUSTOMERID"] for r in sim.admin.get("/_sim/state").json()["objects"]["CUSTOMER"]]
    assert ids == ["C1"]                              # nothing written again
    # a failed function does not burn its control id
    dup = c.result(CUSTOMER.format(id="C1"), controlid="cust-2", uniqueid=True)
    assert errnos(dup) == ["BL34000061", "BL01001973"]
    assert dup.findtext("errormessage/error/correction") == "Use a unique value instead."
    assert c.result(CUSTOMER.format(id="C3"), controlid="cust-2", uniqueid=True).findtext("status") == "success"
    # uniqueid=false never checks
    assert c.result(CUSTOMER.format(id="C4"), controlid="cust-1", uniqueid=False).findtext("status") == "success"


def test_update_customer_and_unknown_id(sim):
    c = SessionClient(sim)
    c.result(CUSTOMER.format(id="C1"), controlid="a")
    upd = c.result("<update><CUSTOMER><CUSTOMERID>C1</CUSTOMERID><DISPLAYCONTACT><PHONE1>555</PHONE1>"
                   "</DISPLAYCONTACT></CUSTOMER></update>", controlid="b")
    assert upd.findtext("data/customer/RECORDNO") == "1"
    row = sim.admin.get("/_sim/state").json()["objects"]["CUSTOMER"][0]
    assert (row["DISPLAYCONTACT.PHONE1"], row["DISPLAYCONTACT.EMAIL1"]) == ("555", "ann@example.com")
    missing = c.result("<update><CUSTOMER><CUSTOMERID>C9</CUSTOMERID><NAME>x</NAME></CUSTOMER></update>", controlid="c")
    assert errnos(missing) == ["Cannot update non-existing CUSTOMER with CUSTOMERID=C9."]


def test_transaction_true_rolls_back_and_aborts_the_others(sim):
    c = SessionClient(sim)
    d = doc(c.send("", transaction=True, functions=[("t1", CUSTOMER.format(id="C1")),
                                                    ("t2", CUSTOMER.format(id="C1"))]))
    results = d.findall("operation/result")
    assert [r.findtext("status") for r in results] == ["aborted", "failure"]
    assert errnos(results[0]) == ["XL03000009"]
    assert sim.admin.get("/_sim/state").json()["objects"]["CUSTOMER"] == []


def test_transaction_counter_counts_every_function_failures_included(sim):
    c = SessionClient(sim)
    c.result(CUSTOMER.format(id="C1"), controlid="x1", uniqueid=True)
    c.result(CUSTOMER.format(id="C1"), controlid="x1", uniqueid=True)      # refused: still a transaction
    c.result("<readByQuery><object>ITEM</object><fields>ITEMID</fields><query></query></readByQuery>")
    sim.admin.get("/_sim/state")                                            # admin: never counted
    assert sim.transactions() == {"total": 4, "by_function": {"getAPISession": 1, "create": 2, "readByQuery": 1}}


def test_main_runs_from_env_and_prints_no_secret():
    port = free_port()
    env = {**os.environ, "INTACCT_SENDER_ID": "s1", "INTACCT_SENDER_PASSWORD": "sender-pw-secret",
           "INTACCT_COMPANY_ID": "CO", "INTACCT_USER_ID": "u1", "INTACCT_USER_PASSWORD": "user-pw-secret"}
    proc = subprocess.Popen([sys.executable, "-m", "sagebridge_sim.intacct", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/_sim/transactions", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
        assert r.json()["total"] == 0
        body = request_xml("<getAPISession/>", sender=("s1", "sender-pw-secret"),
                           login={"userid": "u1", "companyid": "CO", "password": "user-pw-secret"})
        r = httpx.post(f"http://127.0.0.1:{port}/ia/xml/xmlgw.phtml", content=body)
        assert etree.fromstring(r.content).findtext("operation/result/status") == "success"
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert b"secret" not in out
    missing = subprocess.run([sys.executable, "-m", "sagebridge_sim.intacct", "--port", "1"], capture_output=True,
                             env={k: v for k, v in os.environ.items() if not k.startswith("INTACCT_")})
    assert missing.returncode != 0 and b"INTACCT_SENDER_ID" in missing.stderr
