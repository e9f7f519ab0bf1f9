"""An Intacct simulator on a real loopback port, for tests (this package's, the connector's, e2e).

    with running_sim() as sim:
        sim.login_url          # http://127.0.0.1:P/ia/xml/xmlgw.phtml
        sim.post(xml_bytes)    # raw POST to the login path
        sim.admin.get("/_sim/state")
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import httpx

from ..serve import BackgroundServer
from .app import create_app
from .gateway import Credentials
from .sessions import LOGIN_PATH, SESSION_PATH

SENDER_ID, SENDER_PASSWORD = "sagebridge-sender", "sender-secret-1"
COMPANY_ID, USER_ID, USER_PASSWORD = "SAGEBRIDGE-DEMO", "xml_gateway", "user-secret-1"
CREDENTIALS = Credentials(SENDER_ID, SENDER_PASSWORD, COMPANY_ID, USER_ID, USER_PASSWORD)
TZ = "America/Los_Angeles"


class Sim:
    def __init__(self, server: BackgroundServer, app) -> None:
        self.server, self.app = server, app
        self.url = server.url
        self.login_url = server.url + LOGIN_PATH
        self.session_url = server.url + SESSION_PATH
        self.admin = httpx.Client(base_url=server.url, timeout=10)
        self.http = httpx.Client(timeout=10, headers={"content-type": "application/xml"})

    @property
    def company(self):
        return self.app.state.company

    def post(self, body: bytes, url: str | None = None) -> httpx.Response:
        return self.http.post(url or self.login_url, content=body)

    def faults(self, **plan) -> dict:
        r = self.admin.post("/_sim/faults", json=plan)
        assert r.status_code == 200, r.text
        return r.json()

    def transactions(self) -> dict:
        return self.admin.get("/_sim/transactions").json()

    def close(self) -> None:
        self.admin.close()
        self.http.close()
        self.server.stop()


@contextmanager
def running_sim(tz: str = TZ, **app_kwargs) -> Iterator[Sim]:
    """`app_kwargs` go to `create_app` (seed, max_body_bytes, session_timeout_s, injector)."""
    app = create_app(CREDENTIALS, tz=tz, **app_kwargs)
    server = BackgroundServer(app).start()
    sim = Sim(server, app)
    try:
        yield sim
    finally:
        sim.close()


# -- a minimal raw client for tests (the hub's real client lives in the connectors) ------------
def request_xml(function: str, *, controlid: str = "f1", uniqueid: bool = False, sessionid: str | None = None,
                login: dict | None = None, sender: tuple[str, str] = (SENDER_ID, SENDER_PASSWORD),
                transaction: bool = False, functions: list[tuple[str, str]] | None = None) -> bytes:
    """One request document; `function` is the inner XML text of `<function>` (or `functions` =
    [(controlid, xml)] for several). Without `sessionid`, logs in with the test credentials."""
    from xml.sax.saxutils import escape
    if sessionid is not None:
        auth = f"<sessionid>{escape(sessionid)}</sessionid>"
    else:
        lg = login or {"userid": USER_ID, "companyid": COMPANY_ID, "password": USER_PASSWORD}
        auth = "<login>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in lg.items()) + "</login>"
    fns = "".join(f'<function controlid="{escape(c)}">{x}</function>' for c, x in (functions or [(controlid, function)]))
    return (f"<?xml version='1.0' encoding='UTF-8'?><request><control><senderid>{escape(sender[0])}</senderid>"
            f"<password>{escape(sender[1])}</password><controlid>c-{escape(controlid)}</controlid>"
            f"<uniqueid>{'true' if uniqueid else 'false'}</uniqueid><dtdversion>3.0</dtdversion>"
            f"<includewhitespace>false</includewhitespace></control>"
            f"<operation transaction=\"{'true' if transaction else 'false'}\"><authentication>{auth}</authentication>"
            f"<content>{fns}</content></operation></request>").encode()


class SessionClient:
    """Logs in once (getAPISession) and sends functions to the returned endpoint."""

    def __init__(self, sim: Sim) -> None:
        from lxml import etree
        self.sim = sim
        r = sim.post(request_xml("<getAPISession/>", controlid="session"))
        doc = etree.fromstring(r.content)
        self.sessionid = doc.findtext(".//api/sessionid")
        self.endpoint = doc.findtext(".//api/endpoint")

    def send(self, function: str, *, controlid: str = "f1", uniqueid: bool = False, **kw) -> httpx.Response:
        return self.sim.post(request_xml(function, controlid=controlid, uniqueid=uniqueid, sessionid=self.sessionid,
                                         **kw), url=self.endpoint)

    def result(self, function: str, **kw):
        """The `<result>` element of a one-function request (asserts HTTP 200 and control success)."""
        from lxml import etree
        r = self.send(function, **kw)
        assert r.status_code == 200, (r.status_code, r.text)
        doc = etree.fromstring(r.content)
        assert doc.findtext("control/status") == "success", r.text
        return doc.find("operation/result")
