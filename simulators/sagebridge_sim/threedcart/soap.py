"""SOAP 1.1 envelopes of the Store Web Service (shift4shop.md §4: namespace `http://3dcart.com/`,
document/literal, SOAPAction `"http://3dcart.com/<op>"`).

Requests are parsed with defusedxml's lxml-compatible parser settings (no DTD, no entities, no
network), as any XML from outside must be. Parameters are the children of the operation element in
the service namespace (the schema is `elementFormDefault="qualified"`): an unqualified child is not
the parameter and reads as absent, as ASP.NET's serializer treats it. The answer is
`<opResponse xmlns="http://3dcart.com/"><opResult><RawDoc xmlns="">...</RawDoc></opResult></opResponse>`.
Protocol errors (bad XML, unknown SOAPAction) are SOAP Faults with HTTP 500, as ASP.NET sends them;
business errors are `<Error>` documents inside the result with HTTP 200 (§4).
"""
from __future__ import annotations

from lxml import etree

NS = "http://3dcart.com/"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, dtd_validation=False, load_dtd=False,
                          huge_tree=False)


class SoapFault(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse_request(body: bytes, soap_action: str | None) -> tuple[str, dict[str, str]]:
    """(operation name, parameters). The SOAPAction header must name the same operation as the body."""
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise SoapFault("soap:Client", "DTDs are not allowed")
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as e:
        raise SoapFault("soap:Client", f"Server was unable to read request. {e}") from None
    if root.tag != f"{{{SOAP11}}}Envelope":
        raise SoapFault("soap:VersionMismatch", "Possible SOAP version mismatch: expected a SOAP 1.1 Envelope")
    body_el = root.find(f"{{{SOAP11}}}Body")
    op_el = next(iter(body_el), None) if body_el is not None else None
    if op_el is None or etree.QName(op_el).namespace != NS:
        raise SoapFault("soap:Client", "Server did not recognize the request element")
    op = etree.QName(op_el).localname
    action = (soap_action or "").strip().strip('"')
    if action != f"{NS}{op}":
        raise SoapFault("soap:Client", f"Server did not recognize the value of HTTP Header SOAPAction: {action}.")
    params = {}
    for child in op_el:
        if isinstance(child.tag, str) and etree.QName(child).namespace == NS:
            params[etree.QName(child).localname] = child.text or ""
    return op, params


def response(op: str, document: etree._Element) -> bytes:
    """Written as text around the serialized document: lxml would put a no-namespace child of a
    default-namespace parent out without `xmlns=""` (moving it into the service namespace); the
    service writes `<GetOrdersResponse xmlns="">` and so do we."""
    doc = etree.tostring(document, encoding="utf-8")
    name = etree.QName(document).localname.encode()
    doc = b"<" + name + b' xmlns=""' + doc[len(name) + 1:]
    return (b'<?xml version="1.0" encoding="utf-8"?>'
            b'<soap:Envelope xmlns:soap="' + SOAP11.encode() + b'" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
            b' xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body>'
            b"<" + op.encode() + b'Response xmlns="' + NS.encode() + b'"><' + op.encode() + b"Result>" + doc
            + b"</" + op.encode() + b"Result></" + op.encode() + b"Response></soap:Body></soap:Envelope>")


def fault(code: str, message: str) -> bytes:
    env = etree.Element(f"{{{SOAP11}}}Envelope", nsmap={"soap": SOAP11})
    body = etree.SubElement(env, f"{{{SOAP11}}}Body")
    f = etree.SubElement(body, f"{{{SOAP11}}}Fault")
    etree.SubElement(f, "faultcode").text = code
    etree.SubElement(f, "faultstring").text = message
    return etree.tostring(env, xml_declaration=True, encoding="utf-8")
