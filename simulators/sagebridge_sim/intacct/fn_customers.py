"""3.0 `create` / `update` of CUSTOMER (intacct.md §4 "Customer"; contract §2).

Generic 3.0 functions accept fields in any order (intacct.md §4 [FUNC]). Required on create:
CUSTOMERID (the simulator has no document sequencing), NAME, DISPLAYCONTACT/PRINTAS. A field the
object does not have -> failure (strict). An existing CUSTOMERID -> BL34000061 then BL01001973
(intacct.md §5). `update` keys on CUSTOMERID; an unknown id -> the "Cannot update non-existing"
failure (errorno is that text, as seen in the wild, intacct.md §2).
"""
from __future__ import annotations

from typing import Any

from lxml import etree

from .objects import CURRENCIES, SCHEMAS
from .outcome import Outcome, objects_data
from .state import CompanyState
from .wire import flatten_object, function_failure

SCHEMA = SCHEMAS["CUSTOMER"]
WRITABLE = [f for f in SCHEMA.fields if f not in ("RECORDNO", "WHENMODIFIED")]
STATUSES = ("active", "inactive")


def _fields(obj: etree._Element, action: str) -> dict[str, str]:
    values = flatten_object(obj)
    for name in values:
        if name not in WRITABLE:
            raise function_failure(("BL01001973", f"Invalid field {name}", f"CUSTOMER has no field {name}.",
                                    "Remove the field or check its spelling."),
                                   ("BL01001973", f"Could not {action} Customer record!", "", ""))
    return values


def _check(state: CompanyState, values: dict[str, Any], action: str) -> None:
    tail = ("BL01001973", f"Could not {action} Customer record!", "", "")
    status = values.get("STATUS")
    if status not in (None, "", *STATUSES):
        raise function_failure(("PL03000007", "Invalid status", f"STATUS {status} is not active or inactive.",
                                "Use active or inactive."), tail)
    term = values.get("TERMNAME")
    if term and term not in state.ref.terms:
        raise function_failure(("BL03000021", "Invalid term", f"Invalid Term {term}", "Use a valid term name."), tail)
    currency = values.get("CURRENCY")
    if currency and currency not in CURRENCIES:
        raise function_failure(("BL03000025", "Invalid currency", f"Invalid Currency {currency}",
                                "Use a valid currency code."), tail)


def create_customer(state: CompanyState, obj: etree._Element) -> Outcome:
    values = _fields(obj, "create")
    tail = ("BL01001973", "Could not create Customer record!", "", "")
    customerid = values.get("CUSTOMERID", "")
    for required in ("CUSTOMERID", "NAME", "DISPLAYCONTACT.PRINTAS"):
        if not values.get(required):
            raise function_failure(("PL03000001", f"Required field {required} is missing",
                                    f"{required} is required.", f"Provide a value for {required}."), tail)
    if state.one("CUSTOMER", CUSTOMERID=customerid):
        raise function_failure(("BL34000061", "", f"Another Customer with the given value(s) {customerid} already "
                                "exists", "Use a unique value instead."), tail)
    _check(state, values, "create")
    values.setdefault("STATUS", "active")
    row = state.insert("CUSTOMER", {k: values.get(k, "") for k in WRITABLE} | {"STATUS": values["STATUS"] or "active"})
    return Outcome(data=objects_data(state, "CUSTOMER", row, ["RECORDNO", "CUSTOMERID"]), write=True)


def update_customer(state: CompanyState, obj: etree._Element) -> Outcome:
    values = _fields(obj, "update")
    customerid = values.get("CUSTOMERID", "")
    row = state.one("CUSTOMER", CUSTOMERID=customerid) if customerid else None
    if row is None:
        raise function_failure((f"Cannot update non-existing CUSTOMER with CUSTOMERID={customerid}.", "",
                                "", ""))
    _check(state, values, "update")
    state.touch(row, **{k: v for k, v in values.items() if k != "CUSTOMERID"})
    return Outcome(data=objects_data(state, "CUSTOMER", row, ["RECORDNO", "CUSTOMERID"]), write=True)


def seed_customer(state: CompanyState, values: dict[str, Any]) -> dict[str, Any]:
    """An ERP user adds a customer (admin driver): the same checks as `create`."""
    obj = etree.Element("CUSTOMER")
    for k, v in values.items():
        node = obj
        for part in k.split(".")[:-1]:
            found = node.find(part)
            node = found if found is not None else etree.SubElement(node, part)
        etree.SubElement(node, k.split(".")[-1]).text = str(v)
    create_customer(state, obj)
    return state.one("CUSTOMER", CUSTOMERID=values.get("CUSTOMERID"))
