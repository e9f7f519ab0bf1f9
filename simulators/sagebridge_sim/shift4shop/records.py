"""Product and Customer records and their write models (shift4shop.md §2.2, §2.3).

Product: `SKUInfo` {CatalogID, SKU, Name, Cost, Price, Currency, RetailPrice, SalePrice, OnSale, Stock}
plus the recorded top-level fields; `AdvancedOptionList` holds the variants, whose
`AdvancedOptionSufix` (sic) is the full variant SKU an order line's `ItemID` carries (§2.2, M).
`AdvancedOptionStock` is an integer (the public clients type it `int`, [S6]; a fraction is a 400)
while `SKUInfo.Stock` is a decimal (§2.2).
Stock, of a product or a variant, may be negative (§2.2 "Stock ... can be negative in recorded data").

Customer: §2.3 fields; the customer record uses `BillingAddress1` where orders use `BillingAddress`.
`Email` (≤100) is required and `Password` too on create (§2.3). Whether the real API exposes a
`LastUpdate` on customers is not in §2.3: the simulator tracks one internally (the `lastupdatestart`
filter of §1.3 needs it) and returns it as `LastUpdate` — an assumption, flagged in `render_customer`.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from .values import BOOL, DEC, INT, STR, Coercer

ZERO = Decimal("0.00")

SKUINFO_WRITABLE: dict[str, Coercer] = {
    "SKU": STR, "Name": STR, "Cost": DEC, "Price": DEC, "RetailPrice": DEC, "SalePrice": DEC, "OnSale": BOOL,
    "Stock": DEC,
}
PRODUCT_WRITABLE: dict[str, Coercer] = {
    "MFGID": STR, "ShortDescription": STR, "ManufacturerID": INT, "GTIN": STR, "NonTaxable": BOOL,
    "NotForSale": BOOL, "Hide": BOOL, "GiftCertificate": BOOL, "HomeSpecial": BOOL, "CategorySpecial": BOOL,
    "NonSearchable": BOOL, "GiftWrapItem": BOOL, "ShipCost": DEC, "Weight": DEC, "Height": DEC, "Width": DEC,
    "Depth": DEC, "SelfShip": BOOL, "FreeShipping": BOOL, "RewardPoints": INT, "StockAlert": DEC,
    "ReorderQuantity": DEC, "InStockMessage": STR, "OutOfStockMessage": STR, "BackOrderMessage": STR,
    "WarehouseLocation": STR, "WarehouseBin": STR, "WarehouseAisle": STR, "WarehouseCustom": STR,
    "Description": STR, "Keywords": STR, "MainImageFile": STR, "ThumbnailFile": STR, "TaxCode": STR,
    "MinimumQuantity": DEC, "MaximumQuantity": DEC, "Title": STR,
    **{f"ExtraField{n}": STR for n in range(1, 14)},
}
ADVANCED_OPTION_WRITABLE: dict[str, Coercer] = {
    "AdvancedOptionSufix": STR, "AdvancedOptionName": STR, "AdvancedOptionCost": DEC, "AdvancedOptionStock": INT,
    "AdvancedOptionWeight": DEC, "AdvancedOptionPrice": DEC, "AdvancedOptionGTIN": STR,
}
_CUSTOMER_ADDRESS = ("Company", "FirstName", "LastName", "Address1", "Address2", "City", "State", "ZipCode",
                     "Country", "PhoneNumber")
CUSTOMER_WRITABLE: dict[str, Coercer] = {
    "Email": STR, "Password": STR, "BillingTaxID": STR, "ShippingAddressType": INT, "CustomerGroupID": INT,
    "Enabled": BOOL, "MailList": BOOL, "NonTaxable": BOOL, "DisableBillingSameAsShipping": BOOL, "Comments": STR,
    "AdditionalField1": STR, "AdditionalField2": STR, "AdditionalField3": STR,
    **{f"Billing{n}": STR for n in _CUSTOMER_ADDRESS}, **{f"Shipping{n}": STR for n in _CUSTOMER_ADDRESS},
}
EMAIL_MAX = 100


def new_product(catalog_id: int, now: float, spec: dict[str, Any]) -> dict[str, Any]:
    """`spec`: sku, name, price, cost, stock, retail_price, sale_price, on_sale, hide, description,
    weight, categories [{id, name}], options [{code, sku, name, stock, price, cost}]."""
    p: dict[str, Any] = {
        "SKUInfo": {"CatalogID": catalog_id, "SKU": spec["sku"], "Name": spec.get("name") or spec["sku"],
                    "Cost": Decimal(spec.get("cost", ZERO)), "Price": Decimal(spec.get("price", ZERO)),
                    "Currency": "USD", "RetailPrice": Decimal(spec.get("retail_price", ZERO)),
                    "SalePrice": Decimal(spec.get("sale_price", ZERO)), "OnSale": bool(spec.get("on_sale", False)),
                    "Stock": Decimal(spec.get("stock", 0))},
        "MFGID": "", "ShortDescription": "", "ManufacturerID": 0, "DistributorList": [], "LastUpdate": now,
        "UserID": "", "GTIN": "", "CategoryList": [{"CategoryID": c.get("id", 1), "CategoryName": c.get("name", "")}
                                                 for c in spec.get("categories", [])],
        "NonTaxable": False, "NotForSale": False, "Hide": bool(spec.get("hide", False)), "GiftCertificate": False,
        "HomeSpecial": False, "CategorySpecial": False, "NonSearchable": False, "GiftWrapItem": False,
        "ShipCost": ZERO, "Weight": Decimal(spec.get("weight", ZERO)), "Height": ZERO, "Width": ZERO, "Depth": ZERO,
        "SelfShip": False, "FreeShipping": False, "RewardPoints": 0, "StockAlert": ZERO, "ReorderQuantity": ZERO,
        "InStockMessage": "", "OutOfStockMessage": "", "BackOrderMessage": "", "WarehouseLocation": "",
        "WarehouseBin": "", "WarehouseAisle": "", "WarehouseCustom": "", "Description": spec.get("description", ""),
        "Keywords": "", **{f"ExtraField{n}": "" for n in range(1, 14)}, "MainImageFile": "", "ThumbnailFile": "",
        "ImageGalleryList": [], "OptionSetList": [], "AdvancedOptionList": [], "RelatedProductList": [],
        "UpSellingItemList": [], "DiscountList": [], "DateCreated": now, "TaxCode": "", "MinimumQuantity": ZERO,
        "MaximumQuantity": ZERO, **{f"PriceLevel{n}": ZERO for n in range(1, 11)},
        **{f"PriceLevel{n}Hide": False for n in range(1, 11)}, "ProductLink": f"/p/{catalog_id}", "Title": "",
    }
    p["AdvancedOptionList"] = [new_option(o) for o in spec.get("options", [])]
    return p


def new_option(o: dict[str, Any]) -> dict[str, Any]:
    return {"AdvancedOptionCode": str(o["code"]), "AdvancedOptionSufix": o["sku"],
            "AdvancedOptionName": o.get("name", ""), "AdvancedOptionCost": Decimal(o.get("cost", ZERO)),
            "AdvancedOptionStock": Decimal(o.get("stock", 0)), "AdvancedOptionWeight": Decimal(o.get("weight", ZERO)),
            "AdvancedOptionPrice": Decimal(o.get("price", ZERO)), "AdvancedOptionGTIN": o.get("gtin", "")}


def new_customer(customer_id: int, now: float, fields: dict[str, Any]) -> dict[str, Any]:
    """Defaults for every §2.3 field, then the (already coerced) `fields`."""
    c: dict[str, Any] = {"CustomerID": customer_id, "Email": "", "Password": ""}
    for side in ("Billing", "Shipping"):
        for n in _CUSTOMER_ADDRESS:
            c[f"{side}{n}"] = "US" if n == "Country" else ""
        if side == "Billing":
            c["BillingTaxID"] = ""
    c.update({"ShippingAddressType": 0, "CustomerGroupID": 0, "Enabled": True, "MailList": False,
              "NonTaxable": False, "DisableBillingSameAsShipping": False, "Comments": "",
              "AdditionalField1": "", "AdditionalField2": "", "AdditionalField3": "", "TotalStoreCredit": ZERO,
              "LastUpdate": now})
    c.update(fields)
    return c


def render_customer(record: dict[str, Any]) -> dict[str, Any]:
    """The customer as GET /Customers returns it: never the password (the real API's GET shape
    has a `Password` member; the simulator sends it empty rather than echo a secret)."""
    out = dict(record)
    out["Password"] = ""
    return out
