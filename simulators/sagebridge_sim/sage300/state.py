"""The simulator's shared state, and the checks every API request passes before its resource.

Checks, in this order (SDK Developer Reference §2.2):
  1. Content-Type must be application/json -> else 500 with a plain-text IIS-style body (not JSON).
  2. HTTP Basic auth -> else 401 `Unauthorized` (+ WWW-Authenticate).
  3. company must be the simulated one -> else 404 `ResourceNotFound`.
"""
from __future__ import annotations

import base64
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from fastapi import Request
from fastapi.responses import PlainTextResponse, Response

from ..faults import FaultInjector
from .catalog import build_resources
from .db import Sage300Database
from .http_errors import SageError, error_response
from .resources import Resource

IIS_500 = ("500 - Internal server error.\r\n"
           "There is a problem with the resource you are looking for, and it cannot be displayed.")


@dataclass
class SimState:
    db: Sage300Database
    company: str
    user: str
    password: str
    page_size: int
    injector: FaultInjector
    resources: dict[tuple[str, str], Resource] = field(default_factory=build_resources)
    requests: Counter = field(default_factory=Counter)
    order_posts: int = 0
    sequences: dict[str, int] = field(default_factory=dict)
    strict_tax: bool = False   # TaxAmount1 without TaxOverride: ignored (True) or kept (False), see oe_order_build
    received_ms: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    commit_lock: threading.Lock = field(default_factory=threading.Lock)   # duplicate-PO check + insert

    def hold_commit(self, method: str) -> None:
        """Fault `commit_late_ms`: a validated write waits here, in its worker thread, before it
        commits; the client may time out meanwhile, the write still lands."""
        late = self.injector.commit_delay(method)
        if late:
            time.sleep(late)

    def next_number(self, sequence: str, highest_stored: int) -> int:
        """Next number of a document sequence (batches): above every stored one and every one handed
        out before, so a number is never reused, even after the documents were cleared."""
        with self.lock:
            number = max(self.sequences.get(sequence, 0), highest_stored) + 1
            self.sequences[sequence] = number
            return number

    def count_request(self, method: str, resource: str, status: int) -> None:
        with self.lock:
            self.requests[(method, resource, status)] += 1


# ----- request handling -----------------------------------------------------------------------------
def check_request(sim: SimState, request: Request, company: str | None) -> Response | None:
    """Content-Type, Basic auth and company checks; a response means the request stops here."""
    content_type = request.headers.get("content-type", "")
    if not content_type.split(";")[0].strip().lower() == "application/json":
        return PlainTextResponse(IIS_500, status_code=500)
    if not _authorized(sim, request.headers.get("authorization", "")):
        err = SageError(401, "Unauthorized", "The user name or password is incorrect.")
        return error_response(err, {"WWW-Authenticate": 'Basic realm="Sage300WebApi"'})
    if company is not None and company.upper() != sim.company.upper():
        return error_response(SageError(404, "ResourceNotFound", f"Company {company} was not found."))
    return None


def _authorized(sim: SimState, header: str) -> bool:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, sep, password = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return False
    return bool(sep) and user.upper() == sim.user.upper() and password == sim.password
