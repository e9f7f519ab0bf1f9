"""Request and response documents of the Intacct XML gateway (intacct.md §1, §2; not SOAP).

One request carries one function (the hub never batches: each function has its own outcome and
its own uniqueid control id). The response has three status levels, each with its own
`errormessage`: control (sender, rate limit, outage), authentication (login or session) and each
result. `parse_response` reads all three; deciding what they mean is the gateway's job.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Mapping

from lxml import etree

from .errors import IntacctErrorItem

DTD_VERSION = "3.0"


def element(tag: str, text: Any = None, *children: etree._Element, **attrs: str) -> etree._Element:
    """`element("quantity", Decimal("2"))` -> <quantity>2</quantity>; decimals never pass a float."""
    el = etree.Element(tag, **attrs)
    if text is not None:
        el.text = format(text, "f") if isinstance(text, Decimal) else str(text)
    el.extend(children)
    return el


def fields(tag: str, values: Mapping[str, Any]) -> etree._Element:
    """A 3.0 object (`CUSTOMER`, `ARPYMT`...): dict -> elements in dict order, nested dicts ->
    nested groups, lists of (tag, dict) -> repeated children; None values are left out."""
    el = etree.Element(tag)
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            el.append(fields(key, value))
        elif isinstance(value, list):
            group = etree.SubElement(el, key)
            for child_tag, child in value:
                group.append(fields(child_tag, child))
        else:
            el.append(element(key, value))
    return el


def build_request(*, sender_id: str, sender_password: str, controlid: str, uniqueid: bool,
                  function: etree._Element, function_controlid: str, session_id: str | None = None,
                  login: Mapping[str, str | None] | None = None) -> bytes:
    """The whole request document; exactly one of session_id / login."""
    control = element("control", None, element("senderid", sender_id), element("password", sender_password),
                      element("controlid", controlid), element("uniqueid", "true" if uniqueid else "false"),
                      element("dtdversion", DTD_VERSION), element("includewhitespace", "false"))
    if session_id is not None:
        auth = element("authentication", None, element("sessionid", session_id))
    else:
        assert login is not None
        parts = [element(k, v) for k, v in login.items() if v is not None]
        auth = element("authentication", None, element("login", None, *parts))
    wrapper = element("function", None, function, controlid=function_controlid)
    operation = element("operation", None, auth, element("content", None, wrapper), transaction="false")
    return etree.tostring(element("request", None, control, operation), xml_declaration=True, encoding="UTF-8")


@dataclass
class FunctionResult:
    status: str
    function: str
    controlid: str
    key: str | None = None
    data: etree._Element | None = None
    errors: list[IntacctErrorItem] = field(default_factory=list)

    def attr(self, name: str) -> str | None:
        return None if self.data is None else self.data.get(name)

    def records(self) -> list[dict[str, str]]:
        """The `data` children flattened (`DISPLAYCONTACT.MAILADDRESS.CITY`)."""
        return [] if self.data is None else [flatten(child) for child in self.data if isinstance(child.tag, str)]

    def first(self, name: str) -> str | None:
        rows = self.records()
        return rows[0].get(name) if rows else None


@dataclass
class Response:
    control_status: str
    control_errors: list[IntacctErrorItem] = field(default_factory=list)
    auth_status: str | None = None
    auth_errors: list[IntacctErrorItem] = field(default_factory=list)
    results: list[FunctionResult] = field(default_factory=list)


def flatten(el: etree._Element, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for child in el:
        if not isinstance(child.tag, str):
            continue
        name = f"{prefix}{child.tag}"
        if len(child):
            out.update(flatten(child, f"{name}."))
        else:
            out[name] = (child.text or "").strip()
    return out


def _text(el: etree._Element | None, tag: str) -> str:
    found = None if el is None else el.find(tag)
    return "" if found is None or found.text is None else found.text.strip()


def _errors(parent: etree._Element | None) -> list[IntacctErrorItem]:
    block = None if parent is None else parent.find("errormessage")
    if block is None:
        return []
    return [IntacctErrorItem(_text(e, "errorno") or "(no errorno)", _text(e, "description"),
                             _text(e, "description2"), _text(e, "correction")) for e in block.findall("error")]


class NotXml(ValueError):
    """The body is not an Intacct response document (an HTML error page, a cut answer)."""


def parse_response(body: bytes) -> Response:
    try:
        root = etree.fromstring(body, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as e:
        raise NotXml(str(e)) from None
    if root.tag != "response" or root.find("control") is None:
        raise NotXml(f"root element <{root.tag}> is not <response><control>")
    resp = Response(control_status=_text(root.find("control"), "status"), control_errors=_errors(root))
    op = root.find("operation")
    if op is None:
        return resp
    auth = op.find("authentication")
    resp.auth_status = _text(auth, "status") or None
    resp.auth_errors = _errors(op)
    for r in op.findall("result"):
        key = r.find("key")
        resp.results.append(FunctionResult(
            status=_text(r, "status"), function=_text(r, "function"), controlid=_text(r, "controlid"),
            key=None if key is None else (key.text or "").strip(), data=r.find("data"), errors=_errors(r)))
    return resp
