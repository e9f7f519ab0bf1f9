"""The simulator's `/_sim` control surface: tests and benchmarks place orders, register and edit
customers, record payments and refunds, move the clock, steer the push module. No auth, never
faulted. Every write goes through the same store methods the simulated admin UI would use, so it
changes lastRenewDate and pushes notifications exactly as documented in `store`, `profiles`,
`transactions` and `tracking`.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from fastapi import Body, FastAPI
from pydantic import BaseModel, Field

from ..faults import FaultInjector
from .api_http import ApiError
from .listing_faults import ListingFaults
from .profiles import ProfileError
from .push import PushNotifier
from .store import UnknownStatus, XCartStore
from .tracking import ModuleToken
from .transactions import OrderPayments, TransactionError

class ItemSpec(BaseModel):
    sku: str
    name: str = ""
    price: Decimal = Field(ge=0)
    amount: int = Field(1, ge=1)


class AddressSpec(BaseModel):
    street: str = "1 Main Street"
    city: str = "New York"
    zipcode: str = "10001"
    country_code: str = "US"
    state_name: str = "New York"
    phone: str = "+1 212 555 0100"


class OrderSpec(BaseModel):
    """Compact order description for `POST /_sim/orders`; everything but `items` has a default."""
    email: str = ""
    first_name: str = "Test"
    last_name: str = "Customer"
    currency: str = "USD"
    payment_code: str = "P"
    shipping_code: str = "N"
    payment_method: str = "Credit Card"
    payment_type: Literal["sale", "auth"] = "sale"      # the checkout's main transaction
    shipping_method: str = "UPS Ground"
    items: list[ItemSpec] = Field(min_length=1)
    shipping: Decimal = Decimal("0")
    tax: Decimal = Decimal("0")
    tax_included: bool = False
    discount: Decimal = Decimal("0")
    coupon: str | None = None
    address: AddressSpec = Field(default_factory=AddressSpec)
    guest: bool = False
    notes: str = ""
    admin_notes: str = ""


class BulkSpec(BaseModel):
    count: int = Field(ge=1, le=200_000)
    template: OrderSpec
    detail: bool = False     # True: return {id, order_number, created_at_ms} per order, not bare ids


class PushConfig(BaseModel):
    url: str
    secret: str


class ClockChange(BaseModel):
    offset_seconds: float | None = None     # absolute offset from real time
    advance_seconds: float | None = None    # added to the current offset


class AddressChange(BaseModel):
    street: str | None = None
    city: str | None = None
    zipcode: str | None = None
    country_code: str | None = None
    state_name: str | None = None
    phone: str | None = None


class ProfileSpec(BaseModel):
    """`POST /_sim/profiles`: a customer registers. One `address` is both billing and shipping
    unless `shipping_address` is given too; no address gives an empty address book."""
    login: str
    first_name: str = ""
    last_name: str = ""
    status: str = "E"
    access_level: int = 0
    address: AddressSpec | None = None
    shipping_address: AddressSpec | None = None


class ProfileChange(BaseModel):
    """`PATCH /_sim/profiles/{id}`: only the given fields change; `address` edits the billing address
    (and the shipping one when a single address is both), `shipping_address` the shipping one."""
    login: str | None = None
    status: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    address: AddressChange | None = None
    shipping_address: AddressChange | None = None


class TransactionSpec(BaseModel):
    type: str = "sale"
    status: str = "S"
    value: Decimal
    method: str | None = None
    payment_status: str | None = None     # also set the order's payment status (saves the order row)


class BackendSpec(BaseModel):
    type: str
    status: str = "S"
    value: Decimal
    payment_status: str | None = None


class StatusChange(BaseModel):
    status: str
    payment_status: str | None = None


class ModuleConfig(BaseModel):
    token: str


def install_listing_routes(app: FastAPI, listing: ListingFaults) -> None:
    """`POST /_sim/listing` sets the listing faults (`listing_faults.ListingPlan` fields, `reset`);
    `GET /_sim/listing` shows them with the log of list calls (query, rows, filters applied/ignored)."""

    @app.post("/_sim/listing")
    def set_listing(changes: dict[str, Any] = Body(default_factory=dict)):
        try:
            return listing.configure(dict(changes))
        except (ValueError, TypeError) as e:
            raise ApiError(400, str(e)) from None

    @app.get("/_sim/listing")
    def get_listing():
        return listing.snapshot()


def install_sim_routes(app: FastAPI, store: XCartStore, push: PushNotifier, stats,
                       injector: FaultInjector, token: ModuleToken) -> None:
    """Test/benchmark control surface; no auth, never faulted. `stats`: the app's RequestStats."""
    _customer_routes(app, store)
    _payment_routes(app, store)

    @app.post("/_sim/module")
    def sim_module(cfg: ModuleConfig):
        """Sets the push module's tracking endpoint token."""
        token.value = cfg.token
        return {"token_set": bool(cfg.token)}

    def create(spec: OrderSpec) -> dict[str, Any]:
        try:
            return store.create_order(spec.model_dump())
        except (UnknownStatus, ValueError) as e:
            raise ApiError(400, str(e)) from None

    @app.post("/_sim/orders", status_code=201)
    def sim_create_order(spec: OrderSpec):
        meta = create(spec)
        return {k: meta[k] for k in ("id", "order_number", "created_at_ms")}

    @app.post("/_sim/orders/bulk", status_code=201)
    def sim_bulk(bulk: BulkSpec):
        made = [create(bulk.template) for _ in range(bulk.count)]
        if bulk.detail:
            return [{k: m[k] for k in ("id", "order_number", "created_at_ms")} for m in made]
        return [m["id"] for m in made]

    @app.get("/_sim/orders/{oid}")
    def sim_get_order(oid: int):
        meta = store.sim_meta(oid)
        if meta is None:
            raise ApiError(404, "Not Found")
        return meta

    @app.post("/_sim/orders/{oid}/touch")
    def sim_touch(oid: int):
        meta = store.touch(oid)
        if meta is None:
            raise ApiError(404, "Not Found")
        return meta

    @app.get("/_sim/stats")
    def sim_stats():
        return {"orders": store.order_count(), "profiles": store.profiles.count(), "requests": stats.snapshot(), "push": push.snapshot(),
                "faults_injected": injector.snapshot()["injected"]}

    @app.get("/_sim/push")
    def sim_push_state():
        return push.snapshot()

    @app.post("/_sim/push")
    def sim_push_enable(cfg: PushConfig):
        push.configure(cfg.url, cfg.secret)
        return push.snapshot()

    @app.delete("/_sim/push")
    def sim_push_disable():
        push.disable()
        return push.snapshot()

    @app.get("/_sim/clock")
    def sim_clock():
        return {"offset_seconds": store.clock_offset, "now": store.now()}

    @app.post("/_sim/clock")
    def sim_set_clock(change: ClockChange):
        if change.offset_seconds is not None:
            store.clock_offset = change.offset_seconds
        if change.advance_seconds is not None:
            store.clock_offset += change.advance_seconds
        return {"offset_seconds": store.clock_offset, "now": store.now()}


def _customer_routes(app: FastAPI, store: XCartStore) -> None:
    @app.post("/_sim/profiles", status_code=201)
    def sim_create_profile(spec: ProfileSpec):
        try:
            return store.profiles.create(spec.model_dump())
        except ProfileError as e:
            raise ApiError(400, str(e)) from None

    @app.patch("/_sim/profiles/{pid}")
    def sim_update_profile(pid: int, change: ProfileChange):
        try:
            record = store.profiles.update(pid, change.model_dump(exclude_none=True))
        except ProfileError as e:
            raise ApiError(400, str(e)) from None
        if record is None:
            raise ApiError(404, "Not Found")
        return record


def _payment_routes(app: FastAPI, store: XCartStore) -> None:
    payments = OrderPayments(store)

    def run(call) -> dict[str, Any]:
        try:
            row = call()
        except (TransactionError, UnknownStatus) as e:
            raise ApiError(400, str(e)) from None
        except LookupError as e:
            raise ApiError(404, str(e)) from None
        if row is None:
            raise ApiError(404, "Not Found")
        return row

    @app.post("/_sim/orders/{oid}/transactions", status_code=201)
    def sim_add_transaction(oid: int, spec: TransactionSpec):
        return run(lambda: payments.add(oid, kind=spec.type, status=spec.status, value=spec.value,
                                        method=spec.method, payment_status=spec.payment_status))

    @app.post("/_sim/orders/{oid}/transactions/{tid}/backend", status_code=201)
    def sim_add_backend(oid: int, tid: int, spec: BackendSpec):
        return run(lambda: payments.add_backend(oid, tid, kind=spec.type, status=spec.status, value=spec.value,
                                                payment_status=spec.payment_status))

    @app.patch("/_sim/orders/{oid}/transactions/{tid}")
    def sim_transaction_status(oid: int, tid: int, change: StatusChange):
        return run(lambda: payments.set_status(oid, tid, change.status, payment_status=change.payment_status))

    @app.patch("/_sim/orders/{oid}/transactions/{tid}/backend/{bid}")
    def sim_backend_status(oid: int, tid: int, bid: int, change: StatusChange):
        return run(lambda: payments.set_status(oid, tid, change.status, backend_id=bid,
                                               payment_status=change.payment_status))
