"""The legacy 3dcart SOAP store as a `StorefrontSink` (ERP -> store), within what the Store Web
Service's operations can write (shift4shop.md §4):

- stock: `updateProductInventory(productId=<SKU>, quantity=<int>, replaceStock=true)`. replaceStock is
  ALWAYS sent true: false (or absent) ADDS to the stock, which would make a redelivered event count
  twice. quantity is an xs:int: a fractional quantity is refused (`refused_value`), never rounded.
- order status: the store's single status id (`order_status`, e.g. "4") -> its TEXT through
  `status_texts` (updateOrderStatus takes the merchant-editable text) -> `updateOrderStatus`, after
  `getOrderStatus` shows it is not already that status (a repeat is `already_present` and writes
  nothing, so the order's LastUpdate does not move).
- tracking: `updateOrderShipment(invoiceNum, shipmentID, tracking, shipmentDate)` on the first shipment
  without a tracking code; `already_present` when getOrder already shows that tracking number. The
  carrier has no field in this operation: it is named in the result message only.
- product price / text / enabled and customer profiles: no operation of this service the hub uses
  writes them (editCustomer exists, but the hub creates and edits no store accounts through SOAP):
  `skipped` with the reason.
order_number is the store's full invoice string ("AB-1000"), passed as invoiceNum.
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sagebridge_common.contracts import WriteOutcome
from sagebridge_common.errors import PermanentError

from .client import ThreeDCartClient
from .config import ThreeDCartStorefrontConfig
from .documents import entities, us_date
from .errors import NotFound
from .source import ping


class ThreeDCartSink:
    kind = "threedcart"
    concurrency_hint = 4

    def __init__(self, config: ThreeDCartStorefrontConfig, zone: ZoneInfo, client: ThreeDCartClient | None = None,
                 *, clock=lambda: datetime.now(timezone.utc)) -> None:
        self.config = config
        self.zone = zone
        self.client = client or ThreeDCartClient(config)
        self.clock = clock

    # -- stock -------------------------------------------------------------------------------------
    def set_stock(self, sku: str, quantity: Decimal, location: str | None = None) -> WriteOutcome:
        quantity = Decimal(quantity)
        if quantity != quantity.to_integral_value():
            raise PermanentError(f"3dcart stock of {sku}: {quantity} is not a whole number (quantity is xs:int)",
                                 reason="refused_value")
        try:
            _, body = self.client.call("updateProductInventory", productId=sku, quantity=int(quantity),
                                       replaceStock=True)
        except NotFound as e:
            raise PermanentError(f"3dcart has no product {sku}", reason="unknown_sku") from e
        note = f"stock {body.get('NewInventory', '?')}"
        if location:
            note += f" (location {location} ignored: one stock level per product)"
        return WriteOutcome("updated", str(body.get("ProductID") or sku), note)

    def update_product(self, product: dict[str, Any]) -> WriteOutcome:
        return WriteOutcome("skipped", None, "3dcart SOAP Store Web Service writes stock only "
                            "(updateProductInventory); price, description, enabled and categories are not "
                            "writable through it")

    def update_customer(self, customer: dict[str, Any]) -> WriteOutcome:
        return WriteOutcome("skipped", None, "3dcart SOAP: store customer profiles are not written by the hub")

    # -- orders ------------------------------------------------------------------------------------
    def set_order_status(self, order_number: str, *, shipping_status: str | None = None,
                         payment_status: str | None = None, order_status: str | None = None) -> WriteOutcome:
        if order_status is None:
            return WriteOutcome("skipped", None, "no store order status to set (3dcart has one status per order)")
        text = self.config.status_texts.get(str(order_status))
        if not text:
            raise PermanentError(f"3dcart status id {order_status} has no text in storefront.status_texts",
                                 reason="refused_value")
        current = self._call_order("getOrderStatus", order_number, invoiceNum=order_number)
        if str(current.get("StatusId")) == str(order_status):
            return WriteOutcome("already_present", order_number, f"status already {text}")
        self._call_order("updateOrderStatus", order_number, invoiceNum=order_number, newStatus=text)
        return WriteOutcome("updated", order_number, f"status {order_status} ({text})")

    def add_shipment(self, order_number: str, carrier: str | None, tracking_number: str) -> WriteOutcome:
        body = self._call_order("getOrder", order_number, startFrom=False, invoiceNum=order_number,
                                batchSize=1, startNum=1)
        orders = entities(body, "Order")
        if not orders:
            raise PermanentError(f"3dcart order {order_number} not found", reason="unknown_order")
        shipments = (orders[0].get("ShippingInformation") or {}).get("Shipment") or []
        if any(str(s.get("TrackingCode") or "").strip() == tracking_number for s in shipments):
            return WriteOutcome("already_present", order_number, f"tracking {tracking_number}")
        free = next((s for s in shipments if not str(s.get("TrackingCode") or "").strip()), None)
        if free is None:
            return WriteOutcome("needs_attention", order_number,
                                f"every shipment of {order_number} already has a tracking code; "
                                f"updateOrderShipment would overwrite one with {tracking_number}")
        self._call_order("updateOrderShipment", order_number, invoiceNum=order_number,
                         shipmentID=str(free.get("ShipmentID") or ""), tracking=tracking_number,
                         shipmentDate=us_date(self.clock(), self.zone))
        carrier_note = f" (carrier {carrier}: no carrier field in updateOrderShipment)" if carrier else ""
        return WriteOutcome("created", order_number,
                            f"tracking {tracking_number} on shipment {free.get('ShipmentID')}{carrier_note}")

    def _call_order(self, op: str, order_number: str, **params: Any) -> dict[str, Any]:
        try:
            return self.client.call(op, **params)[1]
        except NotFound as e:
            raise PermanentError(f"3dcart order {order_number} not found ({op})", reason="unknown_order") from e

    def ping(self) -> tuple[bool, str]:
        return ping(self.client)

    def close(self) -> None:
        self.client.close()
