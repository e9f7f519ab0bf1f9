"""The Store Web Service operations the hub calls, with the service's own validation and error codes
(shift4shop.md §4 "Error codes"): 1 userKey node missing, 3-8 ProductID / Quantity / BatchSize /
StartNum / InvoiceNum / NewStatus node missing, 16 bad IP, 17 bad key ("Login Error"), 18 API not
enabled, 31-43 invalid data (31 product id, 32 quantity, 33 batch, 34 start number, 35 invoice,
36 date, 37 date range, 38 startFrom, 39 status, 43 data), 46 product / 47 customer / 49 order not found.

Choices where the reference is silent (confidence M: consistent with the codes, not recorded):
- An empty listing answers the entity's not-found code (getOrder 49, getCustomer 47, getProduct 46)
  rather than an empty root: the codes exist for "no match" and the REST API does the same with 404.
- `invoiceNum` is the full invoice string the order XML shows ("AB-1000", prefix included), see
  `ThreeDCartStore.parse_invoice`; `getOrder(startFrom=true)` lists invoices >= that number.
- A missing `storeUrl` or one naming another store is the same "Login Error" (17) as a wrong key.
- `replaceStock` missing or false ADDS `quantity` to the stock (§4 "replace vs increment"; .NET
  reads an absent boolean as false); only true replaces it.
- `batchSize` 1..100 (§4), `startNum` >= 1, both required (codes 5/6 when absent).
"""
from __future__ import annotations

from datetime import datetime, time as dtime
from typing import Callable
from zoneinfo import ZoneInfo

from lxml import etree

from .documents import customer_element, document, order_element, product_element
from .store import Order, StoreError, ThreeDCartStore

Params = dict[str, str]
CUSTOMER_FILTER_KEYS = {"firstname": "first_name", "lastname": "last_name", "email": "email",
                        "countrycode": "country_code", "statecode": "state_code", "city": "city", "phone": "phone"}


def required(params: Params, name: str, code: int) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise StoreError(code, f"{name} node is missing")
    return value


def integer(text: str, code: int, name: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise StoreError(code, f"Invalid {name}") from None


def boolean(text: str | None, code: int, name: str) -> bool:
    """xs:boolean lexical space; absent is false (the .NET default of a value type)."""
    if text is None or text == "":
        return False
    if text.strip() in ("true", "1"):
        return True
    if text.strip() in ("false", "0"):
        return False
    raise StoreError(code, f"Invalid {name}")


def us_date(text: str, code: int = 36) -> datetime:
    """mm/dd/yyyy (§4 getOrder dateFrom/dateTo, updateOrderShipment shipmentDate)."""
    try:
        return datetime.strptime(text.strip(), "%m/%d/%Y")
    except ValueError:
        raise StoreError(code, "Invalid Date") from None


def paging(params: Params) -> tuple[int, int]:
    batch = integer(required(params, "batchSize", 5), 33, "Batch Size")
    start = integer(required(params, "startNum", 6), 34, "Start Number")
    if not 1 <= batch <= 100:
        raise StoreError(33, "Invalid Batch Size")
    if start < 1:
        raise StoreError(34, "Invalid Start Number")
    return batch, start


class Operations:
    """One method per operation: `Params` in, the raw result document out (or StoreError)."""

    def __init__(self, store: ThreeDCartStore, zone: ZoneInfo) -> None:
        self.store = store
        self.zone = zone

    def handler(self, name: str) -> Callable[[Params], etree._Element] | None:
        return getattr(self, f"op_{name}", None)

    # -- orders ----------------------------------------------------------------------------------
    def _orders(self, params: Params) -> list[Order]:
        s = self.store
        start_from = boolean(params.get("startFrom"), 38, "startFrom")
        invoice = params.get("invoiceNum") or ""
        if start_from and not invoice:
            raise StoreError(7, "InvoiceNum node is missing")
        status = params.get("status") or ""
        status_id = s.status_id_of(status) if status else None
        date_from = us_date(params["dateFrom"]) if params.get("dateFrom") else None
        date_to = us_date(params["dateTo"]) if params.get("dateTo") else None
        if date_from and date_to and date_from > date_to:
            raise StoreError(37, "Invalid Date Range")
        number = s.parse_invoice(invoice) if invoice else None
        out = []
        for o in sorted(s.orders.values(), key=lambda o: o.number):
            day = o.created_at.astimezone(self.zone).date()
            if number is not None and (o.number < number if start_from else o.number != number):
                continue
            if status_id is not None and o.status_id != status_id:
                continue
            if date_from and day < date_from.date() or date_to and day > date_to.date():
                continue
            out.append(o)
        return out

    def op_getOrder(self, params: Params) -> etree._Element:
        batch, start = paging(params)
        with self.store.lock:
            page = self._orders(params)[start - 1:start - 1 + batch]
            if not page:
                raise StoreError(49, "Order not found")
            root = etree.Element("GetOrdersResponse")
            for o in page:
                root.append(order_element(self.store, o, self.zone))
            return root

    def op_getOrderCount(self, params: Params) -> etree._Element:
        with self.store.lock:
            return document("OrdersCountResponse", Quantity=len(self._orders(params)))

    def op_getOrderStatus(self, params: Params) -> etree._Element:
        with self.store.lock:
            o = self.store.order_by_invoice(required(params, "invoiceNum", 7))
            return document("OrderStatusResponse", InvoiceNum=self.store.invoice_of(o), StatusId=o.status_id,
                            StatusText=self.store.statuses[o.status_id])

    def op_updateOrderStatus(self, params: Params) -> etree._Element:
        invoice = required(params, "invoiceNum", 7)
        text = required(params, "newStatus", 8)
        with self.store.lock:
            o = self.store.order_by_invoice(invoice)
            self.store.set_status(o, self.store.status_id_of(text))
            return document("UpdateOrderStatusResponse", InvoiceNum=self.store.invoice_of(o), NewStatus=text)

    def op_updateOrderShipment(self, params: Params) -> etree._Element:
        invoice = required(params, "invoiceNum", 7)
        tracking = params.get("tracking") or ""
        raw_date = params.get("shipmentDate") or ""
        when = None
        if raw_date:
            local = datetime.combine(us_date(raw_date).date(), dtime(12, 0))
            when = local.replace(tzinfo=self.zone)
        with self.store.lock:
            o = self.store.order_by_invoice(invoice)
            self.store.set_shipment(o, params.get("shipmentID") or "", tracking, when)
            return document("UpdateOrderShipmentResponse", result="OK")

    # -- customers -------------------------------------------------------------------------------
    def op_getCustomer(self, params: Params) -> etree._Element:
        batch, start = paging(params)
        wanted = self._customer_filter(params.get("customersFilter") or "")
        with self.store.lock:
            rows = [c for c in sorted(self.store.customers.values(), key=lambda c: c.customer_id)
                    if all(str(getattr(c, attr)).lower() == value.lower() for attr, value in wanted)]
            page = rows[start - 1:start - 1 + batch]
            if not page:
                raise StoreError(47, "Customer not found")
            root = etree.Element("CustomersRequestResponse")
            for c in page:
                root.append(customer_element(c, self.zone))
            return root

    @staticmethod
    def _customer_filter(text: str) -> list[tuple[str, str]]:
        """"firstname=John,email=..." (§4); an unknown key or a pair without "=" is invalid data (43)."""
        out = []
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, sep, value = part.partition("=")
            if not sep or key.strip().lower() not in CUSTOMER_FILTER_KEYS:
                raise StoreError(43, "Invalid Data: customersFilter")
            out.append((CUSTOMER_FILTER_KEYS[key.strip().lower()], value.strip()))
        return out

    def op_getCustomerCount(self, params: Params) -> etree._Element:
        with self.store.lock:
            return document("CustomerCountResponse", CustomerCount=len(self.store.customers))

    # -- products --------------------------------------------------------------------------------
    def op_getProduct(self, params: Params) -> etree._Element:
        batch, start = paging(params)
        sku = params.get("productId") or ""
        with self.store.lock:
            rows = sorted(self.store.products.values(), key=lambda p: p.catalog_id)
            if sku:
                rows = [p for p in rows if p.sku == sku]
            page = rows[start - 1:start - 1 + batch]
            if not page:
                raise StoreError(46, "Product not found")
            root = etree.Element("GetProductDetailsResponse")
            for p in page:
                root.append(product_element(p, self.zone))
            return root

    def op_getProductCount(self, params: Params) -> etree._Element:
        with self.store.lock:
            return document("GetProductCountResponse", ProductQuantity=len(self.store.products))

    def op_getProductInventory(self, params: Params) -> etree._Element:
        sku = required(params, "productId", 3)
        with self.store.lock:
            p = self.store.products.get(sku)
            if p is None:
                raise StoreError(46, "Product not found")
            return document("GetInventoryResponse", ProductID=p.sku, Inventory=p.stock)

    def op_updateProductInventory(self, params: Params) -> etree._Element:
        sku = required(params, "productId", 3)
        quantity = integer(required(params, "quantity", 4), 32, "Quantity")
        replace = boolean(params.get("replaceStock"), 43, "replaceStock")
        p = self.store.change_inventory(sku, quantity, replace)
        return document("UpdateInventoryResponse", ProductID=p.sku, NewInventory=p.stock)

