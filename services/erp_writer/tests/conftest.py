"""A Sage 300 simulator over real HTTP for the connector's tests, and pairs pointing at it."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from sagebridge_common.pairs import PairConfig, load_pair_file
from sagebridge_sim.faults import FaultInjector
from sagebridge_sim.sage300 import Sage300Database, create_app
from sagebridge_sim.serve import BackgroundServer

PASSWORD = "pw-for-tests"
SHIPPED_PAIR = Path(__file__).resolve().parents[3] / "pairs" / "xcart-sage300.yaml"


@pytest.fixture(scope="module")
def sage(tmp_path_factory):
    db = Sage300Database(str(tmp_path_factory.mktemp("sage") / "sage.sqlite"))
    db.create_schema()
    db.seed_demo()
    injector = FaultInjector()
    with BackgroundServer(create_app(db, password=PASSWORD, injector=injector)) as server:
        server.db, server.injector = db, injector
        yield server


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
