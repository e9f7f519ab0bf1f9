"""The simulator's `/_sim` control surface (no auth, never faulted): tests and benchmarks place
orders, change their status as the merchant would in the admin, add customers and products, set
stock, move the clock, switch the API off, and read the state and the write log. Admin changes go
through the same store methods as SOAP writes, so they move `LastUpdate` the same way.
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from fastapi import Body, FastAPI, HTTPException
from pydantic import BaseModel, Field

from .store import Item, StoreError, ThreeDCartStore
from .write_log import WriteLog


class ItemSpec(BaseModel):
    sku: str
    name: str = ""
    quantity: Decimal = Field(Decimal("1"), gt=0)
    unit_price: Decimal = Field(ge=0)
    option_price: Decimal = Decimal("0.00")


class OrderSpec(BaseModel):
    email: str = "buyer@example.com"
    first_name: str = "Test"
    last_name: str = "Customer"
    items: list[ItemSpec] = Field(min_length=1)
    status_id: int = 1
    shipping: Decimal = Decimal("0.00")
    tax: Decimal = Decimal("0.00")
    discount: Decimal = Decimal("0.00")
    shipments: int = Field(1, ge=1)
    created_at: datetime | None = None           # UTC; default: the sim clock's now
    payment_method: str = "Online Credit Card"


class CustomerSpec(BaseModel):
    email: str
    first_name: str = "Test"
    last_name: str = "Customer"
    city: str = "Coral Springs"


class ProductSpec(BaseModel):
    sku: str
    name: str = ""
    price: Decimal = Decimal("10.00")
    stock: int = 0


class SettingsSpec(BaseModel):
    api_enabled: bool | None = None
    allowed_ips: list[str] | None = None
    statuses: dict[int, str] | None = None       # status id -> text (merchant relabels)


def install_sim_routes(app: FastAPI, store: ThreeDCartStore, writes: WriteLog, stats) -> None:
    @app.post("/_sim/orders")
    def place_order(spec: OrderSpec):
        created = spec.created_at
        if created is not None:
            created = (created if created.tzinfo else created.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
        try:
            order = store.place_order(
                email=spec.email, first_name=spec.first_name, last_name=spec.last_name, status_id=spec.status_id,
                items=[Item(i.sku, i.name or i.sku, i.quantity, i.unit_price, i.option_price) for i in spec.items],
                shipping_cost=spec.shipping, tax=spec.tax, discount=spec.discount, shipments=spec.shipments,
                created_at=created, payment_method=spec.payment_method)
        except ValueError as e:
            raise HTTPException(400, str(e))
        return store._order_json(order)

    @app.post("/_sim/orders/{invoice}/status")
    def change_status(invoice: str, status_id: int = Body(embed=True)):
        if status_id not in store.statuses:
            raise HTTPException(400, f"unknown status id {status_id}")
        try:
            order = store.order_by_invoice(invoice)
        except StoreError as e:
            raise HTTPException(404, e.description)
        store.set_status(order, status_id)
        return store._order_json(order)

    @app.post("/_sim/customers")
    def add_customer(spec: CustomerSpec):
        c = store.add_customer(spec.email, spec.first_name, spec.last_name, city=spec.city)
        return {"customer_id": c.customer_id}

    @app.post("/_sim/products")
    def add_product(spec: ProductSpec):
        try:
            p = store.add_product(spec.sku, spec.name, spec.price, spec.stock)
        except ValueError as e:
            raise HTTPException(409, str(e))
        return {"catalog_id": p.catalog_id, "sku": p.sku, "stock": p.stock}

    @app.put("/_sim/products/{sku}/stock")
    def set_stock(sku: str, stock: int = Body(embed=True)):
        try:
            p = store.change_inventory(sku, stock, replace=True)
        except StoreError as e:
            raise HTTPException(404, e.description)
        return {"sku": p.sku, "stock": p.stock}

    @app.get("/_sim/state")
    def state():
        return store.snapshot()

    @app.get("/_sim/writes")
    def get_writes(op: str | None = None):
        return writes.entries(op)

    @app.delete("/_sim/writes")
    def clear_writes():
        writes.clear()
        return {"cleared": True}

    @app.get("/_sim/stats")
    def get_stats():
        return stats.snapshot()

    @app.get("/_sim/clock")
    def get_clock():
        return {"now": store.now().isoformat(), "offset_s": store.clock_offset}

    @app.post("/_sim/clock")
    def set_clock(offset_s: float | None = Body(None, embed=True), advance_s: float | None = Body(None, embed=True)):
        """`offset_s` sets the clock's offset from real time; `advance_s` moves it forward."""
        with store.lock:
            if offset_s is not None:
                store.clock_offset = offset_s
            if advance_s is not None:
                store.clock_offset += advance_s
        return {"now": store.now().isoformat(), "offset_s": store.clock_offset}

    @app.post("/_sim/settings")
    def settings(spec: SettingsSpec):
        with store.lock:
            if spec.api_enabled is not None:
                store.api_enabled = spec.api_enabled
            if spec.allowed_ips is not None:
                store.allowed_ips = list(spec.allowed_ips)
            if spec.statuses:
                store.statuses.update(spec.statuses)
        return {"api_enabled": store.api_enabled, "allowed_ips": store.allowed_ips,
                "statuses": {str(k): v for k, v in store.statuses.items()}}
