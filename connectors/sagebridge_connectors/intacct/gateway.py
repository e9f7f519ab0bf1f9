"""One Intacct company's XML gateway: sessions, the per-company cap, retries and error levels.

`execute(function, controlid=, write=, purpose=)` sends ONE function in one request:

- Session (intacct.md §3): `getAPISession` is sent alone with the login once; its `sessionid`
  and `endpoint` are reused for every later request (the endpoint is where that session lives).
  An authentication failure XL03000006 on a session request means the session expired or is
  unknown: one new getAPISession, then the request again; a second refusal is permanent (the
  login itself is wrong). Sessions slide, so a busy hub logs in once per process.
- uniqueid = write: a create/update carries uniqueid=true with a stable function controlid, so a
  resend of a function that already completed is refused (DuplicateControlError) instead of
  applied twice; reads send false (intacct.md §3, §5 "Policy").
- Classification (intacct.md §5): GW-0010 / HTTP 429, HTTP 5xx other than 524, "The Service is
  Temporarily Off-line", and transport errors before the request went out are retried here a few
  times with backoff, then TransientError. HTTP 524 (committed, then cut by the CDN) or a lost
  answer after a WRITE was sent -> OutcomeUnknownError, never resent here: the sink reconciles by
  query first. A read is harmless to repeat, so a lost read answer is retried. BL* errors,
  XL03000003 (bad XML) and everything else in a failed result -> IntacctFunctionError (permanent).
- At most erp.max_concurrency requests in flight per (login host, company) in this process
  (`limiter.py`), shared by every gateway instance.
- `sagebridge_intacct_api_transactions_total{pair,function,purpose}` counts each answered function
  (Intacct bills each one, failures included).

Secrets (sender and user passwords, the session id) never reach a log line or an exception.
"""
from __future__ import annotations

import itertools
import logging
import re
import threading
import time
import uuid
from typing import Callable, Iterator, Sequence
from urllib.parse import urljoin, urlsplit

import httpx
from lxml import etree

from sagebridge_common import metrics
from sagebridge_common.errors import OutcomeUnknownError, PermanentError, TransientError

from . import limiter
from .config import IntacctConfig
from .envelope import FunctionResult, NotXml, Response, build_request, element, parse_response
from .errors import (OFFLINE_TEXT, RATE_LIMITED, SESSION_INVALID, DuplicateControlError, IntacctErrorItem,
                     IntacctFunctionError, describe)

log = logging.getLogger(__name__)

__all__ = ["IntacctGateway", "FunctionResult", "IntacctFunctionError", "DuplicateControlError"]


class _Retry(Exception):
    """Internal: worth another try (the request did nothing, or a read may be repeated)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class _SessionRefused(Exception):
    def __init__(self, errors: list[IntacctErrorItem]) -> None:
        super().__init__(describe(errors))
        self.errors = errors


class IntacctGateway:
    def __init__(self, cfg: IntacctConfig, *, pair_id: str, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.cfg = cfg
        self.pair_id = pair_id
        self._sleep = sleep
        self._http = httpx.Client(transport=transport, timeout=cfg.timeout_s,
                                  headers={"content-type": "application/xml", "accept-encoding": "gzip, deflate"})
        host = urlsplit(cfg.endpoint_url).netloc
        self._slots = limiter.semaphore((host, cfg.company_id), cfg.max_concurrency)
        self._session_lock = threading.Lock()
        self._session: tuple[str, str] | None = None        # (sessionid, endpoint url)
        self._dup_errors = set(cfg.duplicate_control_errors)
        self._dup_message = re.compile(cfg.duplicate_control_message)
        self._seq = itertools.count(1)

    # -- the API -----------------------------------------------------------------------------
    def execute(self, function: etree._Element, *, controlid: str, write: bool, purpose: str) -> FunctionResult:
        """Send one function; its successful result, or the classified error."""
        self._require_credentials()
        return self._with_retries(lambda: self._on_session(function, controlid, write, purpose), write)

    def read_by_query(self, obj: str, fields: Sequence[str], query: str, *, pagesize: int = 1000,
                      docparid: str | None = None, purpose: str = "capture") -> Iterator[list[dict[str, str]]]:
        """readByQuery, then readMore(resultId) until numremaining is 0; yields each page's rows,
        flattened. Each call is one API transaction."""
        parts = [element("object", obj), element("fields", ",".join(fields) or "*"), element("query", query),
                 element("pagesize", pagesize)]
        if docparid:
            parts.append(element("docparid", docparid))
        result = self.execute(element("readByQuery", None, *parts), controlid=self._readid(), write=False,
                              purpose=purpose)
        while True:
            yield result.records()
            remaining, result_id = result.attr("numremaining"), result.attr("resultId")
            if not remaining or remaining == "0" or not result_id:
                return
            result = self.execute(element("readMore", None, element("resultId", result_id)),
                                  controlid=self._readid(), write=False, purpose=purpose)

    def query_all(self, obj: str, fields: Sequence[str], query: str, **kw) -> list[dict[str, str]]:
        return [row for page in self.read_by_query(obj, fields, query, **kw) for row in page]

    def ping(self) -> tuple[bool, str]:
        missing = self.cfg.missing_credentials()
        if missing:
            return False, f"intacct: credentials not set: {', '.join(missing)}"
        try:
            self._with_retries(lambda: self._current_session(), False)
        except Exception as e:            # readiness reports, it never raises
            return False, f"intacct: {e}"
        return True, f"intacct: session open for company {self.cfg.company_id}"

    def close(self) -> None:
        self._http.close()

    # -- sessions ----------------------------------------------------------------------------
    def _require_credentials(self) -> None:
        missing = self.cfg.missing_credentials()
        if missing:
            raise PermanentError(f"Intacct credentials not set in the erp block: {', '.join(missing)}",
                                 reason="intacct_credentials_missing")

    def _current_session(self, refused: str | None = None) -> tuple[str, str]:
        """The session to use; `refused` = the session id the gateway just refused (a new one is
        made unless another thread already replaced it)."""
        with self._session_lock:
            if self._session is not None and self._session[0] != refused:
                return self._session
            if refused is not None:
                metrics.INTACCT_RELOGINS.labels(self.pair_id).inc()
                log.info("intacct session refused; logging in again", extra={"pair": self.pair_id})
            self._session = self._login()
            return self._session

    def _login(self) -> tuple[str, str]:
        cfg = self.cfg
        login = {"userid": cfg.user_id, "companyid": cfg.company_id,
                 "password": cfg.user_password.get_secret_value(), "locationid": cfg.entity_id}
        fn = element("getAPISession", None, *([element("locationid", cfg.entity_id)] if cfg.entity_id else []))
        body = build_request(sender_id=cfg.sender_id, sender_password=cfg.sender_password.get_secret_value(),
                             controlid=self._readid(), uniqueid=False, function=fn,
                             function_controlid="session", login=login)
        try:
            result = self._send(cfg.endpoint_url, body, "getAPISession", "session", write=False)
        except _SessionRefused as e:
            raise IntacctFunctionError("Intacct refused the login (user, company, entity)", e.errors,
                                       function="getAPISession") from None
        session_id, endpoint = result.first("sessionid"), result.first("endpoint")
        if not session_id:
            raise PermanentError("Intacct getAPISession answered without a sessionid", reason="intacct_no_session")
        return session_id, urljoin(cfg.endpoint_url, endpoint) if endpoint else cfg.endpoint_url

    def _on_session(self, function: etree._Element, controlid: str, write: bool, purpose: str) -> FunctionResult:
        session_id, url = self._current_session()
        try:
            return self._send(url, self._body(function, controlid, write, session_id), function.tag, purpose, write)
        except _SessionRefused:
            session_id, url = self._current_session(refused=session_id)
        try:
            return self._send(url, self._body(function, controlid, write, session_id), function.tag, purpose, write)
        except _SessionRefused as e:
            raise IntacctFunctionError("Intacct refused a new session right after getAPISession", e.errors,
                                       function=function.tag, controlid=controlid) from None

    def _body(self, function: etree._Element, controlid: str, write: bool, session_id: str) -> bytes:
        return build_request(sender_id=self.cfg.sender_id,
                             sender_password=self.cfg.sender_password.get_secret_value(),
                             controlid=self._readid(), uniqueid=write, function=function,
                             function_controlid=controlid, session_id=session_id)

    # -- one request -------------------------------------------------------------------------
    def _with_retries(self, attempt: Callable[[], FunctionResult | tuple], write: bool):
        tries = self.cfg.request_tries
        for n in range(1, tries + 1):
            try:
                return attempt()
            except _Retry as e:
                if n == tries:
                    raise TransientError(f"Intacct: {e} (after {tries} tries)", reason="intacct_unavailable",
                                         retry_after=e.retry_after) from None
                delay = min(self.cfg.retry_backoff_s * 2 ** (n - 1), 30.0)
                if e.retry_after is not None:
                    delay = min(max(delay, e.retry_after), 60.0)
                log.info("intacct request retried", extra={"pair": self.pair_id, "try": n, "error": str(e)[:200]})
                self._sleep(delay)
        raise AssertionError("unreachable")

    def _send(self, url: str, body: bytes, function: str, purpose: str, write: bool) -> FunctionResult:
        with limiter.slot(self._slots):
            try:
                reply = self._http.post(url, content=body)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as e:
                raise _Retry(f"{type(e).__name__} before sending {function}") from None
            except httpx.TransportError as e:       # the request (perhaps) went out; no answer came back
                if write:
                    raise OutcomeUnknownError(f"Intacct {function}: {type(e).__name__} after sending; "
                                              f"outcome unknown") from None
                raise _Retry(f"{type(e).__name__} reading {function}") from None
        return self._read_reply(reply, function, purpose, write)

    def _read_reply(self, reply: httpx.Response, function: str, purpose: str, write: bool) -> FunctionResult:
        status = reply.status_code
        if status == 524:
            if write:
                raise OutcomeUnknownError(f"Intacct {function}: HTTP 524 (the gateway cut the connection while "
                                          f"the function was being processed); outcome unknown")
            raise _Retry(f"HTTP 524 on {function}")
        try:
            resp = parse_response(reply.content)
        except NotXml as e:
            if status == 429 or status >= 500:
                raise _Retry(f"HTTP {status} on {function}", _retry_after(reply)) from None
            raise PermanentError(f"Intacct {function}: HTTP {status} with a body that is not a response "
                                 f"document ({str(e)[:120]})", reason=f"intacct_http_{status}") from None
        if resp.control_status != "success" or (resp.control_errors and not resp.results):
            self._control_failure(resp, status, function, reply)
        if resp.auth_status != "success":
            if any(e.errorno == SESSION_INVALID for e in resp.auth_errors):
                raise _SessionRefused(resp.auth_errors)
            raise IntacctFunctionError(f"Intacct refused the authentication of {function}", resp.auth_errors,
                                       function=function)
        for result in resp.results:
            metrics.INTACCT_API_TRANSACTIONS.labels(self.pair_id, result.function or function, purpose).inc()
        if not resp.results:
            raise PermanentError(f"Intacct answered {function} with no result", reason="intacct_no_result")
        result = resp.results[0]
        if result.status == "success":
            return result
        if self._is_duplicate(result.errors):
            raise DuplicateControlError(f"Intacct {function} {result.controlid} already executed", result.errors,
                                        function=function, controlid=result.controlid)
        raise IntacctFunctionError(f"Intacct {function} {result.controlid} failed ({result.status})", result.errors,
                                   function=function, controlid=result.controlid)

    def _control_failure(self, resp: Response, status: int, function: str, reply: httpx.Response) -> None:
        errors = resp.control_errors
        if status == 429 or any(e.errorno == RATE_LIMITED for e in errors):
            raise _Retry(f"rate limited on {function}: {describe(errors)}", _retry_after(reply))
        if any(e.mentions(OFFLINE_TEXT) for e in errors):
            raise _Retry(f"service off-line on {function}: {describe(errors)}", _retry_after(reply))
        if status >= 500:
            raise _Retry(f"HTTP {status} on {function}: {describe(errors)}", _retry_after(reply))
        raise IntacctFunctionError(f"Intacct refused the request for {function} (sender credentials or request)",
                                   errors, function=function)

    def _is_duplicate(self, errors: list[IntacctErrorItem]) -> bool:
        for e in errors:
            if self._dup_errors and e.errorno in self._dup_errors:
                return True
            if not self._dup_errors and (self._dup_message.search(e.description)
                                         or self._dup_message.search(e.description2)):
                return True
        return False

    def _readid(self) -> str:
        return f"hub-{uuid.uuid4().hex[:12]}-{next(self._seq)}"


def _retry_after(reply: httpx.Response) -> float | None:
    value = reply.headers.get("retry-after")
    try:
        return float(value) if value else None
    except ValueError:
        return None
