"""One request through the gateway: control, authentication, each function (intacct.md §1-§3, §5).

Levels (contract §1): wrong sender id/password -> CONTROL failure XL03000006 (intacct.md §3: same
errorno for an unauthorised sender); bad login or a bad / expired / misplaced session ->
AUTHENTICATION failure XL03000006; a function's own problem -> RESULT failure. With
`transaction="true"`, one failure rolls the operation back and the others answer `aborted` with
XL03000009 (intacct.md §2).

uniqueid (intacct.md §3; the refusal text is our choice, intacct.md §6): with uniqueid=true a
function whose controlid already completed successfully is refused with XL03000016 and nothing is
written; failed functions do not burn their controlid.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Callable

from lxml import etree

from . import fn_customers, fn_orders, reads
from .outcome import Outcome
from .sessions import LOGIN_PATH, SessionBook
from .state import CompanyState
from .wire import ErrorItem, Failure, Request, errormessage, function_failure, response, serialize, sub

Handler = Callable[[CompanyState, etree._Element], Outcome]


@dataclass
class Credentials:
    sender_id: str
    sender_password: str
    company_id: str
    user_id: str
    user_password: str


def handlers() -> dict[str, Handler]:
    from . import fn_ar
    return {"readByQuery": reads.read_by_query, "readMore": reads.read_more,
            "create_sotransaction": fn_orders.create_sotransaction,
            "create_aradjustment": fn_ar.create_aradjustment,
            "create": lambda s, fn: _generic(s, fn, "create"), "update": lambda s, fn: _generic(s, fn, "update")}


def _generic(state: CompanyState, fn: etree._Element, action: str) -> Outcome:
    from . import fn_ar
    objects = [c for c in fn if isinstance(c.tag, str)]
    if len(objects) != 1:
        raise function_failure(("BL01001973", f"{action} needs exactly one object", "The simulator takes one object "
                                f"per {action}.", "Send one object per function."))
    table = {("create", "CUSTOMER"): fn_customers.create_customer, ("update", "CUSTOMER"): fn_customers.update_customer,
             ("create", "ARPYMT"): fn_ar.create_arpymt, ("create", "GLBATCH"): fn_ar.create_glbatch}
    handler = table.get((action, objects[0].tag))
    if handler is None:
        raise function_failure(("DL02000001", "Object definition not found", f"{action} of {objects[0].tag} is not "
                                "available.", "Use a supported object."))
    return handler(state, objects[0])


class Gateway:
    def __init__(self, state: CompanyState, creds: Credentials, sessions: SessionBook) -> None:
        self.state, self.creds, self.sessions = state, creds, sessions
        self.handlers = handlers()

    def handle(self, req: Request, path: str, base_url: str) -> tuple[bytes, bool]:
        """(the response document, whether a write function committed)."""
        c = self.creds
        if (req.sender_id, req.sender_password) != (c.sender_id, c.sender_password):
            raise Failure("control", [ErrorItem("XL03000006", "Sign-in information is incorrect",
                                                "Invalid Web Services Authorization",
                                                "Check the sender ID and password.")])
        root, _ = response("success", sender_id=req.sender_id, controlid=req.controlid,
                           uniqueid="true" if req.uniqueid else "false", dtdversion=req.dtdversion)
        op = sub(root, "operation")
        auth = sub(op, "authentication")
        session, userid, locationid, auth_error = self._authenticate(req, path)
        sub(auth, "status", "failure" if auth_error else "success")
        sub(auth, "userid", userid)
        sub(auth, "companyid", c.company_id if not auth_error else (req.login or {}).get("companyid", ""))
        if locationid:
            sub(auth, "locationid", locationid)
        if auth_error:
            errormessage(op, [auth_error])
            return serialize(root), False
        now = self.state.clock.now()
        sub(auth, "sessiontimestamp", self.state.clock.iso(now))
        from datetime import timedelta
        sub(auth, "sessiontimeout", self.state.clock.iso(now + timedelta(seconds=self.sessions.timeout_s)))
        return self._run(req, op, userid, locationid, base_url)

    def _authenticate(self, req: Request, path: str):
        c = self.creds
        if req.login is not None:
            lg = req.login
            if (lg.get("userid"), lg.get("companyid"), lg.get("password")) != (c.user_id, c.company_id, c.user_password):
                return None, lg.get("userid", ""), "", ErrorItem(
                    "XL03000006", "Sign-in information is incorrect", "", "Check the user ID, company ID and password.")
            return None, c.user_id, lg.get("locationid", ""), None
        session = self.sessions.use(req.sessionid or "", path)
        if session is None:
            return None, "", "", ErrorItem("XL03000006", "Invalid session",
                                           "The session is invalid, expired, or belongs to another endpoint.",
                                           "Log in again (getAPISession) and use the endpoint it returns.")
        return session, session.userid, session.locationid, None

    def _run(self, req: Request, op: etree._Element, userid: str, locationid: str, base_url: str) -> tuple[bytes, bool]:
        st = self.state
        wrote = False
        with st.lock:
            backup = _backup(st) if req.transaction else None
            outcomes: list[tuple[str, str, Outcome | Failure]] = []
            for controlid, fn in req.functions:
                name = fn.tag
                st.count(name)
                if req.uniqueid and controlid in st.completed_controlids:
                    outcomes.append((name, controlid, function_failure((
                        "XL03000016", "Duplicate control id",
                        f"The function with control id {controlid} was already executed successfully (uniqueid).",
                        "Use a new control id for a new function."))))
                    continue
                try:
                    if name == "getAPISession":
                        outcome = self._session(fn, userid, locationid, base_url)
                    elif name in self.handlers:
                        outcome = self.handlers[name](st, fn)
                    else:
                        outcome = function_failure(("XL03000003", "Unknown function", f"Function {name} is not "
                                                    "served by the simulator.", "Use a supported function."))
                        raise outcome
                except Failure as f:
                    if f.level == "control":            # schema error inside a function: whole request
                        raise
                    outcomes.append((name, controlid, f))
                    continue
                outcomes.append((name, controlid, outcome))
            failed = any(isinstance(o, Failure) for _, _, o in outcomes)
            if req.transaction and failed:
                _restore(st, backup)
            else:
                for _, controlid, o in outcomes:
                    if isinstance(o, Outcome):
                        st.completed_controlids.add(controlid)
                        wrote = wrote or o.write
        for name, controlid, o in outcomes:
            r = sub(op, "result")
            if isinstance(o, Failure):
                sub(r, "status", "failure")
            else:
                sub(r, "status", "aborted" if req.transaction and failed else "success")
            sub(r, "function", name)
            sub(r, "controlid", controlid)
            if isinstance(o, Failure):
                errormessage(r, o.errors)
            elif req.transaction and failed:
                errormessage(r, [ErrorItem("XL03000009", "The entire transaction in this operation has been rolled "
                                           "back due to an error.", "", "")])
            elif o.key is not None:
                sub(r, "key", o.key)
            elif o.data is not None:
                r.append(o.data)
        return serialize(op.getroottree().getroot()), wrote

    def _session(self, fn: etree._Element, userid: str, locationid: str, base_url: str) -> Outcome:
        loc = fn.find("locationid")
        if loc is not None:
            locationid = (loc.text or "").strip()
        s = self.sessions.open(userid, self.creds.company_id, locationid)
        data = etree.Element("data")
        api = sub(data, "api")
        sub(api, "sessionid", s.sessionid)
        sub(api, "endpoint", base_url.rstrip("/") + s.endpoint_path)
        sub(api, "locationid", locationid)
        return Outcome(data=data)


def _backup(st: CompanyState) -> dict:
    keep = ("records", "documents", "glentries", "payment_details", "adjustment_lines")
    return {k: copy.deepcopy(getattr(st, k)) for k in keep}


def _restore(st: CompanyState, backup: dict | None) -> None:
    for k, v in (backup or {}).items():
        setattr(st, k, v)


__all__ = ["Gateway", "Credentials", "LOGIN_PATH"]
