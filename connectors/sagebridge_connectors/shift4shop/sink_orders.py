"""Order writes on Shift4Shop: the status id and shipment tracking (shift4shop.md §1.4, §2.1).

An order is found by its store number ("AB-1000" = `InvoiceNumberPrefix` + `InvoiceNumber`, §2.1)
with `GET /Orders?invoicenumber=1000&invoiceprefix=AB-` (§1.3: SkuVault splits the number the same
way): the prefix is everything before the trailing digits, so a prefix with its own separator or
none at all ("1000") works. The number -> OrderID answer is cached (an order's id never changes).

Status: Shift4Shop has one status per order (`OrderStatusID`, §2.1), written with
`PUT /Orders/{id}` `{"OrderStatusID": n}` (§1.4; M for status specifically). X-Cart's separate
shipping/payment codes have no meaning here: given alone they are `skipped` with a message.

Tracking: `GET /Orders/{id}/Shipments`; a shipment already carrying the tracking code (compared
trimmed: recorded codes are right-padded, §2.1) answers `already_present`; otherwise
`PUT /Orders/{id}/Shipments/{shipmentid}` sets `ShipmentTrackingCode` and `ShipmentShippedDate`
(store-local `m/d/yyyy`, §2.1) on the first shipment without a code. Whether that PUT also changes
the order status or e-mails the customer is not confirmed (§5): status is left to
`set_order_status`.
"""
from __future__ import annotations

import re
import threading
from datetime import datetime, timezone
from typing import Any

from sagebridge_common.contracts import WriteOutcome
from sagebridge_common.errors import PermanentError

from .store_time import shipped_date

_NUMBER = re.compile(r"^(.*?)(\d+)$")


def split_invoice(order_number: str) -> tuple[str, int]:
    """"AB-1000" -> ("AB-", 1000); "1000" -> ("", 1000). No trailing digits: unknown_order."""
    m = _NUMBER.match(order_number.strip())
    if not m:
        raise PermanentError(f"{order_number!r} is not a Shift4Shop invoice number (prefix + digits)",
                             reason="unknown_order")
    return m.group(1), int(m.group(2))


class OrderWrites:
    client: Any
    zone: Any

    def __init__(self) -> None:
        self._order_ids: dict[str, int] = {}
        self._order_lock = threading.Lock()

    def order_id(self, order_number: str) -> int:
        key = order_number.strip()
        with self._order_lock:
            if key in self._order_ids:
                return self._order_ids[key]
        prefix, number = split_invoice(key)
        params: dict[str, Any] = {"invoicenumber": number, "limit": 10, "offset": 1}
        if prefix:
            params["invoiceprefix"] = prefix
        rows = self.client.get_list("find_order", "/Orders", params)
        match = [r for r in rows if str(r.get("InvoiceNumberPrefix") or "") == prefix
                 and int(r.get("InvoiceNumber", -1)) == number]
        if not match:
            raise PermanentError(f"Shift4Shop has no order {order_number!r}", reason="unknown_order")
        oid = int(match[0]["OrderID"])
        with self._order_lock:
            self._order_ids[key] = oid
        return oid

    def set_order_status(self, order_number: str, *, shipping_status: str | None = None,
                         payment_status: str | None = None, order_status: str | None = None) -> WriteOutcome:
        if not order_status:
            given = [k for k, v in (("shipping_status", shipping_status), ("payment_status", payment_status)) if v]
            why = (f"{' and '.join(given)} have no meaning on Shift4Shop (one status per order)" if given
                   else "no store status to set")
            return WriteOutcome("skipped", None, why)
        try:
            status_id = int(str(order_status).strip())
        except ValueError:
            raise PermanentError(f"order_status {order_status!r} is not a Shift4Shop status id",
                                 reason="refused_value") from None
        oid = self.order_id(order_number)
        order = self.client.get_one("get_order", f"/Orders/{oid}")
        if order is None:
            raise PermanentError(f"Shift4Shop order {order_number!r} (id {oid}) is gone", reason="unknown_order")
        if int(order.get("OrderStatusID", -1)) == status_id:
            return WriteOutcome("already_present", str(oid), f"status {status_id}")
        results = self.client.put("set_order_status", f"/Orders/{oid}", {"OrderStatusID": status_id})
        bad = next((r for r in results if not r.ok), None)
        if bad is not None:
            raise PermanentError(f"Shift4Shop refused status {status_id} for {order_number}: {bad.message}",
                                 reason="refused_value")
        return WriteOutcome("updated", str(oid), f"status {status_id}")

    def add_shipment(self, order_number: str, carrier: str | None, tracking_number: str,
                     shipped_at: datetime | None = None) -> WriteOutcome:
        code = tracking_number.strip()
        if not code:
            raise PermanentError("an empty tracking number cannot be stored", reason="refused_value")
        oid = self.order_id(order_number)
        shipments = self.client.get_list("get_shipments", f"/Orders/{oid}/Shipments")
        if any(str(s.get("ShipmentTrackingCode") or "").strip() == code for s in shipments):
            return WriteOutcome("already_present", str(oid), f"tracking {code}")
        free = next((s for s in shipments if not str(s.get("ShipmentTrackingCode") or "").strip()), None)
        if free is None:
            raise PermanentError(f"order {order_number}: every shipment already has another tracking code "
                                 f"(the hub adds no shipments)", reason="refused_value")
        body = {"ShipmentID": free.get("ShipmentID"), "ShipmentTrackingCode": code,
                "ShipmentShippedDate": shipped_date(shipped_at or datetime.now(timezone.utc), self.zone)}
        results = self.client.put("set_tracking", f"/Orders/{oid}/Shipments/{free.get('ShipmentID')}", body)
        bad = next((r for r in results if not r.ok), None)
        if bad is not None:
            raise PermanentError(f"Shift4Shop refused tracking {code} for {order_number}: {bad.message}",
                                 reason="refused_value")
        return WriteOutcome("updated", str(oid), f"tracking {code} ({carrier or 'no carrier'}) "
                                                 f"on shipment {free.get('ShipmentID')}")
