"""The simulator's `/_sim` control surface: tests and benchmarks place orders, change statuses, add
transactions, register and edit customers, create and edit products and variants, rename status
labels, move the store clock, steer webhook delivery and read the write log. No credentials, never
faulted. Every change goes through the same store methods the REST writes use, so it moves
`LastUpdate` and fires webhooks exactly as those do.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import Body, FastAPI
from pydantic import BaseModel, Field

from .api_common import Context
from .emitter import redact
from .values import FieldError
from .wire import ApiError, respond
from .write_log import ShopWriteLog


class ItemSpec(BaseModel):
    """`sku`: a product SKU or a variant SKU (AdvancedOptionSufix); an unknown SKU needs `unit_price`
    and gives a line with CatalogID `catalog_id` (default 0)."""
    sku: str
    quantity: Decimal = Field(Decimal("1"), gt=0)
    unit_price: Decimal | None = None        # default: the product's Price
    option_price: Decimal | None = None      # default: the variant's AdvancedOptionPrice (0 for none)
    name: str = ""
    catalog_id: int = 0


class AddressSpec(BaseModel):
    first_name: str = "Test"
    last_name: str = "Customer"
    company: str = ""
    address: str = "1 Main Street"
    address2: str = ""
    city: str = "Springfield"
    state: str = "IL"
    zip: str = "62701"
    country: str = "US"
    phone: str = "555-0100"
    email: str = ""


class TransactionSpec(BaseModel):
    type: str = "Sale"
    amount: Decimal
    method: str = "Credit Card"
    transaction_id: str | None = None
    approval: str = "APPROVED"
    captured: int = 1


class OrderSpec(BaseModel):
    """`POST /_sim/orders`. `customer_id`: an existing customer (billing from the customer);
    `register_customer`: the shopper registers at checkout (Customer New); neither: a guest (CustomerID 0).
    `paid` with no `transactions` adds one Sale transaction of the OrderAmount.
    `order_date_local`: "YYYY-MM-DDTHH:MM:SS" store-local (default: the sim clock's now)."""
    items: list[ItemSpec] = Field(min_length=1)
    email: str = "shopper@example.com"
    billing: AddressSpec = Field(default_factory=AddressSpec)
    shipping_address: AddressSpec | None = None
    customer_id: int | None = None
    register_customer: bool = False
    status_id: int = 1
    shipping: Decimal = Decimal("0.00")
    shipping_method: str = "UPS Ground"
    tax: Decimal = Decimal("0.00")
    tax2: Decimal = Decimal("0.00")
    tax3: Decimal = Decimal("0.00")
    discount: Decimal = Decimal("0.00")
    payment_method: str = "Credit Card"
    paid: bool = True
    transactions: list[TransactionSpec] = Field(default_factory=list)
    questions: list[dict[str, Any]] = Field(default_factory=list)     # {title, answer, type}
    promotions: list[dict[str, Any]] = Field(default_factory=list)    # {name, coupon, amount}
    customer_comments: str = ""
    order_date_local: str | None = None
    invoice_prefix: str | None = None
    invoice_number: int | None = None
    first_shipment_id_zero: bool = True


class BulkSpec(BaseModel):
    count: int = Field(ge=1, le=100_000)
    template: OrderSpec


class OptionSpec(BaseModel):
    code: str                    # AdvancedOptionCode, e.g. "390-493"
    sku: str                     # AdvancedOptionSufix: the full variant SKU
    name: str = ""
    stock: Decimal = Decimal("0")
    price: Decimal = Decimal("0.00")
    cost: Decimal = Decimal("0.00")


class ProductSpec(BaseModel):
    sku: str
    name: str = ""
    price: Decimal = Decimal("10.00")
    cost: Decimal = Decimal("0.00")
    retail_price: Decimal = Decimal("0.00")
    sale_price: Decimal = Decimal("0.00")
    on_sale: bool = False
    stock: Decimal = Decimal("0")
    hide: bool = False
    description: str = ""
    weight: Decimal = Decimal("0.00")
    categories: list[dict[str, Any]] = Field(default_factory=list)   # {id, name}
    options: list[OptionSpec] = Field(default_factory=list)


class StatusChange(BaseModel):
    status_id: int


class StatusLabel(BaseModel):
    StatusText: str | None = None
    Visible: bool | None = None


class ClockChange(BaseModel):
    local: str | None = None              # "YYYY-MM-DDTHH:MM:SS" store-local: now reads this
    utc_epoch: float | None = None
    offset_seconds: float | None = None
    advance_seconds: float | None = None


class WebhookControl(BaseModel):
    enabled: bool | None = None
    repeat: int | None = None
    attempts: int | None = None


def _found(row: Any, what: str) -> Any:
    if row is None:
        raise ApiError(404, f"{what} not found", what)
    return respond(row)


def install_sim_routes(app: FastAPI, ctx: Context, writes: ShopWriteLog) -> None:
    _order_routes(app, ctx)
    _catalogue_routes(app, ctx)
    _control_routes(app, ctx, writes)


def _order_routes(app: FastAPI, ctx: Context) -> None:
    store = ctx.store

    def place(spec: OrderSpec) -> dict[str, Any]:
        if not store.statuses.known(spec.status_id):
            raise ApiError(400, f"unknown status_id {spec.status_id}", "status_id")
        data = spec.model_dump()
        data["billing"].setdefault("email", "")
        data["billing"]["email"] = data["billing"]["email"] or spec.email
        try:
            return store.orders.place(data)
        except ValueError as e:
            raise ApiError(400, str(e), "order") from None

    @app.post("/_sim/orders", status_code=201)
    def sim_place(spec: OrderSpec):
        return respond(place(spec), 201)

    @app.post("/_sim/orders/bulk", status_code=201)
    def sim_bulk(bulk: BulkSpec):
        made = [place(bulk.template) for _ in range(bulk.count)]
        return respond([{"OrderID": o["OrderID"], "InvoiceNumber": o["InvoiceNumber"]} for o in made], 201)

    @app.get("/_sim/orders/by-number/{number}")
    def sim_by_number(number: str):
        return _found(store.orders.by_number(number), "Order")

    @app.get("/_sim/orders/{oid}")
    def sim_get(oid: int):
        return _found(store.orders.get(oid), "Order")

    @app.post("/_sim/orders/{oid}/status")
    def sim_status(oid: int, change: StatusChange):
        try:
            found = store.orders.update(oid, {"OrderStatusID": change.status_id})
        except FieldError as e:
            raise ApiError(400, str(e), "status_id") from None
        return _found(store.orders.get(oid) if found else None, "Order")

    @app.post("/_sim/orders/{oid}/transactions", status_code=201)
    def sim_transaction(oid: int, spec: TransactionSpec):
        data = {k: v for k, v in spec.model_dump().items() if v is not None}
        row = store.orders.add_transaction(oid, data)
        if row is None:
            raise ApiError(404, "Order not found", "Order")
        return respond(row, 201)

    @app.post("/_sim/customers", status_code=201)
    def sim_customer(fields: dict[str, Any] = Body(...)):
        """Wire field names (`Email`, `BillingFirstName`, ...); `Password` defaults to a dummy."""
        try:
            return respond(store.customers.create({"Password": "sim-password", **fields}), 201)
        except FieldError as e:
            raise ApiError(400, str(e), e.field) from None

    @app.patch("/_sim/customers/{cid}")
    def sim_edit_customer(cid: int, fields: dict[str, Any] = Body(...)):
        try:
            found = store.customers.update(cid, fields)
        except FieldError as e:
            raise ApiError(400, str(e), e.field) from None
        return _found(store.customers.get(cid) if found else None, "Customer")


def _catalogue_routes(app: FastAPI, ctx: Context) -> None:
    cat = ctx.store.catalogue

    @app.post("/_sim/products", status_code=201)
    def sim_product(spec: ProductSpec):
        try:
            return respond(cat.create(spec.model_dump()), 201)
        except ValueError as e:
            raise ApiError(400, str(e), "sku") from None

    @app.patch("/_sim/products/{cid}")
    def sim_edit_product(cid: int, body: dict[str, Any] = Body(...)):
        """The Product write model (`SKUInfo`, top-level fields), plus `add_options: [OptionSpec]`."""
        if "add_options" in body:
            body["add_options"] = [OptionSpec(**o).model_dump() for o in body["add_options"]]
        try:
            return _found(cat.sim_edit(cid, body), "Product")
        except (FieldError, ValueError) as e:
            raise ApiError(400, str(e), "product") from None

    @app.get("/_sim/products/by-sku/{sku}")
    def sim_by_sku(sku: str):
        return _found(cat.find(sku), "Product")


def _control_routes(app: FastAPI, ctx: Context, writes: ShopWriteLog) -> None:
    store = ctx.store

    @app.post("/_sim/order-status/{sid}")
    def sim_status_label(sid: int, label: StatusLabel):
        return respond(store.statuses.rename(sid, label.StatusText, label.Visible))

    @app.get("/_sim/clock")
    def sim_clock():
        return store.clock.snapshot()

    @app.post("/_sim/clock")
    def sim_set_clock(change: ClockChange):
        try:
            if change.local is not None:
                store.clock.set_local(change.local)
        except ValueError:
            raise ApiError(400, "local must be YYYY-MM-DDTHH:MM:SS", "local") from None
        if change.utc_epoch is not None:
            store.clock.set_utc(change.utc_epoch)
        if change.offset_seconds is not None:
            store.clock.set_offset(change.offset_seconds)
        if change.advance_seconds is not None:
            store.clock.advance(change.advance_seconds)
        return store.clock.snapshot()

    @app.get("/_sim/webhooks")
    def sim_webhooks():
        return {**ctx.emitter.snapshot(),
                "subscriptions": [{**h, "Url": redact(h["Url"])} for h in ctx.webhooks.list()]}

    @app.post("/_sim/webhooks")
    def sim_webhooks_control(control: WebhookControl):
        try:
            return ctx.emitter.configure(control.enabled, control.repeat, control.attempts)
        except ValueError as e:
            raise ApiError(400, str(e), "webhooks") from None

    @app.get("/_sim/webhooks/deliveries")
    def sim_deliveries(since: int = 0):
        return ctx.emitter.deliveries(since)

    @app.get("/_sim/writes")
    def sim_writes(since: int = 0, kind: str | None = None, limit: int = 10_000):
        return writes.read(since, kind, limit)

    @app.get("/_sim/writes/summary")
    def sim_writes_summary():
        return writes.summary()

    @app.delete("/_sim/writes")
    def sim_writes_clear():
        writes.clear()
        return writes.summary()

    @app.get("/_sim/summary")
    @app.get("/_sim/stats")                  # the name the images' health check uses for every simulator
    def sim_summary():
        return {**store.summary(), "webhooks": ctx.emitter.snapshot(), "writes": writes.summary(),
                "faults": ctx.injector.snapshot()}
