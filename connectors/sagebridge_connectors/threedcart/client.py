"""The SOAP client of the 3dcart Store Web Service (shift4shop.md §4), through zeep.

zeep builds and sends the document/literal SOAP 1.1 requests from the WSDL (ours by default,
`wsdl/cart.wsdl`, with the service address overridden by `service_url`), with a `requests` session
and a timeout on every call. `storeUrl` and `userKey` are injected into every call here, so callers
name only the operation's own parameters and the key never appears in a log line.

The answer is taken raw (`raw_response=True`): every `<opResult>` is mixed content wrapping one
XML document (xmlns=""), which the WSDL leaves open as `xs:any`; it is parsed with defusedxml and
turned into a dict by `documents.to_dict` (xmltodict plus the issue's list rule). HTTP and transport
failures map to the runtime's vocabulary: 429/5xx and connection errors -> TransientError (with
Retry-After), a SOAP Client fault -> PermanentError, an `<Error><Id>` document -> `errors.error_for`.
Every call first takes a token of the store's `TokenBucket`.
"""
from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import Any
from xml.etree.ElementTree import Element

import requests
import zeep
from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException
from zeep.transports import Transport

from sagebridge_common.errors import PermanentError, TransientError
from sagebridge_common.rate_limit import TokenBucket

from .config import ThreeDCartStorefrontConfig
from .documents import to_dict
from .errors import error_for

NS = "http://3dcart.com/"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
BINDING = f"{{{NS}}}cartSoap"
# zeep's transport logs whole envelopes at DEBUG, userKey included: never below INFO, whatever the
# service's log level (no secrets in logs)
logging.getLogger("zeep.transports").setLevel(logging.INFO)


def _retry_after(resp: requests.Response) -> float | None:
    try:
        return float(resp.headers.get("Retry-After", ""))
    except ValueError:
        return None


class ThreeDCartClient:
    def __init__(self, config: ThreeDCartStorefrontConfig, *, bucket: TokenBucket | None = None) -> None:
        self.config = config
        self.bucket = bucket or TokenBucket(config.rate_limit_per_s, config.rate_limit_burst,
                                            name=f"threedcart:{config.instance}")
        self.session = requests.Session()
        self._service: Any = None
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()       # SOAP calls made, by operation (reports, tests)

    def _soap(self) -> Any:
        """zeep's service proxy, built on first use: a remote WSDL is read only when the store is
        first called, so a store that is down at start-up does not stop the process."""
        with self._lock:
            if self._service is None:
                transport = Transport(session=self.session, timeout=self.config.timeout_s,
                                      operation_timeout=self.config.timeout_s)
                client = zeep.Client(self.config.wsdl, transport=transport,
                                     settings=zeep.Settings(raw_response=True, strict=True))
                self._service = client.create_service(BINDING, self.config.service_url)
            return self._service

    def call(self, op: str, **params: Any) -> tuple[str, dict[str, Any]]:
        """(root tag, document as dict) of `op`'s result; raises the mapped error for an `<Error>`."""
        self.bucket.acquire()
        with self._lock:
            self.calls[op] += 1
        try:
            resp = getattr(self._soap(), op)(storeUrl=self.config.store_url,
                                             userKey=self.config.user_key.get_secret_value(), **params)
        except requests.Timeout as e:
            raise TransientError(f"3dcart {op}: timed out after {self.config.timeout_s}s", reason="timeout") from e
        except requests.RequestException as e:
            raise TransientError(f"3dcart {op}: {type(e).__name__}: {e}", reason="transport") from e
        root = self._document(op, resp)
        tag, body = to_dict(root)
        if tag == "Error":
            code = int(str(body.get("Id") or "-1"))
            raise error_for(op, code, str(body.get("Description") or ""))
        return tag, body

    def _document(self, op: str, resp: requests.Response) -> Element:
        status = resp.status_code
        if status == 429 or status == 503:
            after = _retry_after(resp)
            if after:
                self.bucket.hold(after)
            raise TransientError(f"3dcart {op}: HTTP {status}", reason="throttled" if status == 429 else "unavailable",
                                 retry_after=after)
        envelope = self._parse(op, resp)
        if status != 200:
            # ASP.NET answers SOAP faults with 500: a Client fault is our request (permanent), a
            # Server fault or any other 5xx is the service (transient); another 4xx is permanent.
            fault = envelope.find(f"{{{SOAP11}}}Body/{{{SOAP11}}}Fault") if envelope is not None else None
            if fault is not None and (fault.findtext("faultcode") or "").endswith("Client"):
                raise PermanentError(f"3dcart {op}: SOAP fault {fault.findtext('faultstring')!r}",
                                     reason="threedcart_request")
            if status >= 500 or fault is not None:
                raise TransientError(f"3dcart {op}: HTTP {status}", reason="http_5xx", retry_after=_retry_after(resp))
            raise PermanentError(f"3dcart {op}: HTTP {status}", reason="threedcart_http")
        if envelope is None:
            raise TransientError(f"3dcart {op}: HTTP 200 with a body that is not XML", reason="bad_response")
        result = envelope.find(f"{{{SOAP11}}}Body/{{{NS}}}{op}Response/{{{NS}}}{op}Result")
        document = next(iter(result), None) if result is not None else None
        if document is None:
            raise TransientError(f"3dcart {op}: no result document in the answer", reason="bad_response")
        return document

    @staticmethod
    def _parse(op: str, resp: requests.Response) -> Element | None:
        try:
            return SafeET.fromstring(resp.content)
        except DefusedXmlException as e:
            raise PermanentError(f"3dcart {op}: refused XML construct in the answer: {e}",
                                 reason="threedcart_bad_xml") from e
        except SafeET.ParseError:
            return None

    def close(self) -> None:
        self.session.close()

