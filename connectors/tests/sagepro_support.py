"""Shared helpers of the Sage Pro connector tests: a pair pointed at a test database, canonical
documents, and reads of the rows the writer left."""
from __future__ import annotations

import itertools
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyodbc
import yaml

from sagebridge_common.pairs import PairConfig, load_pair_file
from sagebridge_sim.sagepro.schema import create_schema

SHIPPED_PAIR = Path(__file__).resolve().parents[2] / "pairs" / "xcart-sagepro.yaml"
WHEN = datetime(2024, 11, 6, 2, 30, tzinfo=timezone.utc)      # 5 November in New York
_n = itertools.count(1)


def fresh_database(cluster, layout=None) -> str:
    """A new database in the cluster with the Sage Pro tables; its ODBC string."""
    odbc = cluster.create_database(f"sp{next(_n)}")
    conn = pyodbc.connect(odbc, autocommit=False)
    create_schema(conn, layout=layout)
    conn.close()
    return odbc


def make_pair(tmp_path: Path, odbc: str, dialect: str = "postgres", **erp: Any) -> PairConfig:
    data = yaml.safe_load(SHIPPED_PAIR.read_text())
    data["storefront"] = {"kind": "xcart", "base_url": "http://127.0.0.1:9"}
    data["erp"] = {**{k: v for k, v in data["erp"].items() if not isinstance(v, str) or "${" not in v},
                   "connection_string": odbc, "dialect": dialect, "company": "01", "lock_timeout_s": 2,
                   "max_connections": 4, "retry_backoff_s": 0.05, **erp}
    data["erp"].pop("location", None)
    data["erp"]["change_capture"] = None
    path = tmp_path / f"pair-{next(_n)}.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_pair_file(path)


def address(**over) -> dict:
    a = {"name": "Ann Lee", "company": None, "line1": "1 Main Street", "line2": "Apt 4", "city": "New York",
         "region": "New York", "postal_code": "10001", "country": "US", "phone": "212-555-0100", "email": None,
         "region_code": "NY", "erp_country": "USA"}
    return {**a, **over}


def order(number: str = "1001", erp_id: str = "WABC", **over) -> dict:
    """2 x 19.99 less 4.00 on the line (35.98) + shipping 5 (freight) + handling 2 (a HANDLING line)
    - coupon 3 (disc) + tax 0.88 = 40.86."""
    o = {"order_id": f"id-{number}", "order_number": number, "ordered_at": WHEN, "currency": "USD",
         "customer": {"email": "ann@example.com", "email_key": "ann@example.com", "erp_customer_id": erp_id,
                      "first_name": "Ann", "last_name": "Lee", "phone": None, "new_customer_number": None},
         "billing_address": address(), "shipping_address": address(), "ship_via_code": "UPS-GROUND", "notes": None,
         "lines": [{"line_id": "1", "sku": "A100", "item_number": "A100", "name": "Widget", "location_code": "MAIN",
                    "quantity": Decimal("2"), "unit_price": Decimal("19.99"), "discount": Decimal("4.00"),
                    "line_total": Decimal("35.98")}],
         "charges": [{"kind": "shipping", "code": None, "placement": "header", "amount": Decimal("5.00"),
                      "description": "UPS Ground"},
                     {"kind": "handling", "code": "HANDLING", "placement": "line", "amount": Decimal("2.00"),
                      "description": "Handling"},
                     {"kind": "discount", "code": None, "placement": "header", "amount": Decimal("3.00"),
                      "description": "coupon SAVE3"}],
         "subtotal": Decimal("39.98"), "discount_total": Decimal("3.00"), "shipping_total": Decimal("5.00"),
         "tax_total": Decimal("0.88"), "total": Decimal("40.86"), "tax_mode": "store", "rate_type": None}
    return {**o, **over}


def customer(email: str = "Ann@Example.com", number: str | None = None, **over) -> dict:
    c = {"customer_id": "7", "email": email, "email_key": email.strip().lower(), "first_name": "Ann",
         "last_name": "Lee", "company": None, "phone": "212-555-0100", "is_guest": False,
         "billing_address": address(), "shipping_address": None, "erp_customer_id": None,
         "new_customer_number": number}
    return {**c, **over}


def rows(odbc: str, sql: str, *params) -> list[dict]:
    conn = pyodbc.connect(odbc, autocommit=True)
    try:
        cur = conn.cursor().execute(sql, *params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]
    finally:
        conn.close()
