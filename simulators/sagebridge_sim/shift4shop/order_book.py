"""The store's orders: placing (the simulated checkout), reading, and the REST writes on an order,
its shipments and its transactions (shift4shop.md §1.4, §2.1).

- Listing order is by OrderID ascending (ASSUMPTION: the reference does not say how GET /Orders sorts;
  ascending ids make offset paging stable while new orders arrive at the end).
- Every accepted write saves the order and so moves its `LastUpdate`, even when no value changed
  (a save is a save; the issue's "LastUpdate changes on every modification").
- A shipment write changes that shipment (and `LastUpdate`) but not `OrderStatusID`: whether the real
  API derives the order status from `ShipmentOrderStatus` is not confirmed (§5).
- The first shipment of a placed order has `ShipmentID` 0 and `ShipmentNumber` 1, as the recording
  shows for single-shipment orders (§2.1); shipments added later get ids from a store-wide sequence.
- Placing an order reduces the stock of the bought product or variant (3dcart's inventory control;
  the recorded `ItemUnitStock` may be negative, §2.1): `reduce_stock_on_order=False` turns it off.
"""
from __future__ import annotations

import itertools
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from . import orders as om
from .clock import WIRE_FORMAT
from .query import Filters
from .values import FieldError, apply_fields

if TYPE_CHECKING:
    from .store import Shift4ShopStore


class UnknownStatusId(FieldError):
    def __init__(self, value: Any) -> None:
        super().__init__("OrderStatusID", value)


class OrderBook:
    def __init__(self, store: "Shift4ShopStore", prefix: str, first_id: int, first_number: int,
                 reduce_stock: bool) -> None:
        self.s = store
        self.prefix = prefix
        self.reduce_stock = reduce_stock
        self._orders: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(first_id)
        self._numbers = itertools.count(first_number)
        self._item_ids = itertools.count(1)
        self._txn_ids = itertools.count(1)
        self._shipment_ids = itertools.count(1)

    # ---- reading -------------------------------------------------------------------------
    def count(self) -> int:
        return len(self._orders)

    def _render(self, o: dict[str, Any]) -> dict[str, Any]:
        return om.render(o, self.s.clock.wire)

    def query(self, filters: Filters, offset: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
        """(number of matching orders, the page [offset, offset+limit) of them rendered); 1-based offset."""
        with self.s.lock:
            matching = [o for _, o in sorted(self._orders.items()) if filters.match(o)]
            return len(matching), [self._render(o) for o in matching[offset - 1: offset - 1 + limit]]

    def get(self, oid: int) -> dict[str, Any] | None:
        with self.s.lock:
            o = self._orders.get(oid)
            return self._render(o) if o else None

    def by_number(self, text: str) -> dict[str, Any] | None:
        """"AB-1000", "1000" or the prefix-less number: the order whose prefix+number matches."""
        with self.s.lock:
            for o in self._orders.values():
                if text in (f"{o['InvoiceNumberPrefix']}{o['InvoiceNumber']}", str(o["InvoiceNumber"])):
                    return self._render(o)
        return None

    def children(self, oid: int, key: str) -> list[dict[str, Any]] | None:
        with self.s.lock:
            o = self._orders.get(oid)
            return self._render(o)[key] if o else None

    # ---- the checkout --------------------------------------------------------------------
    def place(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Creates an order from the `/_sim/orders` spec; raises ValueError for an unusable spec."""
        events: list[tuple[str, dict[str, Any]]] = []
        with self.s.lock:
            now = self._order_time(spec.get("order_date_local"))
            lines = [self._line(i) for i in spec["items"]]      # validate everything before any change
            customer_id, billing, events = self._customer_for(spec, events)
            oid, number = next(self._ids), spec.get("invoice_number") or next(self._numbers)
            prefix = self.prefix if spec.get("invoice_prefix") is None else spec["invoice_prefix"]
            o = om.new_order(order_id=oid, prefix=prefix, number=number, now=now,
                             spec={**spec, "customer_id": customer_id, "billing": billing})
            ship_to = spec.get("shipping_address") or billing
            o["ShipmentList"].append(om.new_shipment(
                0 if spec.get("first_shipment_id_zero", True) else next(self._shipment_ids), 1, now,
                o["OrderStatusID"], ship_to,
                {"ShipmentCost": Decimal(spec.get("shipping", "0.00")),
                 "ShipmentMethodName": spec.get("shipping_method", "UPS Ground")}))
            sid = o["ShipmentList"][0]["ShipmentID"]
            if self.reduce_stock:                   # before the lines: ItemUnitStock is the stock left
                events += self.s.catalogue.take_stock_for(lines)
            o["OrderItemList"] = [om.new_item(next(self._item_ids), sid, now, line) for line in lines]
            o["TransactionList"] = [om.new_transaction(next(self._txn_ids), oid, now,
                                                       {k: v for k, v in t.items() if v is not None})
                                    for t in spec.get("transactions", [])]
            o["QuestionList"] = [om.new_question(oid, n, q) for n, q in enumerate(spec.get("questions", []), 1)]
            o["PromotionList"] = [om.new_promotion(n, p) for n, p in enumerate(spec.get("promotions", []), 1)]
            o["OrderAmount"] = om.order_amount(o)
            if spec.get("paid") and not o["TransactionList"]:
                o["TransactionList"].append(om.new_transaction(next(self._txn_ids), oid, now,
                                                               {"amount": o["OrderAmount"],
                                                                "method": o["BillingPaymentMethod"]}))
            self._orders[oid] = o
            snapshot = self._render(o)
        self.s.emit(events + [("order.new", snapshot)])
        return snapshot

    def _order_time(self, local: str | None) -> float:
        if not local:
            return self.s.now()
        try:
            return self.s.clock.local_to_epoch(datetime.strptime(local, WIRE_FORMAT))
        except ValueError:
            raise ValueError(f"order_date_local {local!r} is not YYYY-MM-DDTHH:MM:SS") from None

    def _customer_for(self, spec: dict[str, Any], events: list) -> tuple[int, dict[str, Any], list]:
        """The order's CustomerID and billing block: an existing customer (`customer_id`), a new
        registration (`register_customer: true`, which emits Customer New), or a guest (CustomerID 0, §2.1)."""
        billing = dict(spec.get("billing") or {})
        billing.setdefault("email", spec.get("email", ""))
        cid = spec.get("customer_id") or 0
        if cid:
            c = self.s.customers.raw(cid)
            if c is None:
                raise ValueError(f"customer {cid} does not exist")
            billing = {"email": c["Email"], "first_name": c["BillingFirstName"], "last_name": c["BillingLastName"],
                       "company": c["BillingCompany"], "address": c["BillingAddress1"],
                       "address2": c["BillingAddress2"], "city": c["BillingCity"], "state": c["BillingState"],
                       "zip": c["BillingZipCode"], "country": c["BillingCountry"], "phone": c["BillingPhoneNumber"],
                       **{k: v for k, v in (spec.get("billing") or {}).items() if v}}
        elif spec.get("register_customer"):
            created = self.s.customers.create_from_billing(billing)
            cid = created["CustomerID"]
            events = events + [("customer.new", created)]
        return cid, billing, events

    def _line(self, item: dict[str, Any]) -> dict[str, Any]:
        """Resolves a spec item's SKU against the catalogue: a variant SKU gives the parent's
        CatalogID, `ItemID` = the variant SKU and `ItemOptions` from its AdvancedOptionCode (§2.2)."""
        found = self.s.catalogue.resolve(item["sku"])
        if found is None:
            if item.get("unit_price") is None:
                raise ValueError(f"unknown SKU {item['sku']!r} needs a unit_price")
            return {"catalog_id": item.get("catalog_id", 0), "sku": item["sku"], "name": item.get("name", ""),
                    "quantity": item["quantity"], "unit_price": item["unit_price"],
                    "option_price": item.get("option_price") or "0.00", "options": ""}
        product, option = found
        info = product["SKUInfo"]
        line = {"catalog_id": info["CatalogID"], "sku": item["sku"], "name": item.get("name") or info["Name"],
                "quantity": item["quantity"], "unit_cost": info["Cost"], "weight": product["Weight"],
                "unit_price": item["unit_price"] if item.get("unit_price") is not None else info["Price"],
                "option_price": Decimal("0.00"), "options": "", "option_code": None}
        if option is not None:
            line["option_code"] = option["AdvancedOptionCode"]
            line["options"] = "," + ",".join(option["AdvancedOptionCode"].split("-"))
            line["option_price"] = option["AdvancedOptionPrice"]
            line["name"] = item.get("name") or f"{info['Name']}<br><b>{option['AdvancedOptionName']}</b>"
        if item.get("option_price") is not None:
            line["option_price"] = item["option_price"]
        return line

    # ---- writes --------------------------------------------------------------------------
    def _save(self, o: dict[str, Any], old_status: int) -> list[tuple[str, dict[str, Any]]]:
        o["LastUpdate"] = self.s.now()
        o["OrderAmount"] = om.order_amount(o)
        return [("order.status", self._render(o))] if o["OrderStatusID"] != old_status else []

    def update(self, oid: int, body: dict[str, Any]) -> bool:
        """PUT /Orders/{id} with the Order write model (`orders.ORDER_WRITABLE`); False when the
        order does not exist. An OrderStatusID the store does not define is a 400 (FieldError)."""
        with self.s.lock:
            o = self._orders.get(oid)
            if o is None:
                return False
            staged = dict(o)
            apply_fields(staged, body, om.ORDER_WRITABLE)
            if not self.s.statuses.known(staged["OrderStatusID"]):
                raise UnknownStatusId(body.get("OrderStatusID"))
            old = o["OrderStatusID"]
            o.update(staged)
            events = self._save(o, old)
        self.s.emit(events)
        return True

    def add_transaction(self, oid: int, spec: dict[str, Any]) -> dict[str, Any] | None:
        with self.s.lock:
            o = self._orders.get(oid)
            if o is None:
                return None
            t = om.new_transaction(next(self._txn_ids), oid, self.s.now(), spec)
            o["TransactionList"].append(t)
            self._save(o, o["OrderStatusID"])
            return self._render(t)

    def _shipment_fields(self, body: dict[str, Any]) -> dict[str, Any]:
        staged: dict[str, Any] = {}
        apply_fields(staged, body, om.SHIPMENT_WRITABLE)
        if "ShipmentShippedDate" in staged:
            om.check_shipped_date(staged["ShipmentShippedDate"])
        if "ShipmentOrderStatus" in staged and not self.s.statuses.known(staged["ShipmentOrderStatus"]):
            raise FieldError("ShipmentOrderStatus", staged["ShipmentOrderStatus"])
        return staged

    def add_shipment(self, oid: int, body: dict[str, Any]) -> int | None:
        """POST /Orders/{id}/Shipments: a new shipment, new ShipmentID; None for no such order."""
        with self.s.lock:
            o = self._orders.get(oid)
            if o is None:
                return None
            fields = self._shipment_fields(body)
            number = max((s["ShipmentNumber"] for s in o["ShipmentList"]), default=0) + 1
            s = om.new_shipment(next(self._shipment_ids), number, self.s.now(), o["OrderStatusID"], {}, fields)
            o["ShipmentList"].append(s)
            self._save(o, o["OrderStatusID"])
            return s["ShipmentID"]

    def update_shipment(self, oid: int, shipment_id: int, body: dict[str, Any]) -> str:
        """PUT /Orders/{id}/Shipments/{shipmentid}: 'ok', 'no_order' or 'no_shipment'."""
        with self.s.lock:
            o = self._orders.get(oid)
            if o is None:
                return "no_order"
            s = next((s for s in o["ShipmentList"] if s["ShipmentID"] == shipment_id), None)
            if s is None:
                return "no_shipment"
            fields = self._shipment_fields(body)
            s.update(fields)
            s["ShipmentLastUpdate"] = self.s.now()
            self._save(o, o["OrderStatusID"])
            return "ok"
