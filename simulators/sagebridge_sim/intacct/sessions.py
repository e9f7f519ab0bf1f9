"""API sessions (intacct.md §3): getAPISession, the per-session endpoint, sliding expiry.

A session lives at its own endpoint (intacct.md §1: getAPISession "returns a per-session endpoint
... that must be used with that session id"); the simulator's is `/na1/ia/xml/xmlgw.phtml` on the
same server while logins go to `/ia/xml/xmlgw.phtml` (contract §1). A session id sent to any other
path, unknown, or past its expiry -> authentication failure XL03000006. Every use moves the expiry
to now + timeout (sliding, intacct.md §3). The default duration is not confirmed (intacct.md §6:
fixtures show 24 h and ~2 h): the simulator uses 7200 s, settable through `/_sim/faults`
`session_timeout_s`.
"""
from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

LOGIN_PATH = "/ia/xml/xmlgw.phtml"
SESSION_PATH = "/na1/ia/xml/xmlgw.phtml"


@dataclass
class Session:
    sessionid: str
    userid: str
    companyid: str
    locationid: str
    endpoint_path: str
    expires: float          # epoch seconds


class SessionBook:
    def __init__(self, timeout_s: float = 7200.0) -> None:
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}

    def open(self, userid: str, companyid: str, locationid: str) -> Session:
        with self._lock:
            s = Session(secrets.token_urlsafe(24) + "..", userid, companyid, locationid, SESSION_PATH,
                        time.time() + self.timeout_s)
            self._sessions[s.sessionid] = s
            return s

    def use(self, sessionid: str, path: str) -> Session | None:
        """The live session for this id at this path (its expiry slid), or None."""
        with self._lock:
            s = self._sessions.get(sessionid)
            if s is None or s.endpoint_path != path:
                return None
            now = time.time()
            if now >= s.expires:
                del self._sessions[sessionid]
                return None
            s.expires = now + self.timeout_s
            return s

    def expire_all(self) -> int:
        with self._lock:
            n = len(self._sessions)
            self._sessions.clear()
            return n

    def count(self) -> int:
        with self._lock:
            return len(self._sessions)
