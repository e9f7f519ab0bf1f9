"""The Sage 300 simulator over real HTTP (its tables behind the real ODBC driver) for the Sage 300
connector's customer, order, receipt, journal and adjustment tests, and canonical v2/v3 documents."""
from __future__ import annotations

import itertools
import time
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import yaml

from sagebridge_common.pairs import PairConfig, load_pair_file
from sagebridge_sim.faults import FaultInjector
from sagebridge_sim.sage300 import Sage300Database, create_app
from sagebridge_sim.serve import BackgroundServer

PASSWORD = "pw-for-connector-tests"
SHIPPED_PAIR = Path(__file__).resolve().parents[2] / "pairs" / "xcart-sage300.yaml"
API = "/Sage300WebApi/v1.0/-/SAMINC/"
WHEN = datetime(2024, 11, 6, 2, 30, tzinfo=timezone.utc)      # 5 November in New York

_n = itertools.count()


def unique(tag: str = "") -> str:
    """Short unique numbers: tests share one simulator per module."""
    return f"{tag}{int(time.time()) % 100000:05d}{next(_n):03d}"


@pytest.fixture(scope="module")
def sage(tmp_path_factory):
    db = Sage300Database(str(tmp_path_factory.mktemp("sage") / "sage.sqlite"))
    db.create_schema()
    db.seed_demo()
    injector = FaultInjector()
    with BackgroundServer(create_app(db, password=PASSWORD, injector=injector)) as server:
        server.db, server.injector = db, injector
        yield server


@pytest.fixture(autouse=True)
def clean_faults(sage):
    sage.injector.configure(reset=True)
    yield
    sage.injector.configure(reset=True)


@pytest.fixture
def make_pair(sage, tmp_path):
    """The shipped pair file with the erp block pointed at the simulator (plus overrides)."""
    def make(prefix: str = "XC1-", zone: str = "America/New_York", **erp) -> PairConfig:
        data = yaml.safe_load(SHIPPED_PAIR.read_text())
        data.update(reference_prefix=prefix, store_time_zone=zone)
        data["storefront"] = {"kind": "xcart", "base_url": "http://127.0.0.1:9"}
        data["erp"] = {"kind": "sage300", "base_url": sage.url, "company": "SAMINC", "user": "WEBAPI",
                       "password": PASSWORD, "timeout_s": 5, **erp}
        path = tmp_path / f"pair-{len(list(tmp_path.iterdir()))}.yaml"
        path.write_text(yaml.safe_dump(data))
        return load_pair_file(path)
    return make


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def api(sage, method: str, path: str, **kw) -> httpx.Response:
    return httpx.request(method, f"{sage.url}{API}{path}", auth=("WEBAPI", PASSWORD),
                         headers={"Content-Type": "application/json"}, **kw)


def api_calls(sage) -> int:
    return sum(r["count"] for r in httpx.get(f"{sage.url}/_sim/stats").json()["requests"])


def wait_for(check, what: str, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def address(**over) -> dict:
    a = {"name": "Ann Lee", "company": None, "line1": " 1 Main Street ", "line2": "Apt 4", "city": "New York",
         "region": "New York", "postal_code": "10001", "country": "US", "phone": "212-555-0100", "email": None,
         "region_code": "NY", "erp_country": "USA"}
    return {**a, **over}


def order_customer(email: str, erp_id: str | None = "WEBCUST", **over) -> dict:
    c = {"storefront_customer_id": "7", "email": email, "email_key": email.strip().lower(), "first_name": "Ann",
         "last_name": "Lee", "phone": "212-555-0100", "is_guest": False, "erp_customer_id": erp_id,
         "new_customer_number": None}
    return {**c, **over}


def customer(email: str, number: str, **over) -> dict:
    """A v2 Customer."""
    c = {"customer_id": "7", "email": email, "email_key": email.strip().lower(), "first_name": "Ann",
         "last_name": "Lee", "company": None, "phone": "212-555-0100", "is_guest": False,
         "billing_address": address(), "shipping_address": None, "erp_customer_id": None,
         "new_customer_number": number, "created_at": WHEN, "updated_at": WHEN, "source_version": "1"}
    return {**c, **over}


def D(text: str) -> Decimal:
    return Decimal(text)


def payment(order_number: str, txn: str, customer_number: str = "WEBCUST", **over) -> dict:
    """A v2 Payment whose customer the writer has resolved."""
    p = {"order_id": f"id-{order_number}", "order_number": order_number, "transaction_id": txn,
         "customer": order_customer("ann@example.com", customer_number), "method": "Credit Card",
         "method_code": "CC", "amount": D("64.8700"), "currency": "USD", "captured_at": WHEN,
         "bank_code": "SEATAC", "receipt_type": "Prepayment", "fee_amount": None, "fee_expense_account": None,
         "fee_clearing_account": None}
    return {**p, **over}


def refund(order_number: str, refund_id: str, customer_number: str = "WEBCUST", **over) -> dict:
    """A v2 Refund whose customer the writer has resolved."""
    r = {"order_id": f"id-{order_number}", "order_number": order_number, "refund_id": refund_id,
         "payment_transaction_id": "t1", "customer": order_customer("ann@example.com", customer_number),
         "amount": D("10.0000"), "currency": "USD", "paid_total": D("64.8700"), "refunded_total": D("10.0000"),
         "lines": [], "reason": "Damaged in transit", "refunded_at": WHEN, "gl_account": "4030",
         "distribution_code": None}
    return {**r, **over}


def canonical_order(number: str = "1001", sku: str = "WIDGET-1", customer: str = "WEBCUST",
                    ordered_at: datetime = datetime(2024, 11, 5, 15, 0, tzinfo=timezone.utc),
                    total: Decimal | None = None) -> dict:
    """A canonical order as transform emits it: 3 × 19.99 + 5 shipping − 1 discount + 0.88 tax."""
    computed = Decimal("3") * Decimal("19.99") + 5 - 1 + Decimal("0.88")
    return {"order_id": f"id-{number}", "order_number": number, "ordered_at": ordered_at,
            "currency": "USD", "customer": {"erp_customer_id": customer, "email": "a@b.com"},
            "billing_address": {"name": "Ann Lee", "line1": "1 Main", "line2": None, "city": "NYC", "region": "NY",
                                "postal_code": "10001", "country": "US", "phone": "555"},
            "shipping_address": None, "ship_via_code": "UPSGRD", "notes": None, "shipping_method": "UPS Ground",
            "discount_total": Decimal("1.0000"), "tax_total": Decimal("0.8800"), "shipping_total": Decimal("5.0000"),
            "total": computed if total is None else total,
            "lines": [{"sku": sku, "name": "Widget", "location_code": "1", "quantity": Decimal("3.0000"),
                       "unit_price": Decimal("19.9900")}]}
