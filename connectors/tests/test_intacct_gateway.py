"""The Intacct gateway against an httpx.MockTransport that answers as the issue-9 wire contract
says: envelopes, the three error levels, sessions and re-login, retries, 524, the per-company cap.

`FakeIntacct` is also the fake the sink tests use (test_intacct_sink.py)."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

import httpx
import pytest
import yaml
from lxml import etree

from sagebridge_common import metrics
from sagebridge_common.errors import OutcomeUnknownError, PermanentError, TransientError
from sagebridge_common.pairs import load_pair_file
from sagebridge_connectors.intacct import limiter
from sagebridge_connectors.intacct.envelope import element
from sagebridge_connectors.intacct.errors import DuplicateControlError, IntacctFunctionError
from sagebridge_connectors.intacct.gateway import IntacctGateway

SHIPPED_PAIR = Path(__file__).resolve().parents[2] / "pairs" / "xcart-intacct.yaml"
LOGIN_PATH = "/ia/xml/xmlgw.phtml"
SESSION_PATH = "/na1/ia/xml/xmlgw.phtml"
CREDS = {"sender_id": "hubsender", "sender_password": "sender-secret", "company_id": "ACME",
         "user_id": "hubuser", "user_password": "user-secret"}


def make_pair(tmp_path, **erp):
    data = yaml.safe_load(SHIPPED_PAIR.read_text())
    data["storefront"] = {"kind": "xcart", "base_url": "http://127.0.0.1:9"}
    data["erp"] = {**{k: v for k, v in data["erp"].items() if k != "change_capture"},
                   "endpoint_url": f"http://intacct.test{LOGIN_PATH}", **CREDS,
                   "company_time_zone": "America/Los_Angeles", "retry_backoff_s": 0, **erp}
    path = tmp_path / f"pair-{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_pair_file(path)


def errors_xml(*errors: tuple[str, str, str, str]) -> str:
    return "<errormessage>" + "".join(
        f"<error><errorno>{n}</errorno><description>{d}</description><description2>{d2}</description2>"
        f"<correction>{c}</correction></error>" for n, d, d2, c in errors) + "</errormessage>"


def control_failure(*errors, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=(
        "<response><control><status>failure</status><senderid>hubsender</senderid><controlid>x</controlid>"
        f"<uniqueid>false</uniqueid><dtdversion>3.0</dtdversion></control>{errors_xml(*errors)}</response>").encode())


def _envelope(auth_status: str, body: str) -> bytes:
    return ("<response><control><status>success</status><senderid>hubsender</senderid><controlid>x</controlid>"
            "<uniqueid>false</uniqueid><dtdversion>3.0</dtdversion></control><operation><authentication>"
            f"<status>{auth_status}</status><userid>hubuser</userid><companyid>ACME</companyid>"
            "<sessiontimestamp>2026-12-02T10:00:00-08:00</sessiontimestamp>"
            "<sessiontimeout>2026-12-02T12:00:00-08:00</sessiontimeout></authentication>"
            f"{body}</operation></response>").encode()


def result_ok(function: str, controlid: str, inner: str = "") -> httpx.Response:
    return httpx.Response(200, content=_envelope("success", f"<result><status>success</status><function>{function}"
                                                           f"</function><controlid>{controlid}</controlid>{inner}</result>"))


def result_failed(function: str, controlid: str, *errors) -> httpx.Response:
    return httpx.Response(200, content=_envelope("success", f"<result><status>failure</status><function>{function}"
                                                           f"</function><controlid>{controlid}</controlid>"
                                                           f"{errors_xml(*errors)}</result>"))


def auth_failed() -> httpx.Response:
    return httpx.Response(200, content=_envelope("failure", errors_xml(
        ("XL03000006", "Sign-in information is incorrect", "", ""))))


DUPLICATE = ("XL03000016", "", "The function with control id {cid} was already executed successfully (uniqueid).", "")


class FakeIntacct:
    """A scripted gateway: login on LOGIN_PATH gives sessions that work only on SESSION_PATH;
    `on(tag, responder)` answers functions by tag (responder(fn_el, controlid) -> Response), and
    `script` holds one-shot responses used first, in order."""

    def __init__(self) -> None:
        self.sessions: set[str] = set()
        self.requests: list[tuple[str, etree._Element]] = []
        self.functions: list[str] = []                  # tags of functions that got a result
        self.handlers: dict[str, Callable[[etree._Element, str], httpx.Response]] = {}
        self.script: list[Callable[[etree._Element, str], httpx.Response | None]] = []
        self.login_ok = True
        self.logins = 0
        self.lock = threading.Lock()

    def on(self, tag: str, responder: Callable[[etree._Element, str], httpx.Response]) -> "FakeIntacct":
        self.handlers[tag] = responder
        return self

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def calls(self, tag: str) -> list[etree._Element]:
        return [root.find("operation/content/function")[0] for _, root in self.requests
                if root.find("operation/content/function")[0].tag == tag]

    def handle(self, request: httpx.Request) -> httpx.Response:
        root = etree.fromstring(request.content)
        with self.lock:
            self.requests.append((request.url.path, root))
        wrapper = root.find("operation/content/function")
        fn, cid = wrapper[0], wrapper.get("controlid")
        if root.findtext("control/password") != CREDS["sender_password"]:
            return control_failure(("XL03000006", "Incorrect Intacct XML Partner ID or password.", "", ""))
        if fn.tag == "getAPISession":
            if request.url.path != LOGIN_PATH or not self.login_ok or \
                    root.findtext("operation/authentication/login/password") != CREDS["user_password"]:
                return auth_failed()
            self.logins += 1
            sid = f"sess{self.logins}"
            self.sessions.add(sid)
            self.functions.append(fn.tag)
            return result_ok(fn.tag, cid, f"<data><api><sessionid>{sid}</sessionid><endpoint>"
                                          f"http://intacct.test{SESSION_PATH}</endpoint><locationid/></api></data>")
        if request.url.path != SESSION_PATH or root.findtext("operation/authentication/sessionid") not in self.sessions:
            return auth_failed()
        while self.script:
            answer = self.script.pop(0)(fn, cid)
            if answer is not None:
                return answer
        self.functions.append(fn.tag)
        return self.handlers[fn.tag](fn, cid)


@pytest.fixture(autouse=True)
def clean_faults():
    """Overrides conftest's Sage 300 fixture: these tests need no Sage 300 simulator."""
    yield


@pytest.fixture(autouse=True)
def fresh_limiter():
    limiter._slots.clear()
    yield
    limiter._slots.clear()


@pytest.fixture
def fake():
    f = FakeIntacct()
    f.on("readByQuery", lambda fn, cid: result_ok("readByQuery", cid, '<data listtype="customer" count="0" '
                                                  'totalcount="0" numremaining="0" resultId=""/>'))
    return f


def gateway(tmp_path, fake, **erp) -> IntacctGateway:
    return IntacctGateway(make_pair(tmp_path, **erp).erp, pair_id="xcart-intacct", transport=fake.transport(),
                          sleep=lambda s: None)


def probe() -> etree._Element:
    return element("readByQuery", None, element("object", "CUSTOMER"), element("fields", "*"),
                   element("query", "CUSTOMERID = 'C1'"), element("pagesize", 10))


# -- envelopes --------------------------------------------------------------------------------------
def test_request_envelope_and_one_login_reused(tmp_path, fake):
    gw = gateway(tmp_path, fake)
    gw.execute(probe(), controlid="r1", write=False, purpose="test")
    gw.execute(probe(), controlid="r2", write=False, purpose="test")
    paths = [p for p, _ in fake.requests]
    assert paths == [LOGIN_PATH, SESSION_PATH, SESSION_PATH]
    login, first = fake.requests[0][1], fake.requests[1][1]
    assert [c.tag for c in login.find("control")] == ["senderid", "password", "controlid", "uniqueid",
                                                        "dtdversion", "includewhitespace"]
    assert login.findtext("control/dtdversion") == "3.0"
    assert [c.tag for c in login.find("operation/authentication/login")] == ["userid", "companyid", "password"]
    assert len(login.find("operation/content")) == 1 and login.find("operation/content/function")[0].tag == \
        "getAPISession"
    assert first.findtext("operation/authentication/sessionid") == "sess1"
    assert first.find("operation").get("transaction") == "false"
    assert first.findtext("control/uniqueid") == "false"
    assert first.find("operation/content/function").get("controlid") == "r1"


def test_write_sends_uniqueid_true(tmp_path, fake):
    fake.on("create", lambda fn, cid: result_ok("create", cid, '<data listtype="objects" count="1"><customer>'
                                                '<RECORDNO>7</RECORDNO><CUSTOMERID>C1</CUSTOMERID></customer></data>'))
    result = gateway(tmp_path, fake).execute(element("create", None, element("CUSTOMER")), controlid="cust-1",
                                             write=True, purpose="customer")
    assert fake.requests[-1][1].findtext("control/uniqueid") == "true"
    assert result.records() == [{"RECORDNO": "7", "CUSTOMERID": "C1"}]


def test_control_level_failure_is_permanent_with_texts(tmp_path, fake):
    bad = make_pair(tmp_path, sender_password="wrong").erp
    gw = IntacctGateway(bad, pair_id="p", transport=fake.transport(), sleep=lambda s: None)
    with pytest.raises(IntacctFunctionError) as e:
        gw.execute(probe(), controlid="r1", write=False, purpose="test")
    assert e.value.reason == "intacct_XL03000006" and "Partner ID or password" in str(e.value)
    assert "wrong" not in str(e.value) and "user-secret" not in str(e.value)


def test_auth_level_failure_of_the_login_is_permanent(tmp_path, fake):
    fake.login_ok = False
    with pytest.raises(IntacctFunctionError) as e:
        gateway(tmp_path, fake).execute(probe(), controlid="r1", write=False, purpose="test")
    assert e.value.has("XL03000006") and "Sign-in information is incorrect" in str(e.value)


def test_result_level_failure_keeps_all_four_texts(tmp_path, fake):
    fake.on("create_sotransaction", lambda fn, cid: result_failed(
        "create_sotransaction", cid,
        ("BL03000018", "Invalid item", "Invalid Item NOPE", "Use a valid item ID or create the item first."),
        ("BL01001973", "Could not create Document record!", "", "")))
    with pytest.raises(IntacctFunctionError) as e:
        gateway(tmp_path, fake).execute(element("create_sotransaction"), controlid="so-1", write=True,
                                        purpose="order")
    message = str(e.value)
    assert e.value.reason == "intacct_BL03000018" and [x.errorno for x in e.value.errors] == \
        ["BL03000018", "BL01001973"]
    assert "BL03000018: Invalid item; Invalid Item NOPE; correction: Use a valid item ID" in message
    assert "BL01001973: Could not create Document record!" in message


def test_an_errorno_that_is_not_a_code_gives_a_generic_reason(tmp_path, fake):
    fake.on("readByQuery", lambda fn, cid: result_failed("readByQuery", cid, ("Query Failed", "bad query", "", "")))
    with pytest.raises(IntacctFunctionError) as e:
        gateway(tmp_path, fake).execute(probe(), controlid="r1", write=False, purpose="test")
    assert e.value.reason == "intacct_error" and "Query Failed" in str(e.value)


def test_duplicate_control_refusal_is_recognised(tmp_path, fake):
    fake.on("create", lambda fn, cid: result_failed("create", cid, tuple(t.format(cid=cid) for t in DUPLICATE)))
    with pytest.raises(DuplicateControlError):
        gateway(tmp_path, fake).execute(element("create"), controlid="cust-1", write=True, purpose="customer")


# -- sessions ---------------------------------------------------------------------------------------
def test_expired_session_relogs_once_then_succeeds(tmp_path, fake):
    gw = gateway(tmp_path, fake)
    gw.execute(probe(), controlid="r1", write=False, purpose="test")
    fake.sessions.clear()                                      # the admin expired every session
    before = metrics.INTACCT_RELOGINS.labels("xcart-intacct")._value.get()
    gw.execute(probe(), controlid="r2", write=False, purpose="test")
    assert [fn.tag for fn in (r.find("operation/content/function")[0] for _, r in fake.requests)] == \
        ["getAPISession", "readByQuery", "readByQuery", "getAPISession", "readByQuery"]
    assert fake.requests[-1][1].findtext("operation/authentication/sessionid") == "sess2"
    assert metrics.INTACCT_RELOGINS.labels("xcart-intacct")._value.get() == before + 1


def test_session_refused_twice_is_permanent(tmp_path, fake):
    gw = gateway(tmp_path, fake)
    fake.script = [lambda fn, cid: auth_failed(), lambda fn, cid: auth_failed()]
    with pytest.raises(IntacctFunctionError) as e:
        gw.execute(probe(), controlid="r1", write=False, purpose="test")
    assert e.value.has("XL03000006")
    assert [p for p, _ in fake.requests] == [LOGIN_PATH, SESSION_PATH, LOGIN_PATH, SESSION_PATH]


def test_missing_credentials_are_named_and_ping_says_so(tmp_path, fake):
    gw = gateway(tmp_path, fake, sender_id="", user_password="")
    with pytest.raises(PermanentError) as e:
        gw.execute(probe(), controlid="r1", write=False, purpose="test")
    assert "sender_id" in str(e.value) and "user_password" in str(e.value) and not fake.requests
    ok, detail = gw.ping()
    assert not ok and "sender_id" in detail


def test_ping_logs_in(tmp_path, fake):
    assert gateway(tmp_path, fake).ping()[0] and fake.functions == ["getAPISession"]


# -- classification ---------------------------------------------------------------------------------
def test_rate_limit_is_retried(tmp_path, fake):
    limited = lambda fn, cid: control_failure(("GW-0010", "Too many requests", "", ""), status=429)  # noqa: E731
    fake.script = [limited, limited]
    rows = gateway(tmp_path, fake).execute(probe(), controlid="r1", write=False, purpose="test")
    assert rows.status == "success" and len(fake.calls("readByQuery")) == 3


def test_rate_limit_forever_becomes_transient(tmp_path, fake):
    fake.script = [lambda fn, cid: control_failure(("GW-0010", "Too many requests", "", ""), status=429)] * 4
    with pytest.raises(TransientError) as e:
        gateway(tmp_path, fake).execute(probe(), controlid="r1", write=False, purpose="test")
    assert not isinstance(e.value, OutcomeUnknownError) and "GW-0010" in str(e.value)


def test_5xx_and_offline_are_retried(tmp_path, fake):
    fake.script = [lambda fn, cid: httpx.Response(502, text="<html>bad gateway</html>"),
                   lambda fn, cid: control_failure(("XMLGW_JPP0002", "", "The Service is Temporarily Off-line",
                                                    ""), status=503)]
    assert gateway(tmp_path, fake).execute(probe(), controlid="r1", write=False, purpose="t").status == "success"
    assert len(fake.calls("readByQuery")) == 3


def test_524_on_a_write_is_outcome_unknown_and_not_resent(tmp_path, fake):
    fake.on("create", lambda fn, cid: httpx.Response(524, text="<html>A timeout occurred</html>"))
    with pytest.raises(OutcomeUnknownError):
        gateway(tmp_path, fake).execute(element("create"), controlid="w1", write=True, purpose="test")
    assert len(fake.calls("create")) == 1


def test_a_lost_answer_after_sending_a_write_is_outcome_unknown(tmp_path, fake):
    def drop(fn, cid):
        raise httpx.ReadTimeout("timed out")
    fake.on("create", drop)
    with pytest.raises(OutcomeUnknownError):
        gateway(tmp_path, fake).execute(element("create"), controlid="w1", write=True, purpose="test")
    assert len(fake.calls("create")) == 1


def test_connect_errors_are_retried(tmp_path, fake):
    gw = gateway(tmp_path, fake)
    gw.ping()
    def refused(fn, cid):
        raise httpx.ConnectError("refused")
    fake.script = [refused]
    assert gw.execute(element("readByQuery"), controlid="r", write=False, purpose="t").status == "success"


def test_transactions_are_counted_by_function_and_purpose(tmp_path, fake):
    counter = metrics.INTACCT_API_TRANSACTIONS.labels("xcart-intacct", "readByQuery", "counting")
    before = counter._value.get()
    gateway(tmp_path, fake).execute(probe(), controlid="r1", write=False, purpose="counting")
    assert counter._value.get() == before + 1


def test_read_by_query_pages_with_read_more(tmp_path, fake):
    def page(n, remaining):
        rows = "".join(f"<customer><RECORDNO>{i}</RECORDNO><DISPLAYCONTACT><EMAIL1>c{i}@x.test</EMAIL1>"
                       f"<MAILADDRESS><CITY>Town{i}</CITY></MAILADDRESS></DISPLAYCONTACT></customer>" for i in n)
        return f'<data listtype="customer" count="{len(n)}" totalcount="3" numremaining="{remaining}" resultId="R1">' \
               f"{rows}</data>"
    fake.on("readByQuery", lambda fn, cid: result_ok("readByQuery", cid, page([1, 2], 1)))
    fake.on("readMore", lambda fn, cid: result_ok("readMore", cid, page([3], 0)))
    pages = list(gateway(tmp_path, fake).read_by_query("CUSTOMER", ["RECORDNO", "DISPLAYCONTACT.EMAIL1"],
                                                       "RECORDNO > 0", pagesize=2, docparid=None))
    assert [len(p) for p in pages] == [2, 1]
    assert pages[1][0] == {"RECORDNO": "3", "DISPLAYCONTACT.EMAIL1": "c3@x.test",
                           "DISPLAYCONTACT.MAILADDRESS.CITY": "Town3"}
    assert fake.calls("readMore")[0].findtext("resultId") == "R1"
    assert [c.tag for c in fake.calls("readByQuery")[0]] == ["object", "fields", "query", "pagesize"]


# -- the per-company cap ----------------------------------------------------------------------------
def test_three_threads_of_two_gateways_stay_at_two_in_flight(tmp_path, fake):
    in_flight, peak, lock = [0], [0], threading.Lock()
    entered = threading.Semaphore(0)
    release = threading.Event()

    def slow(fn, cid):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        entered.release()
        release.wait(5)
        with lock:
            in_flight[0] -= 1
        return result_ok("readByQuery", cid, '<data listtype="customer" count="0" numremaining="0"/>')

    first, second = gateway(tmp_path, fake), gateway(tmp_path, fake)
    first.ping(), second.ping()
    fake.on("readByQuery", slow)
    threads = [threading.Thread(target=gw.execute, args=(probe(),),
                                kwargs={"controlid": f"r{i}", "write": False, "purpose": "t"})
               for i, gw in enumerate((first, second, first))]
    for t in threads:
        t.start()
    assert entered.acquire(timeout=5) and entered.acquire(timeout=5)   # two are in
    # the third is held by the cap: it reaches the server only after one of the two leaves
    with lock:
        assert in_flight[0] == 2
    release.set()
    for t in threads:
        t.join(5)
    assert entered.acquire(timeout=5) and peak[0] == 2 and len(fake.calls("readByQuery")) == 3
