"""The raw XML documents the Store Web Service puts inside `<opResult>` (xmlns=""), rendered the way
the recorded responses show them (shift4shop.md §4; Menes1337 mocks `getOrders`, `getCustomers`,
`getProduct`, `updateOrderStatus`, `updateProductInventory`, `getOrderCount` response.xml):

- dates store-local with no offset: `Date` "6/22/2009", `Time` "12:08:56 AM", `LastUpdate` and
  `DateStarted` "4/12/2014 5:06:55 AM" (m/d/yyyy h:mm:ss AM/PM, no leading zeros);
- amounts with two decimals and thousands separators from 1,000 on ("1,500.00": §4 "Amounts may carry
  thousands separators");
- repeated children (Transaction, Promotion, Shipment, Item, Question) even when there is one, and
  an empty container element (`<Transaction/>`, `<Promotions/>`) when there is none.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from lxml import etree

from .store import Customer, Order, Product, ThreeDCartStore


def money(value: Decimal) -> str:
    return f"{Decimal(value).quantize(Decimal('0.01')):,}"


def local(value: datetime, zone: ZoneInfo) -> datetime:
    return value.astimezone(zone).replace(tzinfo=None)


def date_text(value: datetime, zone: ZoneInfo) -> str:
    v = local(value, zone)
    return f"{v.month}/{v.day}/{v.year}"


def time_text(value: datetime, zone: ZoneInfo) -> str:
    v = local(value, zone)
    hour = v.hour % 12 or 12
    return f"{hour}:{v.minute:02d}:{v.second:02d} {'AM' if v.hour < 12 else 'PM'}"


def stamp_text(value: datetime, zone: ZoneInfo) -> str:
    return f"{date_text(value, zone)} {time_text(value, zone)}"


def _leaf(parent: etree._Element, tag: str, text: object = "") -> etree._Element:
    el = etree.SubElement(parent, tag)
    if text not in ("", None):
        el.text = str(text)
    return el


def document(root: str, **leaves: object) -> etree._Element:
    el = etree.Element(root)
    for tag, text in leaves.items():
        _leaf(el, tag, text)
    return el


def error_document(code: int, description: str) -> etree._Element:
    """`<Error><Id>17</Id><Description>Login Error</Description></Error>` (§4)."""
    return document("Error", Id=code, Description=description)


def order_element(store: ThreeDCartStore, o: Order, zone: ZoneInfo) -> etree._Element:
    el = etree.Element("Order")
    for tag, text in (("OrderID", o.order_id), ("InvoiceNumber", store.invoice_of(o)),
                      ("CustomerID", o.customer_id), ("Date", date_text(o.created_at, zone)),
                      ("Total", money(o.total)), ("Tax", money(o.tax)), ("Tax2", money(o.tax2)),
                      ("Tax3", money(o.tax3)), ("Shipping", money(sum((s.cost for s in o.shipments), Decimal(0))))):
        _leaf(el, tag, text)
    bill = etree.SubElement(el, "BillingAddress")
    for tag, text in (("FirstName", o.first_name), ("LastName", o.last_name), ("Email", o.email),
                      ("Address", "123 Street"), ("Address2", ""), ("City", "Coral Springs"), ("ZipCode", "33065"),
                      ("StateCode", "FL"), ("CountryCode", "US"), ("Phone", "800-828-6650"), ("Company", "")):
        _leaf(bill, tag, text)
    comments = etree.SubElement(el, "Comments")
    for tag in ("OrderComment", "OrderInternalComment", "OrderExternalComment"):
        _leaf(comments, tag)
    _leaf(el, "PaymentMethod", o.payment_method)
    _leaf(el, "CardType")
    _leaf(el, "Time", time_text(o.created_at, zone))
    for t in o.transactions:
        tx = etree.SubElement(el, "Transaction")
        for tag in ("CVV2", "ResponseText", "AVS"):
            _leaf(tx, tag)
        _leaf(tx, "TransactionId", t["TransactionId"])
        _leaf(tx, "ApprovalCode")
        _leaf(tx, "TransactionType", t["TransactionType"])
        _leaf(tx, "Amount", money(t["Amount"]))
    if not o.transactions:
        _leaf(el, "Transaction")
    _leaf(el, "Discount", money(o.discount))
    _leaf(el, "Promotions")
    _leaf(el, "GiftCertificatePurchased")
    _leaf(el, "GiftCertificateUsed")
    _leaf(el, "OrderStatus", store.statuses[o.status_id])
    for tag, text in (("Referer", ""), ("SalesPerson", ""), ("IP", ""),
                      ("DateStarted", stamp_text(o.created_at, zone)), ("UserID", "API"),
                      ("LastUpdate", stamp_text(o.last_update, zone)), ("Weight", "1.00")):
        _leaf(el, tag, text)
    _shipping(el, o, zone)
    _leaf(el, "CheckoutQuestions")
    return el


def _shipping(parent: etree._Element, o: Order, zone: ZoneInfo) -> None:
    info = etree.SubElement(parent, "ShippingInformation")
    for s in o.shipments:
        sh = etree.SubElement(info, "Shipment")
        for tag, text in (("ShipmentID", s.shipment_id), ("ShipmentDate", date_text(s.date, zone) if s.date else ""),
                          ("Shipping", money(s.cost)), ("Method", s.method), ("FirstName", o.first_name),
                          ("LastName", o.last_name), ("Company", ""), ("Address", "123 Street"), ("Address2", ""),
                          ("City", "Coral Springs"), ("ZipCode", "33065"), ("StateCode", "FL"), ("CountryCode", "US"),
                          ("Phone", ""), ("Weight", "1.00"), ("Status", ""), ("InternalComment", ""),
                          ("TrackingCode", s.tracking)):
            _leaf(sh, tag, text)
    items = etree.SubElement(info, "OrderItems")
    first = o.shipments[0].shipment_id
    for i in o.items:
        it = etree.SubElement(items, "Item")
        for tag, text in (("ShipmentID", first), ("ProductID", i.sku), ("ProductName", i.name),
                          ("Quantity", _qty(i.quantity)), ("UnitPrice", money(i.unit_price)),
                          ("UnitCost", money(i.unit_cost)), ("OptionPrice", money(i.option_price)),
                          ("Weight", "1.00"), ("Dimension", ""), ("WarehouseID", "0"),
                          ("DateAdded", stamp_text(o.created_at, zone)), ("PageAdded", ""), ("ProdType", "Tangible"),
                          ("Taxable", "0"), ("ItemPrice", money(i.unit_price + i.option_price)),
                          ("Total", money((i.unit_price + i.option_price) * i.quantity))):
            _leaf(it, tag, text)


def _qty(q: Decimal) -> str:
    return str(int(q)) if q == q.to_integral_value() else str(q)


def customer_element(c: Customer, zone: ZoneInfo) -> etree._Element:
    el = etree.Element("Customer")
    _leaf(el, "CustomerID", c.customer_id)
    _leaf(el, "UserID", "Administrator")
    for block in ("BillingAddress", "ShippingAddress"):
        addr = etree.SubElement(el, block)
        for tag, text in (("FirstName", c.first_name), ("LastName", c.last_name), ("Address", "123 Street"),
                          ("Address2", ""), ("City", c.city), ("StateCode", c.state_code), ("ZipCode", "33065"),
                          ("CountryCode", c.country_code), ("Company", ""), ("Phone", c.phone)):
            _leaf(addr, tag, text)
        if block == "BillingAddress":
            _leaf(addr, "Email", c.email)
    for tag, text in (("Comments", ""), ("LastLoginDate", ""), ("WebSite", ""), ("DiscountGroup", ""),
                      ("AccountNumber", ""), ("MailList", "0"), ("CustomerType", "0"),
                      ("LastUpdate", stamp_text(c.last_update, zone)), ("CustEnabled", "1")):
        _leaf(el, tag, text)
    return el


def product_element(p: Product, zone: ZoneInfo) -> etree._Element:
    el = etree.Element("Product")
    for tag, text in (("CatalogID", p.catalog_id), ("ProductID", p.sku), ("ProductName", p.name),
                      ("Categories", ""), ("Mfgid", ""), ("Manufacturer", ""), ("Distributor", ""),
                      ("Cost", "0.00"), ("Price", money(p.price)), ("RetailPrice", "0"), ("SalePrice", "0.00"),
                      ("OnSale", "0"), ("Stock", p.stock), ("StockAlert", "0"), ("Weight", "1.00"),
                      ("DateCreated", date_text(p.last_update, zone)), ("Description", p.name), ("Hide", "0"),
                      ("NotForsale", "0"), ("LastUpdate", stamp_text(p.last_update, zone))):
        _leaf(el, tag, text)
    return el
