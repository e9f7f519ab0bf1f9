"""The Sagebridge push module's tracking endpoint, as the simulated store serves it.

X-Cart 5.5's API has no way to add a tracking number (`tracking_numbers[]` is output only in the
5.5.0 order DTO; ShipStation's X-Cart module adds its own storefront endpoint for exactly this), so
the module exposes one: `POST /?target=sagebridge_tracking` on a real store (an X-Cart customer-area
controller target, as ShipStation's module uses), which the simulator also serves as
`POST /sagebridge/tracking`. Header `X-Sagebridge-Token: <module token>`; JSON body
`{"order_number": "00042", "tracking_number": "1Z...", "carrier": "UPS"}`.

- 201 `{"order_id", "tracking_id"}` for a new number; the same (order, number) again answers 200
  with the existing row and adds nothing, so a caller that lost an answer can simply retry.
- 401 for a missing or wrong token (compared in constant time); an empty module token refuses all.
- 404 for an order number the store does not have (matched exactly, as X-Cart's `orderNumber`
  is a string); 400 for a body that is not a JSON object with non-blank strings.
- The number is stored as an `OrderTrackingNumber` row, rendered `{id, date, value}` in the
  order's `tracking_numbers`; the carrier is kept by the module but X-Cart's row has no column
  for it, so the API does not show it.
- lastRenewDate: a tracking row is a child row, so the order's lastRenewDate moves only when the
  store was made with `child_writes_renew=True` (unconfirmed either way; see `XCartStore`). The
  module itself always pushes `order.tracking_added`, so the hub hears of it either way.
"""
from __future__ import annotations

import hmac
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from .api_http import ApiError, json_body

TOKEN_HEADER = "x-sagebridge-token"
MAX_NUMBER = 255      # OrderTrackingNumber.value is a varchar(255)


class ModuleToken:
    """The module's token; the admin route can change it at run time."""

    def __init__(self, token: str = "") -> None:
        self.value = token

    def accepts(self, given: str | None) -> bool:
        return bool(self.value) and given is not None and hmac.compare_digest(given.encode(), self.value.encode())


def add_tracking(store, order_number: str, number: str, carrier: str) -> tuple[int, int, bool] | None:
    """(order id, tracking id, created) or None when no order has that number."""
    with store._lock:
        order = store.orders.get(store._number_index.get(order_number, -1))
        if order is None:
            return None
        found = next((t for t in order.tracking if t["value"] == number), None)
        if found is not None:
            return order.id, found["id"], False
        row = {"id": next(store._seq["tracking"]), "date": int(store.now()), "value": number, "carrier": carrier}
        order.tracking.append(row)
        if store.child_writes_renew:
            order.last_renew = int(store.now())
        snapshot = order.to_api()
    store._emit("order.tracking_added", {**snapshot, "tracking_number": number, "carrier": carrier})
    return order.id, row["id"], True


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _field(body: dict[str, Any], name: str, required: bool = True) -> str:
    """As the module's TrackingRequest reads it: a control character is a 400 there, so here too."""
    value = body.get(name, None if required else "")
    if (not isinstance(value, str) or (required and not value.strip()) or len(value) > MAX_NUMBER
            or _CONTROL.search(value.strip())):
        raise ApiError(400, f"{name} must be a non-blank string of at most {MAX_NUMBER} printable characters")
    return value.strip()


def install_tracking_routes(app: FastAPI, store, token: ModuleToken) -> None:
    async def handle(request: Request) -> JSONResponse:
        if not token.accepts(request.headers.get(TOKEN_HEADER)):
            raise ApiError(401, "Invalid module token.")
        body = await json_body(request)
        order_number, number = _field(body, "order_number"), _field(body, "tracking_number")
        done = add_tracking(store, order_number, number, _field(body, "carrier", required=False))
        if done is None:
            raise ApiError(404, f"No order with number {order_number!r}.")
        oid, tid, created = done
        return JSONResponse({"order_id": oid, "tracking_id": tid}, status_code=201 if created else 200)

    @app.post("/sagebridge/tracking")
    async def tracking(request: Request):
        return await handle(request)

    @app.post("/")
    async def storefront_target(request: Request):
        """X-Cart's storefront front controller: `?target=` picks the controller."""
        if request.query_params.get("target") != "sagebridge_tracking":
            raise ApiError(404, "Not Found")
        return await handle(request)
