"""OE/OEOrders (view OE0520 over OEORDH + OEORDH1, details OE0500 OEORDD): properties and entries.

Property -> column names follow the SDK customization sample (Sample_Customization_DataAccess
Order.cs / OrderRepository.cs); names seen only in third-party clients (OrderSourceCurrency,
OrderRateType, OrderTotal, PriceOverride, ...) are marked [L] in the reference and used as-is.
Line numbers step by 32 (the SDK OEOrders_WithOptFields sample's detail LineNumber 32).
"""
from __future__ import annotations

from typing import Any

from .conversions import BOOL, DATE, DEC, INT, STR, EnumConv
from .db import Sage300Database
from .resources import Prop, Resource

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
    Prop("BillToCountry", "BILCOUNTRY"), Prop("BillToAddressLine3", "BILADDR3"), Prop("BillToAddressLine4", "BILADDR4"),
    Prop("BillToPhoneNumber", "BILPHONE"), Prop("BillToContact", "BILCONTACT"), Prop("BillToEmail", "BILEMAIL"),
    Prop("ShipToLocationCode", "SHIPTO"),
    Prop("ShipToName", "SHPNAME"), Prop("ShipToAddressLine1", "SHPADDR1"), Prop("ShipToAddressLine2", "SHPADDR2"),
    Prop("ShipToCity", "SHPCITY"), Prop("ShipToStateProvince", "SHPSTATE"), Prop("ShipToZipPostalCode", "SHPZIP"),
    Prop("ShipToCountry", "SHPCOUNTRY"), Prop("ShipToPhoneNumber", "SHPPHONE"),
    Prop("ShipToAddressLine3", "SHPADDR3"), Prop("ShipToAddressLine4", "SHPADDR4"), Prop("ShipToContact", "SHPCONTACT"),
    Prop("ShipToEmail", "SHPEMAIL", STR, "OEORDH1"),
    Prop("OrderSourceCurrency", "ORSOURCURR"), Prop("OrderHomeCurrency", "ORHOMECURR"),
    Prop("OrderRateType", "ORRATETYPE"), Prop("OrderDiscountAmount", "INVDISCAMT", DEC),
    Prop("TaxOverride", "TAXOVERRD", BOOL), Prop("TaxAmount1", "TAMOUNT1", DEC),
    Prop("ItemTotal", "ITEMTOTAL", DEC), Prop("MiscellaneousChargesTotal", "MISCTOTAL", DEC),
    Prop("OrderTotal", "INVNETWTX", DEC),
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
                "ShipToEmail", "OrderDiscountAmount", "TaxAmount1",
                "BillToAddressLine3", "BillToAddressLine4", "BillToPhoneNumber", "BillToContact", "BillToEmail",
                "ShipToAddressLine3", "ShipToAddressLine4", "ShipToContact"}
ORDER_POST_PROPS = ORDER_SIMPLE | {"CustomerNumber", "OrderDate", "ShipViaCode", "DefaultLocationCode",
                                   "OrderSourceCurrency", "OrderRateType", "TaxOverride", "OrderDetails"}
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
                    "BILSTATE": "CODESTTE", "BILZIP": "CODEPSTL", "BILCOUNTRY": "CODECTRY",
                    "BILADDR3": "TEXTSTRE3", "BILADDR4": "TEXTSTRE4", "BILPHONE": "TEXTPHON1",
                    "BILCONTACT": "NAMECTAC", "BILEMAIL": "EMAIL2"}
SHIP_FROM_BILL = {"SHPNAME": "BILNAME", "SHPADDR1": "BILADDR1", "SHPADDR2": "BILADDR2", "SHPCITY": "BILCITY",
                  "SHPSTATE": "BILSTATE", "SHPZIP": "BILZIP", "SHPCOUNTRY": "BILCOUNTRY",
                  "SHPADDR3": "BILADDR3", "SHPADDR4": "BILADDR4", "SHPCONTACT": "BILCONTACT"}


class OrdersResource(Resource):
    """OEORDH + OEORDH1 (1:1) with OEORDD details attached only to the entries actually returned."""

    def load(self, db: Sage300Database, where: dict[str, Any] | None) -> list[dict[str, Any]]:
        return [self.entry({"OEORDH": h, "OEORDH1": h1}) for h, h1 in db.order_rows(where)]

    def expand(self, db: Sage300Database, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for entry in entries:
            lines = db.order_lines(entry["OrderUniquifier"])
            entry["OrderDetails"] = [line_entry(line) for line in lines]
        return entries

    def entry(self, rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
        if not rows.get("OEORDH1"):
            rows = {**rows, "OEORDH1": {"SHPEMAIL": ""}}
        return super().entry(rows)




def line_entry(line: dict[str, Any]) -> dict[str, Any]:
    """One OEORDD row as an OrderDetails entry."""
    return {p.api: p.conv.to_api(line[p.col]) for p in LINE_PROPS}
