"""Sage 300 Web API simulator: a FastAPI app over the real Sage 300 tables in `Sage300Database`.

Why: the hub's `erp_writer` must survive the real Web API's habits (Basic auth on every call,
Content-Type required even on GET, OData feeds with string `odata.count` and 100-row pages, POST that
never deduplicates orders), and the CDC service must see the rows those calls leave behind.

Base path `/Sage300WebApi/v1.0/-/{company}/{Module}/{Resource}`. Resources:
  OE/OEOrders (GET feed, GET `(OrderUniquifier)`, POST), AR/ARCustomers (GET, GET `('ID')`, POST),
  IC/ICItems (GET, GET `('UNFORMATTED')`), IC/ICLocations, OE/OEShipViaCodes, OE/OEMiscellaneousCharges (GET).
Query options: `$filter` (see odata.py), `$top`, `$skip`, `$count=true` / `$inlinecount=allpages`, `$select`.

Checks, in this order, on every API request:
  1. Content-Type must be application/json -> else 500 with a plain-text IIS-style body (not JSON).
  2. HTTP Basic auth -> else 401 `Unauthorized` (+ WWW-Authenticate).
  3. company must be the simulated one -> else 404 `ResourceNotFound`.

Error body (also used for injected faults):
  `{"error": {"code": "<Code>", "message": {"lang": "en-US", "value": "<text>"}}}`
Status mapping chosen here (Sage documents only 404 RecordNotFound and the 500 for a missing
Content-Type):
  400 InvalidPayload (bad JSON, unknown/mistyped/too long property), InvalidParameters (bad query
      option or $filter), InvalidEntityKey (bad `(key)`), RecordInvalid (business rule: unknown
      customer/item/location/misc charge/ship-via, inactive records, currency mismatch)
  401 Unauthorized · 404 RecordNotFound (key not found), ResourceNotFound (company/resource)
  405 MethodNotAllowed · 409 RecordDuplicate (existing customer key) · 429 TooManyRequests (faults,
      with Retry-After)
  500 InternalServerError · 503 InternalServerError body (fault outages, with Retry-After)

Duplicate PO numbers: the customer option CheckForDuplicatePOs (ARCUS.SWCHKDUPPO, Sage AOM: 0 None,
1 Warning, 2 Error). At 2 a second order with a PO number the customer already used is refused; at 1
it is accepted (desktop O/E shows a warning, the Web API has no channel for one); at 0 accepted.
Sage documents neither the code nor the text of the refusal. RecordDuplicate is documented for an
insert with an existing *key*, and a PO number is no key of OEORDH, so the refusal is the
business-rule code: 400 `RecordInvalid`, "Purchase order number <po> has already been used for
customer <id>." The check runs at commit time, atomically with the insert, so two concurrent POSTs
cannot both pass it.

Fault `commit_late_ms` (faults.py): an order POST is validated, held, then committed and answered;
a client that timed out meanwhile never learns the order exists.

Money and quantities are Decimal end to end: request JSON is parsed with `parse_float=Decimal`, and
responses write Decimals as exact JSON numbers (parse them with `parse_float=Decimal` to keep them).

Admin (no auth, never faulted): `GET /_sim/orders`, `GET /_sim/stats`, `POST /_sim/reset`,
`GET|POST /_sim/faults`, `POST /_sim/customers/{id}` (change ARCustomers properties, e.g.
`{"CheckForDuplicatePOs": "Error"}`, as an administrator would in A/R Customers).
"""
from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from ..faults import FaultInjector, FaultMiddleware, install_admin_routes
from . import odata
from .db import SCHEMA, RowError, Sage300Database, unformat_item, utc_stamp

log = logging.getLogger(__name__)

API_ROOT = "/Sage300WebApi/v1.0/-"
IIS_500 = ("500 - Internal server error.\r\n"
           "There is a problem with the resource you are looking for, and it cannot be displayed.")
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
STATUS_CODES = {400: "InvalidParameters", 401: "Unauthorized", 403: "Forbidden", 404: "ResourceNotFound",
                405: "MethodNotAllowed", 409: "RecordDuplicate", 429: "TooManyRequests"}


# ----- errors and JSON ------------------------------------------------------------------------------
class SageError(Exception):
    """An error the Web API reports with its JSON error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": {"lang": "en-US", "value": message}}}


def fault_body(status: int) -> dict[str, Any]:
    """Body for injected faults, same shape as real errors."""
    code = STATUS_CODES.get(status, "InternalServerError")
    return error_body(code, f"Simulated fault (HTTP {status}).")


def dumps(value: Any) -> str:
    """JSON with Decimals written as exact numbers (json.dumps would need floats)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value)


class SageJSON(Response):
    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return dumps(content).encode()


def error_response(err: SageError, headers: dict[str, str] | None = None) -> SageJSON:
    return SageJSON(error_body(err.code, err.message), status_code=err.status, headers=headers)


def invalid_payload(message: str) -> SageError:
    return SageError(400, "InvalidPayload", message)


def record_invalid(message: str) -> SageError:
    return SageError(400, "RecordInvalid", message)


# ----- value converters (DB <-> Web API) ------------------------------------------------------------
class Conv:
    """Text column <-> JSON string. Subclasses for other shapes."""

    def to_api(self, value: Any) -> Any:
        return value

    def from_api(self, prop: str, value: Any, size: int, scale: int) -> Any:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise invalid_payload(f"Property {prop} must be a string.")
        if len(value) > size:
            raise invalid_payload(f"Property {prop} is longer than {size} characters.")
        return value


class IntConv(Conv):
    def to_api(self, value: Any) -> Any:
        return int(value)

    def from_api(self, prop: str, value: Any, size: int, scale: int) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid_payload(f"Property {prop} must be an integer.")
        return value


class BoolConv(Conv):
    def to_api(self, value: Any) -> Any:
        return bool(value)

    def from_api(self, prop: str, value: Any, size: int, scale: int) -> Any:
        if not isinstance(value, bool):
            raise invalid_payload(f"Property {prop} must be true or false.")
        return int(value)


class DecConv(Conv):
    def from_api(self, prop: str, value: Any, size: int, scale: int) -> Any:
        return parse_decimal(prop, value, scale)


class DateConv(Conv):
    def to_api(self, value: Any) -> Any:
        return api_date(int(value))

    def from_api(self, prop: str, value: Any, size: int, scale: int) -> Any:
        return parse_date(prop, value)


@dataclass
class EnumConv(Conv):
    names: dict[int, str]

    def to_api(self, value: Any) -> Any:
        return self.names.get(int(value), str(value))

    def from_api(self, prop: str, value: Any, size: int, scale: int) -> Any:
        for code, name in self.names.items():
            if value == name:
                return code
        raise invalid_payload(f"Property {prop} must be one of {', '.join(self.names.values())}.")


STR, INT, BOOL, DEC, DATE = Conv(), IntConv(), BoolConv(), DecConv(), DateConv()


def parse_decimal(prop: str, value: Any, scale: int) -> Decimal:
    """JSON number or numeric string -> Decimal; more decimals than the column keeps is an error
    (a float artefact like 59.970000000000006 must not be silently rounded away)."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        raise invalid_payload(f"Property {prop} must be a number.")
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise invalid_payload(f"Property {prop} must be a number.") from None
    if not number.is_finite():
        raise invalid_payload(f"Property {prop} must be a number.")
    exp = Decimal(1).scaleb(-scale)
    if number.quantize(exp) != number:
        raise invalid_payload(f"Property {prop} allows at most {scale} decimal places.")
    return number.quantize(exp)


def parse_date(prop: str, value: Any) -> int:
    """"YYYY-MM-DD" or an ISO date-time -> YYYYMMDD (date part as sent, no time zone shift)."""
    if not isinstance(value, str):
        raise invalid_payload(f"Property {prop} must be a date string.")
    match = re.match(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$", value.strip())
    if not match:
        raise invalid_payload(f"Property {prop} is not a valid date: {value!r}.")
    try:
        day = datetime(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise invalid_payload(f"Property {prop} is not a valid date: {value!r}.") from None
    return day.year * 10000 + day.month * 100 + day.day


def api_date(yyyymmdd: int) -> str | None:
    """Sage date number -> "2024-11-05T00:00:00Z" (0 = blank -> null)."""
    if not yyyymmdd:
        return None
    y, md = divmod(yyyymmdd, 10000)
    m, d = divmod(md, 100)
    return f"{y:04d}-{m:02d}-{d:02d}T00:00:00Z"


def audit_ms(row: dict[str, Any]) -> int:
    """Epoch ms of a row's AUDTDATE/AUDTTIME (UTC), for orders the simulator did not receive itself."""
    date, time_ = int(row["AUDTDATE"]), int(row["AUDTTIME"])
    stamp = datetime(date // 10000, date // 100 % 100, date % 100, time_ // 1000000, time_ // 10000 % 100,
                     time_ // 100 % 100, time_ % 100 * 10000, tzinfo=timezone.utc)
    return int(stamp.timestamp() * 1000)


# ----- resource definitions -----------------------------------------------------------------------
@dataclass(frozen=True)
class Prop:
    api: str
    col: str
    conv: Conv = STR
    table: str = ""  # "" = the resource's main table


@dataclass
class Resource:
    """A table exposed as an OData entity set. Entries are built from rows by the props list."""
    module: str
    name: str
    table: str
    props: list[Prop]
    key: str
    writable: set[str] = field(default_factory=set)

    @property
    def key_prop(self) -> Prop:
        return next(p for p in self.props if p.api == self.key)

    @property
    def filter_props(self) -> list[str]:
        return [p.api for p in self.props]

    def entry(self, rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
        return {p.api: p.conv.to_api(rows[p.table or self.table][p.col]) for p in self.props}

    def sql_prefilter(self, terms: dict[str, str]) -> dict[str, str]:
        """Filter equality terms on main-table text columns -> column equality for SQL."""
        out = {}
        for p in self.props:
            if p.api in terms and not p.table and type(p.conv) is Conv:
                out[p.col] = terms[p.api]
        return out

    def load(self, db: Sage300Database, where: dict[str, Any] | None) -> list[dict[str, Any]]:
        return [self.entry({self.table: row}) for row in db.select(self.table, where)]

    def expand(self, db: Sage300Database, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return entries

    def row_from_payload(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Writable properties -> main-table columns, validated by type and column size."""
        row = {}
        table = SCHEMA[self.table]
        for p in self.props:
            if p.api in payload and p.api in self.writable and not p.table:
                col = table.col(p.col)
                row[p.col] = p.conv.from_api(p.api, payload[p.api], col.size, col.scale)
        return row


LINE_TYPES = EnumConv({1: "Item", 2: "Miscellaneous"})

ORDER_PROPS = [
    Prop("OrderUniquifier", "ORDUNIQ", INT), Prop("OrderNumber", "ORDNUMBER"), Prop("CustomerNumber", "CUSTOMER"),
    Prop("OrderType", "TYPE", EnumConv({1: "Active", 2: "Future", 3: "Standing", 4: "Quote"})),
    Prop("OrderDate", "ORDDATE", DATE), Prop("ExpectedShipDate", "EXPDATE", DATE),
    Prop("OrderReference", "REFERENCE"), Prop("PurchaseOrderNumber", "PONUMBER"),
    Prop("OrderDescription", "DESC"), Prop("OrderComment", "COMMENT"),
    Prop("ShipViaCode", "SHIPVIA"), Prop("ShipViaCodeDescription", "VIADESC"),
    Prop("DefaultLocationCode", "LOCATION"), Prop("OnHold", "ONHOLD", BOOL),
    Prop("BillToName", "BILNAME"), Prop("BillToAddressLine1", "BILADDR1"), Prop("BillToAddressLine2", "BILADDR2"),
    Prop("BillToCity", "BILCITY"), Prop("BillToStateProvince", "BILSTATE"), Prop("BillToZipPostalCode", "BILZIP"),
    Prop("BillToCountry", "BILCOUNTRY"), Prop("ShipToLocationCode", "SHIPTO"),
    Prop("ShipToName", "SHPNAME"), Prop("ShipToAddressLine1", "SHPADDR1"), Prop("ShipToAddressLine2", "SHPADDR2"),
    Prop("ShipToCity", "SHPCITY"), Prop("ShipToStateProvince", "SHPSTATE"), Prop("ShipToZipPostalCode", "SHPZIP"),
    Prop("ShipToCountry", "SHPCOUNTRY"), Prop("ShipToPhoneNumber", "SHPPHONE"),
    Prop("ShipToEmail", "SHPEMAIL", STR, "OEORDH1"),
    Prop("OrderSourceCurrency", "ORSOURCURR"), Prop("OrderDiscountAmount", "INVDISCAMT", DEC),
    Prop("TaxAmount1", "TAMOUNT1", DEC), Prop("OrderTotal", "INVNETWTX", DEC),
    Prop("OrderCompleted", "COMPLETE", EnumConv({1: "IncompleteNotIncluded", 2: "IncompleteIncluded",
                                                 3: "CompleteNotIncluded", 4: "CompleteIncluded",
                                                 5: "CompleteDayEndProcessed"})),
    Prop("OrderSource", "ORDERSOURC", EnumConv({0: "Entered", 1: "Internet", 2: "EC", 3: "ePOS"})),
    Prop("LastInvoiceNumber", "LASTINVNUM"),
]
# Plain properties a POST may set directly; the rest of ORDER_POST_PROPS is validated by hand.
ORDER_SIMPLE = {"OrderReference", "PurchaseOrderNumber", "OrderDescription", "OrderComment",
                "BillToName", "BillToAddressLine1", "BillToAddressLine2", "BillToCity", "BillToStateProvince",
                "BillToZipPostalCode", "BillToCountry", "ShipToName", "ShipToAddressLine1", "ShipToAddressLine2",
                "ShipToCity", "ShipToStateProvince", "ShipToZipPostalCode", "ShipToCountry", "ShipToPhoneNumber",
                "ShipToEmail", "OrderDiscountAmount", "TaxAmount1"}
ORDER_POST_PROPS = ORDER_SIMPLE | {"CustomerNumber", "OrderDate", "ShipViaCode", "DefaultLocationCode",
                                   "OrderSourceCurrency", "OrderDetails"}
ITEM_LINE_PROPS = {"LineType", "Item", "Location", "QuantityOrdered", "OrderUnitPrice", "PriceOverride", "Description"}
MISC_LINE_PROPS = {"LineType", "MiscellaneousChargesCode", "ExtendedAmount", "Description"}

LINE_PROPS = [
    Prop("LineNumber", "LINENUM", INT), Prop("LineType", "LINETYPE", LINE_TYPES), Prop("Item", "ITEM"),
    Prop("MiscellaneousChargesCode", "MISCCHARGE"), Prop("Location", "LOCATION"), Prop("Description", "DESC"),
    Prop("QuantityOrdered", "QTYORDERED", DEC), Prop("QuantityShipped", "QTYSHIPPED", DEC),
    Prop("QuantityBackordered", "QTYBACKORD", DEC), Prop("QuantityCommitted", "QTYCOMMIT", DEC),
    Prop("OrderUnitPrice", "UNITPRICE", DEC), Prop("PriceOverride", "PRICEOVER", BOOL),
    Prop("ExtendedAmount", "EXTINVMISC", DEC),
]
# Bill-to defaults copied from the customer record, as the O/E header view does.
BILL_TO_DEFAULTS = {"BILNAME": "NAMECUST", "BILADDR1": "TEXTSTRE1", "BILADDR2": "TEXTSTRE2", "BILCITY": "NAMECITY",
                    "BILSTATE": "CODESTTE", "BILZIP": "CODEPSTL", "BILCOUNTRY": "CODECTRY"}
SHIP_FROM_BILL = {"SHPNAME": "BILNAME", "SHPADDR1": "BILADDR1", "SHPADDR2": "BILADDR2", "SHPCITY": "BILCITY",
                  "SHPSTATE": "BILSTATE", "SHPZIP": "BILZIP", "SHPCOUNTRY": "BILCOUNTRY"}


class OrdersResource(Resource):
    """OEORDH + OEORDH1 (1:1) with OEORDD details attached only to the entries actually returned."""

    def load(self, db: Sage300Database, where: dict[str, Any] | None) -> list[dict[str, Any]]:
        return [self.entry({"OEORDH": h, "OEORDH1": h1}) for h, h1 in db.order_rows(where)]

    def expand(self, db: Sage300Database, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for entry in entries:
            lines = db.order_lines(entry["OrderUniquifier"])
            entry["OrderDetails"] = [{p.api: p.conv.to_api(line[p.col]) for p in LINE_PROPS} for line in lines]
        return entries

    def entry(self, rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
        if not rows.get("OEORDH1"):
            rows = {**rows, "OEORDH1": {"SHPEMAIL": ""}}
        return super().entry(rows)


CUSTOMER_PROPS = [
    Prop("CustomerNumber", "IDCUST"), Prop("ShortName", "TEXTSNAM"), Prop("GroupCode", "IDGRP"),
    Prop("Status", "SWACTV", EnumConv({1: "Active", 0: "Inactive"})),
    Prop("OnHold", "SWHOLD", EnumConv({0: "No", 1: "Yes"})), Prop("CustomerName", "NAMECUST"),
    Prop("AddressLine1", "TEXTSTRE1"), Prop("AddressLine2", "TEXTSTRE2"), Prop("AddressLine3", "TEXTSTRE3"),
    Prop("AddressLine4", "TEXTSTRE4"), Prop("City", "NAMECITY"), Prop("StateProvince", "CODESTTE"),
    Prop("ZipPostalCode", "CODEPSTL"), Prop("Country", "CODECTRY"), Prop("ContactName", "NAMECTAC"),
    Prop("PhoneNumber", "TEXTPHON1"), Prop("CurrencyCode", "CODECURN"), Prop("Email", "EMAIL2"),
    Prop("ContactsEmail", "EMAIL1"),
    Prop("CheckForDuplicatePOs", "SWCHKDUPPO", EnumConv({0: "None", 1: "Warning", 2: "Error"})),
    Prop("DateLastMaintained", "DATELASTMN", DATE),
]

ITEM_PROPS = [
    Prop("UnformattedItemNumber", "ITEMNO"), Prop("ItemNumber", "FMTITEMNO"), Prop("Description", "DESC"),
    Prop("Status", "INACTIVE", EnumConv({0: "Active", 1: "Inactive"})), Prop("StockItem", "STOCKITEM", BOOL),
    Prop("StockingUnitOfMeasure", "STOCKUNIT"), Prop("DefaultPriceListCode", "DEFPRICLST"),
    Prop("UnitWeight", "UNITWGT", DEC), Prop("Category", "CATEGORY"), Prop("AllowOnWeb", "ALLOWONWEB", BOOL),
    Prop("DateLastMaintained", "DATELASTMN", DATE),
]


def build_resources() -> dict[tuple[str, str], Resource]:
    resources = [
        OrdersResource("OE", "OEOrders", "OEORDH", ORDER_PROPS, "OrderUniquifier"),
        Resource("AR", "ARCustomers", "ARCUS", CUSTOMER_PROPS, "CustomerNumber",
                 {p.api for p in CUSTOMER_PROPS} - {"DateLastMaintained"}),
        Resource("IC", "ICItems", "ICITEM", ITEM_PROPS, "UnformattedItemNumber"),
        Resource("IC", "ICLocations", "ICLOC", [Prop("Location", "LOCATION"), Prop("Description", "DESC")], "Location"),
        Resource("OE", "OEShipViaCodes", "OEVIA", [Prop("Code", "CODE"), Prop("Name", "NAME")], "Code"),
        Resource("OE", "OEMiscellaneousCharges", "OEMISC",
                 [Prop("MiscellaneousChargesCode", "MISCCHARGE"), Prop("Description", "DESC")],
                 "MiscellaneousChargesCode"),
    ]
    return {(r.module.upper(), r.name.upper()): r for r in resources}


# ----- order creation -------------------------------------------------------------------------------
def _require_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid_payload(f"{what} must be a JSON object.")
    return value


def _reject_unknown(payload: dict[str, Any], allowed: set[str], where: str) -> None:
    for name in payload:
        if name not in allowed:
            raise invalid_payload(f"Property {name} is not valid for {where}.")


def _required_text(payload: dict[str, Any], prop: str, where: str) -> str:
    value = payload.get(prop)
    if not isinstance(value, str) or not value.strip():
        raise invalid_payload(f"{where}{prop} is required.")
    return value.strip()


def _decimal_field(payload: dict[str, Any], prop: str, scale: int, where: str) -> Decimal:
    if payload.get(prop) is None:
        raise invalid_payload(f"{where}{prop} is required.")
    return parse_decimal(where + prop, payload[prop], scale)


def build_order(db: Sage300Database, payload: Any) -> tuple[dict, dict, list[dict]]:
    """Validate an OEOrders POST body -> (OEORDH row, OEORDH1 row, OEORDD rows) with totals."""
    payload = _require_object(payload, "The request body")
    _reject_unknown(payload, ORDER_POST_PROPS, "OEOrders")
    customer = _customer_for_order(db, _required_text(payload, "CustomerNumber", ""))
    header = _header_defaults(customer)
    rows = {"OEORDH": header, "OEORDH1": {}}
    for prop in ORDER_PROPS:
        if prop.api in ORDER_SIMPLE and prop.api in payload:
            table = prop.table or "OEORDH"
            col = SCHEMA[table].col(prop.col)
            rows[table][prop.col] = prop.conv.from_api(prop.api, payload[prop.api], col.size, col.scale)
    _fill_ship_to(header, payload)
    _apply_order_date(header, payload)
    _apply_ship_via(db, header, payload)
    _apply_location(db, header, payload)
    _apply_currency(header, payload, customer)
    details = _build_lines(db, payload.get("OrderDetails"), header["LOCATION"] or _first_location(db))
    header["INVNETWTX"] = order_total(details, header.get("INVDISCAMT", Decimal(0)), header.get("TAMOUNT1", Decimal(0)))
    return header, rows["OEORDH1"], details


def order_total(details: list[dict], discount: Decimal, tax: Decimal) -> Decimal:
    """Σ item extended (qty × price) + Σ misc − order discount + tax, all Decimal."""
    total = sum((Decimal(d["EXTINVMISC"]) for d in details), Decimal("0.000"))
    return (total - discount + tax).quantize(Decimal("0.001"))


def _customer_for_order(db: Sage300Database, number: str) -> dict[str, Any]:
    customer = db.get("ARCUS", {"IDCUST": number}) if len(number) <= 12 else None
    if customer is None:
        raise record_invalid(f"Customer {number} does not exist.")
    if not customer["SWACTV"]:
        raise record_invalid(f"Customer {number} is inactive.")
    return customer


def _header_defaults(customer: dict[str, Any]) -> dict[str, Any]:
    header: dict[str, Any] = {"CUSTOMER": customer["IDCUST"], "TYPE": 1, "COMPLETE": 1, "ORDERSOURC": 1,
                              "ONHOLD": 1 if customer["SWHOLD"] else 0, "LOCATION": ""}
    header.update({col: customer[src] for col, src in BILL_TO_DEFAULTS.items()})
    return header


def _fill_ship_to(header: dict[str, Any], payload: dict[str, Any]) -> None:
    """Without any ShipTo* address property the ship-to address is the bill-to address."""
    if not any(k.startswith("ShipTo") and k not in ("ShipToEmail", "ShipToPhoneNumber") for k in payload):
        header.update({col: header[src] for col, src in SHIP_FROM_BILL.items()})


def _apply_order_date(header: dict[str, Any], payload: dict[str, Any]) -> None:
    date = parse_date("OrderDate", payload["OrderDate"]) if payload.get("OrderDate") is not None else utc_stamp()[0]
    header["ORDDATE"] = header["EXPDATE"] = date


def _apply_ship_via(db: Sage300Database, header: dict[str, Any], payload: dict[str, Any]) -> None:
    code = STR.from_api("ShipViaCode", payload.get("ShipViaCode"), 6, 0).strip()
    if not code:
        return
    via = db.get("OEVIA", {"CODE": code})
    if via is None:
        raise record_invalid(f"Ship-via code {code} does not exist.")
    header["SHIPVIA"], header["VIADESC"] = code, via["NAME"]


def _apply_location(db: Sage300Database, header: dict[str, Any], payload: dict[str, Any]) -> None:
    code = STR.from_api("DefaultLocationCode", payload.get("DefaultLocationCode"), 6, 0).strip()
    if code and db.get("ICLOC", {"LOCATION": code}) is None:
        raise record_invalid(f"Location {code} does not exist.")
    header["LOCATION"] = code


def _apply_currency(header: dict[str, Any], payload: dict[str, Any], customer: dict[str, Any]) -> None:
    currency = STR.from_api("OrderSourceCurrency", payload.get("OrderSourceCurrency"), 3, 0).strip()
    if currency and currency != customer["CODECURN"]:
        raise record_invalid(f"Order currency {currency} differs from customer currency {customer['CODECURN']}.")
    header["ORSOURCURR"] = customer["CODECURN"]


def check_duplicate_po(db: Sage300Database, header: dict[str, Any]) -> None:
    """ARCUS.SWCHKDUPPO = 2 (Error): a PO number already used by this customer is refused. Reads the
    option at commit time (an administrator may have changed it since the order was validated)."""
    po = header.get("PONUMBER", "").strip()
    if not po:
        return
    customer = db.get("ARCUS", {"IDCUST": header["CUSTOMER"]})
    if customer and customer["SWCHKDUPPO"] == 2 and db.order_rows({"CUSTOMER": customer["IDCUST"], "PONUMBER": po}):
        raise record_invalid(f"Purchase order number {po} has already been used for customer "
                             f"{customer['IDCUST'].strip()}.")


def _first_location(db: Sage300Database) -> str:
    locations = db.select("ICLOC")
    return locations[0]["LOCATION"] if locations else ""


def _build_lines(db: Sage300Database, details: Any, location: str) -> list[dict[str, Any]]:
    if not isinstance(details, list) or not details:
        raise invalid_payload("OrderDetails is required and must be a non-empty array.")
    return [_build_line(db, _require_object(d, f"OrderDetails[{i}]"), f"OrderDetails[{i}].", location)
            for i, d in enumerate(details)]


def _build_line(db: Sage300Database, detail: dict[str, Any], where: str, location: str) -> dict[str, Any]:
    line_type = detail.get("LineType")
    if line_type == "Item":
        _reject_unknown(detail, ITEM_LINE_PROPS, f"{where[:-1]} (Item line)")
        return _item_line(db, detail, where, location)
    if line_type == "Miscellaneous":
        _reject_unknown(detail, MISC_LINE_PROPS, f"{where[:-1]} (Miscellaneous line)")
        return _misc_line(db, detail, where)
    raise invalid_payload(f"{where}LineType must be Item or Miscellaneous.")


def _item_line(db: Sage300Database, detail: dict[str, Any], where: str, default_location: str) -> dict[str, Any]:
    number = _required_text(detail, "Item", where)
    item = find_item(db, number)
    if item is None:
        raise record_invalid(f"Item {number} does not exist.")
    if item["INACTIVE"]:
        raise record_invalid(f"Item {number} is inactive.")
    location = STR.from_api(where + "Location", detail.get("Location"), 6, 0).strip() or default_location
    if db.get("ICILOC", {"ITEMNO": item["ITEMNO"], "LOCATION": location}) is None:
        raise record_invalid(f"Item {number} does not exist at location {location}.")
    qty = _decimal_field(detail, "QuantityOrdered", 4, where)
    price = _decimal_field(detail, "OrderUnitPrice", 6, where)
    if qty <= 0 or price < 0:
        raise record_invalid(f"{where}QuantityOrdered must be positive and OrderUnitPrice not negative.")
    override = BOOL.from_api(where + "PriceOverride", detail.get("PriceOverride", False), 0, 0)
    desc = STR.from_api(where + "Description", detail.get("Description"), 60, 0) or item["DESC"]
    return {"LINETYPE": 1, "ITEM": item["FMTITEMNO"], "LOCATION": location, "DESC": desc,
            "QTYORDERED": qty, "QTYBACKORD": qty, "QTYCOMMIT": qty, "UNITPRICE": price, "PRICEOVER": override,
            "EXTINVMISC": (qty * price).quantize(Decimal("0.001"), ROUND_HALF_UP), "COMPLETE": 0}


def _misc_line(db: Sage300Database, detail: dict[str, Any], where: str) -> dict[str, Any]:
    code = _required_text(detail, "MiscellaneousChargesCode", where)
    misc = db.get("OEMISC", {"MISCCHARGE": code}) if len(code) <= 6 else None
    if misc is None:
        raise record_invalid(f"Miscellaneous charge {code} does not exist (codes have at most 6 characters).")
    amount = _decimal_field(detail, "ExtendedAmount", 3, where)
    desc = STR.from_api(where + "Description", detail.get("Description"), 60, 0) or misc["DESC"]
    return {"LINETYPE": 2, "MISCCHARGE": code, "DESC": desc, "EXTINVMISC": amount, "COMPLETE": 0}


def find_item(db: Sage300Database, number: str) -> dict[str, Any] | None:
    """ICITEM by formatted number, else by unformatted number (O/E lines take the formatted one)."""
    if len(number) > 24:
        return None
    return db.get("ICITEM", {"FMTITEMNO": number}) or db.get("ICITEM", {"ITEMNO": unformat_item(number)})


# ----- simulator state ------------------------------------------------------------------------------
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
    received_ms: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    commit_lock: threading.Lock = field(default_factory=threading.Lock)   # duplicate-PO check + insert

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


_KEYED = re.compile(r"^(?P<name>[A-Za-z]+)(?:\((?P<key>.*)\))?$", re.S)


def parse_key(resource: Resource, text: str) -> Any:
    """`123`, `'ID'` or `Prop=value` -> key value typed like the key property."""
    match = re.match(r"^\s*(?:(\w+)\s*=\s*)?(.*?)\s*$", text, re.S)
    name, literal = match[1], match[2]
    if name is not None and name != resource.key:
        raise SageError(400, "InvalidEntityKey", f"{name} is not the key of {resource.name}.")
    try:
        tokens = odata.tokenize(literal)
    except odata.ODataError:
        tokens = []
    if len(tokens) != 1 or tokens[0][0] != "lit":
        raise SageError(400, "InvalidEntityKey", f"Invalid key ({text}) for {resource.name}.")
    value = tokens[0][1]
    numeric_key = isinstance(resource.key_prop.conv, IntConv)
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if not (is_int if numeric_key else isinstance(value, str)):
        raise SageError(400, "InvalidEntityKey", f"Invalid key ({text}) for {resource.name}.")
    return value


def context_url(request: Request, sim: SimState, module: str, suffix: str) -> str:
    return f"{str(request.base_url).rstrip('/')}{API_ROOT}/{sim.company}/{module}/$metadata#{suffix}"


def _int_option(params: dict[str, str], name: str) -> int | None:
    if name not in params:
        return None
    value = params[name]
    if not value.isdigit():
        raise SageError(400, "InvalidParameters", f"{name} must be a non-negative integer.")
    return int(value)


def _want_count(params: dict[str, str]) -> bool:
    count = params.get("$count", "false").lower()
    inline = params.get("$inlinecount", "none").lower()
    if count not in ("true", "false") or inline not in ("allpages", "none"):
        raise SageError(400, "InvalidParameters", "$count must be true/false, $inlinecount allpages/none.")
    return count == "true" or inline == "allpages"


KNOWN_OPTIONS = {"$filter", "$top", "$skip", "$count", "$inlinecount", "$select", "$format"}


def _select(params: dict[str, str], resource: Resource) -> list[str] | None:
    if "$select" not in params:
        return None
    allowed = set(resource.filter_props) | ({"OrderDetails"} if isinstance(resource, OrdersResource) else set())
    names = [n.strip() for n in params["$select"].split(",") if n.strip()]
    for name in names:
        if name not in allowed:
            raise SageError(400, "InvalidParameters", f"Unknown property {name} in $select.")
    return names


def _project(entry: dict[str, Any], names: list[str] | None) -> dict[str, Any]:
    return entry if names is None else {k: v for k, v in entry.items() if k in names}


def get_feed(sim: SimState, request: Request, resource: Resource) -> Response:
    """GET Resource: $filter, then $skip/$top, server paging at page_size with odata.nextLink."""
    params = dict(request.query_params)
    for name in params:
        if name.startswith("$") and name not in KNOWN_OPTIONS:
            raise SageError(400, "InvalidParameters", f"Query option {name} is not supported.")
    skip, top = _int_option(params, "$skip") or 0, _int_option(params, "$top")
    want_count, select = _want_count(params), _select(params, resource)
    entries = _filtered(sim, resource, params.get("$filter"))
    limit = sim.page_size if top is None else min(top, sim.page_size)
    page = entries[skip:skip + limit]
    body: dict[str, Any] = {"odata.context": context_url(request, sim, resource.module, resource.name)}
    if want_count:
        body["odata.count"] = str(len(entries))
    body["value"] = [_project(e, select) for e in resource.expand(sim.db, page)]
    remaining = len(entries) - skip - len(page)
    if top is not None:
        remaining = min(remaining, top - len(page))
    if remaining > 0 and page:
        changes: dict[str, Any] = {"$skip": skip + len(page)}
        if top is not None:
            changes["$top"] = top - len(page)
        body["odata.nextLink"] = str(request.url.include_query_params(**changes))
    return SageJSON(body)


def _filtered(sim: SimState, resource: Resource, text: str | None) -> list[dict[str, Any]]:
    if text is None:
        return resource.load(sim.db, None)
    try:
        node = odata.parse_filter(text, resource.filter_props)
        where = resource.sql_prefilter(odata.equality_terms(node))
        try:
            candidates = resource.load(sim.db, where or None)
        except RowError:  # a literal longer than its column can match nothing
            return []
        return [e for e in candidates if odata.evaluate(node, e) is True]
    except odata.ODataError as e:
        raise SageError(400, "InvalidParameters", f"Invalid $filter: {e}") from None


def get_one(sim: SimState, request: Request, resource: Resource, key_text: str) -> Response:
    key = parse_key(resource, key_text)
    entry = _load_by_key(sim, resource, key)
    if entry is None:
        raise SageError(404, "RecordNotFound", f"{resource.name}({key_text}) was not found.")
    context = context_url(request, sim, resource.module, f"{resource.name}/$entity")
    return SageJSON({"odata.context": context, **entry})


def _load_by_key(sim: SimState, resource: Resource, key: Any) -> dict[str, Any] | None:
    try:
        found = resource.load(sim.db, {resource.key_prop.col: key})
    except RowError:
        return None
    return resource.expand(sim.db, found)[0] if found else None


def post_order(sim: SimState, request: Request, resource: Resource, payload: Any, received_ms: int) -> Response:
    """Insert one order (no dedup: every POST makes a new order) and return the whole entry."""
    with sim.lock:
        sim.order_posts += 1
    header, header1, details = build_order(sim.db, payload)
    late = sim.injector.commit_delay(request.method)
    if late:
        time.sleep(late)        # a worker thread: the client may time out, the commit still happens
    with sim.commit_lock:
        check_duplicate_po(sim.db, header)
        orduniq = sim.db.create_order(header, header1, details, user=sim.user)
    with sim.lock:
        sim.received_ms[orduniq] = received_ms
    return _created(sim, request, resource, orduniq, str(orduniq))


def post_customer(sim: SimState, request: Request, resource: Resource, payload: Any) -> Response:
    """Insert one customer; an existing CustomerNumber is 409 RecordDuplicate."""
    payload = _require_object(payload, "The request body")
    _reject_unknown(payload, resource.writable, "ARCustomers")
    number = _required_text(payload, "CustomerNumber", "")
    row = {"SWACTV": 1, "SWHOLD": 0, "CODECURN": "USD", **resource.row_from_payload(payload)}
    row["IDCUST"], row["DATELASTMN"] = number, utc_stamp()[0]
    with sim.db.transaction() as cur:
        if sim.db.get("ARCUS", {"IDCUST": number}, cur) is not None:
            raise SageError(409, "RecordDuplicate", f"Customer {number} already exists.")
        sim.db.insert(cur, "ARCUS", row, user=sim.user)
    return _created(sim, request, resource, number, f"'{number}'")


def update_customer(sim: SimState, number: str, payload: Any) -> dict[str, Any]:
    """Admin: change writable ARCustomers properties of one customer."""
    resource = sim.resources[("AR", "ARCUSTOMERS")]
    payload = _require_object(payload, "The request body")
    _reject_unknown(payload, resource.writable - {"CustomerNumber"}, "ARCustomers")
    changes = resource.row_from_payload(payload)
    with sim.db.transaction() as cur:
        if sim.db.get("ARCUS", {"IDCUST": number}, cur) is None:
            raise SageError(404, "RecordNotFound", f"ARCustomers('{number}') was not found.")
        sim.db.update(cur, "ARCUS", {"IDCUST": number}, changes, user=sim.user)
    return _load_by_key(sim, resource, number)


def _created(sim: SimState, request: Request, resource: Resource, key: Any, key_text: str) -> Response:
    entry = _load_by_key(sim, resource, key)
    base = f"{str(request.base_url).rstrip('/')}{API_ROOT}/{sim.company}/{resource.module}"
    location = f"{base}/{resource.name}({key_text})"
    context = context_url(request, sim, resource.module, f"{resource.name}/$entity")
    return SageJSON({"odata.context": context, **entry}, status_code=201, headers={"Location": location})


def dispatch(sim: SimState, request: Request, module: str, resource_text: str, body: bytes,
             received_ms: int) -> Response:
    """Route one authenticated API request to its resource handler."""
    match = _KEYED.match(resource_text)
    resource = sim.resources.get((module.upper(), match["name"].upper())) if match else None
    if resource is None:
        raise SageError(404, "ResourceNotFound", f"Resource {module}/{resource_text} was not found.")
    key_text = match["key"]
    if request.method == "GET":
        return get_one(sim, request, resource, key_text) if key_text is not None else get_feed(sim, request, resource)
    if request.method == "POST" and key_text is None and resource.name == "OEOrders":
        return post_order(sim, request, resource, _parse_json(body), received_ms)
    if request.method == "POST" and key_text is None and resource.name == "ARCustomers":
        return post_customer(sim, request, resource, _parse_json(body))
    raise SageError(405, "MethodNotAllowed", f"{request.method} is not allowed on {resource.name}.")


def _parse_json(body: bytes) -> Any:
    try:
        return json.loads(body or b"null", parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as e:
        raise invalid_payload(f"The request body is not valid JSON: {e}") from None


# ----- admin ----------------------------------------------------------------------------------------
def all_orders(sim: SimState) -> list[dict[str, Any]]:
    """Every order as a Web API entry (with details) plus `received_at_ms`."""
    resource = sim.resources[("OE", "OEORDERS")]
    rows = sim.db.order_rows()
    lines: dict[Decimal, list[dict]] = {}
    for line in sim.db.select("OEORDD"):
        lines.setdefault(line["ORDUNIQ"], []).append({p.api: p.conv.to_api(line[p.col]) for p in LINE_PROPS})
    out = []
    for h, h1 in rows:
        entry = resource.entry({"OEORDH": h, "OEORDH1": h1})
        entry["OrderDetails"] = lines.get(h["ORDUNIQ"], [])
        entry["received_at_ms"] = sim.received_ms.get(int(h["ORDUNIQ"])) or audit_ms(h)
        out.append(entry)
    return out


def stats(sim: SimState) -> dict[str, Any]:
    with sim.lock:
        requests = [{"method": m, "resource": r, "status": s, "count": n}
                    for (m, r, s), n in sorted(sim.requests.items())]
        posts = sim.order_posts
    return {"requests": requests, "order_posts": posts, "orders": len(sim.db.select("OEORDH")),
            "faults_injected": sim.injector.snapshot()["injected"]}


def reset(sim: SimState) -> dict[str, Any]:
    cleared = sim.db.clear_orders()
    with sim.lock:
        sim.requests.clear()
        sim.order_posts = 0
        sim.received_ms.clear()
    return {"cleared_orders": cleared}


def install_sim_routes(app: FastAPI, sim: SimState) -> None:
    """`/_sim/orders`, `/_sim/stats`, `/_sim/reset` (no auth, never faulted)."""

    @app.get("/_sim/orders")
    async def sim_orders():
        return SageJSON(await run_in_threadpool(all_orders, sim))

    @app.get("/_sim/stats")
    async def sim_stats():
        return SageJSON(await run_in_threadpool(stats, sim))

    @app.post("/_sim/reset")
    async def sim_reset():
        return SageJSON(await run_in_threadpool(reset, sim))

    @app.post("/_sim/customers/{number}")
    async def sim_customer(number: str, request: Request):
        try:
            return SageJSON(await run_in_threadpool(update_customer, sim, number, _parse_json(await request.body())))
        except SageError as err:
            return error_response(err)


_STATS_PATH = re.compile(r"^/Sage300WebApi/v1\.0/-/[^/]+/([^/]+)/([A-Za-z$]+)")


class StatsMiddleware:
    """Counts API requests by (method, Module/Resource, status), faults included."""

    def __init__(self, app, sim: SimState) -> None:
        self.app, self.sim = app, sim

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith("/_sim/"):
            return await self.app(scope, receive, send)
        match = _STATS_PATH.match(scope["path"])
        label = f"{match[1]}/{match[2]}" if match else scope["path"]

        async def counting_send(message):
            if message["type"] == "http.response.start":
                self.sim.count_request(scope["method"], label, message["status"])
            await send(message)

        return await self.app(scope, receive, counting_send)


def create_app(db: Sage300Database, company: str = "SAMINC", user: str = "WEBAPI", password: str = "SAGE300",
               injector: FaultInjector | None = None, page_size: int = 100) -> FastAPI:
    """The simulator app. Creates the schema if missing (seeding is the caller's choice) and stamps
    AUDTORG with `company` and AUDTUSER with `user` on every row the API writes."""
    db.org = company.upper()
    db.create_schema()
    injector = injector or FaultInjector()
    sim = SimState(db, company.upper(), user, password, page_size, injector)
    app = FastAPI(title="Sage 300 Web API simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sim = sim
    install_admin_routes(app, injector)
    install_sim_routes(app, sim)

    @app.api_route(API_ROOT + "/{company}/{module}/{resource:path}", methods=ALL_METHODS)
    async def api(request: Request, company: str, module: str, resource: str):
        received_ms = int(time.time() * 1000)
        stop = check_request(sim, request, company)
        if stop is not None:
            return stop
        body = await request.body()
        try:
            return await run_in_threadpool(dispatch, sim, request, module, resource, body, received_ms)
        except SageError as err:
            return error_response(err)
        except Exception:  # noqa: BLE001 - the real server answers 500 with its error body
            log.exception("Sage 300 simulator failure")
            return error_response(SageError(500, "InternalServerError", "An internal error occurred."))

    @app.api_route("/Sage300WebApi/{rest:path}", methods=ALL_METHODS)
    async def unknown(request: Request, rest: str):
        stop = check_request(sim, request, None)
        return stop or error_response(SageError(404, "ResourceNotFound", f"/Sage300WebApi/{rest} was not found."))

    app.add_middleware(FaultMiddleware, injector=injector, error_body=fault_body)
    app.add_middleware(StatsMiddleware, sim=sim)
    return app
