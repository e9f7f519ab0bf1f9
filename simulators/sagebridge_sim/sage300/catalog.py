"""The resources the simulator serves, keyed by (MODULE, RESOURCE) in upper case.

Endpoints and their views/tables from the Sage 300 Web API Endpoint Reference (Aug 2022): IC/ICItems
(IC0310 ICITEM), IC/ICLocations (ICLOC), OE/OEShipViaCodes (OEVIA), OE/OEMiscellaneousCharges (OEMISC),
OE/OEOrders (OE0520 OEORDH), AR/ARCustomers (AR0024 ARCUS), AR/ARReceiptAndAdjustmentBatches (AR0041
ARBTA), GL/GLJournalBatches (GL0008 GLBCTL), CS/CSCurrencyCodes (CSCCD).
"""
from __future__ import annotations

from .ar_batches import build_batches_resource
from .ar_customers import CUSTOMER_PROPS
from .conversions import BOOL, DATE, DEC, INT, EnumConv
from .gl_journals import build_journals_resource
from .oe_orders import ORDER_PROPS, OrdersResource
from .resources import Prop, Resource

ITEM_PROPS = [
    Prop("UnformattedItemNumber", "ITEMNO"), Prop("ItemNumber", "FMTITEMNO"), Prop("Description", "DESC"),
    Prop("Status", "INACTIVE", EnumConv({0: "Active", 1: "Inactive"})), Prop("StockItem", "STOCKITEM", BOOL),
    Prop("StockingUnitOfMeasure", "STOCKUNIT"), Prop("DefaultPriceListCode", "DEFPRICLST"),
    Prop("UnitWeight", "UNITWGT", DEC), Prop("Category", "CATEGORY"), Prop("AllowOnWeb", "ALLOWONWEB", BOOL),
    Prop("DateLastMaintained", "DATELASTMN", DATE),
]

CURRENCY_PROPS = [Prop("CurrencyCode", "CURID"), Prop("Description", "CURNAME"), Prop("Symbol", "SYMBOL"),
                  Prop("DecimalPlaces", "DECIMALS", INT)]


def build_resources() -> dict[tuple[str, str], Resource]:
    resources = [
        OrdersResource("OE", "OEOrders", "OEORDH", ORDER_PROPS, "OrderUniquifier",
                       expansions=frozenset({"OrderDetails"})),
        Resource("AR", "ARCustomers", "ARCUS", CUSTOMER_PROPS, "CustomerNumber",
                 {p.api for p in CUSTOMER_PROPS} - {"DateLastMaintained"}),
        Resource("IC", "ICItems", "ICITEM", ITEM_PROPS, "UnformattedItemNumber"),
        Resource("IC", "ICLocations", "ICLOC", [Prop("Location", "LOCATION"), Prop("Description", "DESC")], "Location"),
        Resource("OE", "OEShipViaCodes", "OEVIA", [Prop("Code", "CODE"), Prop("Name", "NAME")], "Code"),
        Resource("OE", "OEMiscellaneousCharges", "OEMISC",
                 [Prop("MiscellaneousChargesCode", "MISCCHARGE"), Prop("Description", "DESC")],
                 "MiscellaneousChargesCode"),
        Resource("CS", "CSCurrencyCodes", "CSCCD", CURRENCY_PROPS, "CurrencyCode"),
        build_batches_resource(),
        build_journals_resource(),
    ]
    return {(r.module.upper(), r.name.upper()): r for r in resources}
