"""Request parsing and response building of the XML gateway (intacct.md §1, §2; contract §1).

The request's element order is checked as the DTD/XSD fixes it (intacct.md §1 "order fixed by
DTD/XSD"); a body that is not well-formed XML or breaks the order -> control-level failure
XL03000003 (intacct.md §5). The response has three levels, each with its own `errormessage`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from lxml import etree

XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, huge_tree=False)

# (tag, optional) in the order the 3.0 XSD gives (intacct.md §1).
CONTROL_ORDER = [("appid", True), ("senderid", False), ("password", False), ("controlid", False),
                 ("uniqueid", True), ("dtdversion", True), ("policyid", True), ("debug", True),
                 ("includewhitespace", True), ("showadditionalerrorinfo", True)]
LOGIN_ORDER = [("userid", False), ("companyid", False), ("password", False), ("clientid", True),
               ("locationid", True)]


@dataclass
class ErrorItem:
    errorno: str
    description: str = ""
    description2: str = ""
    correction: str = ""


class Failure(Exception):
    """A failure at one level: `level` control | auth | result."""

    def __init__(self, level: str, errors: Sequence[ErrorItem], status: int = 200) -> None:
        super().__init__("; ".join(f"{e.errorno}: {e.description2 or e.description}" for e in errors))
        self.level, self.errors, self.status = level, list(errors), status


def schema_error(detail: str) -> Failure:
    return Failure("control", [ErrorItem("XL03000003", "XML Parse schema error", detail,
                                         "Check the request against the DTD/XSD (element names and order).")])


def function_failure(*errors: tuple[str, str, str, str] | ErrorItem) -> Failure:
    return Failure("result", [e if isinstance(e, ErrorItem) else ErrorItem(*e) for e in errors])


def check_order(parent: etree._Element, order: Sequence[tuple[str, bool]], where: str) -> dict[str, etree._Element]:
    """The children of `parent` follow `order` (each at most once; required ones present)."""
    children = [c for c in parent if isinstance(c.tag, str)]
    found: dict[str, etree._Element] = {}
    pos = 0
    names = [t for t, _ in order]
    for child in children:
        if child.tag not in names:
            raise schema_error(f"Element {child.tag} is not allowed in {where}.")
        idx = names.index(child.tag)
        if idx < pos or child.tag in found:
            raise schema_error(f"Element {child.tag} is out of order in {where} (expected order: {', '.join(names)}).")
        found[child.tag] = child
        pos = idx
    missing = [t for t, optional in order if not optional and t not in found]
    if missing:
        raise schema_error(f"Element {missing[0]} is required in {where}.")
    return found


def text(el: etree._Element | None) -> str:
    return "" if el is None or el.text is None else el.text.strip()


@dataclass
class Request:
    sender_id: str
    sender_password: str
    controlid: str
    uniqueid: bool
    dtdversion: str
    login: dict[str, str] | None
    sessionid: str | None
    transaction: bool
    functions: list[tuple[str, etree._Element]] = field(default_factory=list)   # (controlid, the function element)


def parse_request(body: bytes) -> Request:
    try:
        root = etree.fromstring(body, parser=XML_PARSER)
    except etree.XMLSyntaxError as e:
        raise schema_error(f"The XML is not well-formed: {e}") from None
    if root.tag != "request":
        raise schema_error(f"Root element must be request, not {root.tag}.")
    top = check_order(root, [("control", False), ("operation", False)], "request")
    control = check_order(top["control"], CONTROL_ORDER, "control")
    uniqueid = text(control.get("uniqueid")) or "false"
    if uniqueid not in ("true", "false"):
        raise schema_error("uniqueid must be true or false.")
    op = top["operation"]
    transaction = op.get("transaction", "false")
    if transaction not in ("true", "false"):
        raise schema_error("operation/@transaction must be true or false.")
    parts = check_order(op, [("authentication", False), ("content", False)], "operation")
    auth = [c for c in parts["authentication"] if isinstance(c.tag, str)]
    if len(auth) != 1 or auth[0].tag not in ("login", "sessionid"):
        raise schema_error("authentication must hold exactly one of login | sessionid.")
    login = None
    sessionid = None
    if auth[0].tag == "login":
        login = {k: text(v) for k, v in check_order(auth[0], LOGIN_ORDER, "login").items()}
    else:
        sessionid = text(auth[0])
    req = Request(text(control["senderid"]), text(control["password"]), text(control["controlid"]),
                  uniqueid == "true", text(control.get("dtdversion")) or "3.0", login, sessionid,
                  transaction == "true")
    for fn in parts["content"]:
        if not isinstance(fn.tag, str):
            continue
        if fn.tag != "function":
            raise schema_error(f"Element {fn.tag} is not allowed in content.")
        controlid = fn.get("controlid")
        if not controlid:
            raise schema_error("Attribute controlid is required on function.")
        inner = [c for c in fn if isinstance(c.tag, str)]
        if len(inner) != 1:
            raise schema_error("function must hold exactly one function element.")
        req.functions.append((controlid, inner[0]))
    if not req.functions:
        raise schema_error("content must hold at least one function.")
    return req


# -- responses --------------------------------------------------------------------------------
def _sub(parent: etree._Element, tag: str, value: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, tag, **attrs)
    if value is not None:
        el.text = value
    return el


def errormessage(parent: etree._Element, errors: Sequence[ErrorItem]) -> None:
    block = _sub(parent, "errormessage")
    for e in errors:
        err = _sub(block, "error")
        _sub(err, "errorno", e.errorno)
        _sub(err, "description", e.description)
        _sub(err, "description2", e.description2)
        _sub(err, "correction", e.correction)


def response(status: str, *, sender_id: str = "", controlid: str = "", uniqueid: str = "false",
             dtdversion: str = "3.0") -> tuple[etree._Element, etree._Element]:
    """(the <response> root, its <control>)."""
    root = etree.Element("response")
    control = _sub(root, "control")
    _sub(control, "status", status)
    _sub(control, "senderid", sender_id)
    _sub(control, "controlid", controlid)
    _sub(control, "uniqueid", uniqueid)
    _sub(control, "dtdversion", dtdversion)
    return root, control


def control_failure(errors: Sequence[ErrorItem], req: Request | None = None) -> bytes:
    root, _ = response("failure", sender_id=req.sender_id if req else "", controlid=req.controlid if req else "",
                       uniqueid=("true" if req and req.uniqueid else "false"))
    errormessage(root, errors)
    return serialize(root)


def serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def sub(parent: etree._Element, tag: str, value: str | None = None, **attrs: str) -> etree._Element:
    return _sub(parent, tag, value, **attrs)


def nest(parent: etree._Element, tag: str, flat: dict[str, str], fields: Sequence[str]) -> etree._Element:
    """A flat dotted record -> `<tag><A/><G><B/></G></tag>` in `fields` order (empty = empty element)."""
    el = _sub(parent, tag)
    groups: dict[str, etree._Element] = {}
    for name in fields:
        parts = name.split(".")
        node, path = el, ""
        for part in parts[:-1]:
            path = f"{path}.{part}" if path else part
            if path not in groups:
                groups[path] = _sub(node, part)
            node = groups[path]
        _sub(node, parts[-1], flat.get(name, ""))
    return el


def flatten_object(el: etree._Element, prefix: str = "") -> dict[str, str]:
    """`<CUSTOMER><DISPLAYCONTACT><EMAIL1>` -> {"DISPLAYCONTACT.EMAIL1": ...} (leaves only)."""
    out: dict[str, str] = {}
    for child in el:
        if not isinstance(child.tag, str):
            continue
        name = f"{prefix}{child.tag}"
        if len([c for c in child if isinstance(c.tag, str)]):
            out.update(flatten_object(child, name + "."))
        else:
            out[name] = text(child)
    return out
