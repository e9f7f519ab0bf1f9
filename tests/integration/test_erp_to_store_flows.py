"""Sage 300 -> X-Cart on the whole running stack: changes made inside Sage 300 (through the Sage
simulator's ERP-side driver, `/_sim/erp/*`, which writes the company tables as Sage's screens do)
are captured by erp-cdc from the simulator's SQLite database through the SQLite3 ODBC driver,
transformed, and written by storefront-writer to the X-Cart simulator, whose state is then read
field by field (products and orders through the REST API, the write log `/_sim/writes`).

The stack is the session's (conftest `stack`), shared with the store -> ERP tests: each test here
uses Sage items that no other test's orders touch, and puts back what it changes. Shipments and
completion need an order that went store -> Sage first, so its REFERENCE names a store order.
"""
from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from sagebridge_common.topics import STOREFRONT_RESULTS
from sagebridge_sim.sage300.erp_driver import live_on_hand

from .conftest import read_all, wait_until

PREFIX = "XC1-"          # the shipped pair's reference_prefix


class ErpSide:
    """The Sage simulator's ERP-side driver and the X-Cart simulator's state, for these tests."""

    def __init__(self, stack, sims) -> None:
        self.stack, self.sims, self.http = stack, sims, sims.http
        self.headers = {"X-Auth-Token": stack.xcart_read_token, "Accept": "application/json"}
        self._ids: dict[str, int] = {}

    def change(self, route: str, **body) -> dict:
        r = self.http.post(f"{self.stack.sage_url}/_sim/erp/{route}", json=body)
        assert r.status_code < 300, r.text
        return r.json()

    def product(self, sku: str) -> dict:
        """The store's product record of `sku`, read through the REST API as a merchant would see it."""
        if sku not in self._ids:
            r = self.http.get(f"{self.stack.xcart_url}/api/products", params={"itemsPerPage": 100},
                              headers=self.headers)
            r.raise_for_status()
            self._ids |= {p["sku"]: p["id"] for p in r.json()}
        r = self.http.get(f"{self.stack.xcart_url}/api/products/{self._ids[sku]}", headers=self.headers)
        r.raise_for_status()
        return r.json()

    def writes(self, kind: str, key: str) -> list[dict]:
        r = self.http.get(f"{self.stack.xcart_url}/_sim/writes", params={"kind": kind, "key": key})
        r.raise_for_status()
        return r.json()["writes"]

    def order(self, order_id: int) -> dict:
        """The X-Cart order as the REST API gives it (shipping status, tracking numbers)."""
        r = self.http.get(f"{self.stack.xcart_url}/api/orders/{order_id}", headers=self.headers)
        r.raise_for_status()
        return r.json()

    def product_becomes(self, sku: str, message: str, **fields) -> dict:
        """The X-Cart product once every given field has the given value."""
        def matches():
            record = self.product(sku)
            return record if all(record[k] == v for k, v in fields.items()) else None
        return wait_until(matches, timeout=30, message=f"{sku}: {message}")

    def in_sage(self, store_order: dict) -> dict:
        """The Sage 300 order the store order became (the existing store -> ERP flow)."""
        ref = PREFIX + store_order["order_number"]
        [sage] = wait_until(lambda: [o for o in self.sims.sage_orders() if o["OrderReference"] == ref],
                            timeout=60, message=f"Sage 300 order {ref}")
        return sage


def available(iciloc: dict) -> int:
    """What the pair's `inventory.quantity: available` shows: live on-hand minus committed."""
    stock = {k: Decimal(str(iciloc[k])) for k in ("QTYONHAND", "QTYRENOCST", "QTYADNOCST", "QTYSHNOCST", "QTYCOMMIT")}
    return int(live_on_hand(stock) - stock["QTYCOMMIT"])


@pytest.fixture(scope="module")
def erp(stack, sims):
    return ErpSide(stack, sims)


def test_stock_change_in_iciloc_sets_the_xcart_amount(erp):
    sku = "A1-310/0"                          # ICILOC keys on A13100; the store SKU is the formatted number
    erp.change("stock", item=sku, location="1", quantity="437", kind="on_hand")
    row = erp.change("stock", item=sku, location="1", quantity="12", kind="receive")
    assert row["ITEMNO"] == "A13100" and Decimal(row["QTYRENOCST"]) >= 12
    erp.change("stock", item=sku, location="2", quantity="500", kind="receive")   # location 2 is not the store's

    record = erp.product_becomes(sku, "amount 449", amount=449)
    assert available(row) == 449
    assert record["price"] == 29.95 and record["enabled"] is True        # only the stock changed
    last = erp.writes("product", sku)[-1]
    assert last["method"] == "PUT" and last["path"] == f"/api/products/{record['id']}"
    assert last["body"] == {"amount": 449} and last["ok"] is True


def test_web_price_change_sets_the_xcart_price_and_other_price_lists_do_not(erp):
    sku = "WIDGET-2"
    erp.change("price", item=sku, price="99.00", price_list="WHSE", currency="USD")   # not the pair's list
    erp.change("price", item=sku, price="16.75", price_list="WEB", currency="USD")

    record = erp.product_becomes(sku, "price 16.75", price=16.75)
    assert record["enabled"] is True and record["name"] == "Widget, deluxe"
    bodies = [w["body"] for w in erp.writes("product", sku)]
    assert {"price": 16.75} in bodies
    assert not [b for b in bodies if b.get("price") == 99.0]
    erp.change("price", item=sku, price="14.99", price_list="WEB", currency="USD")    # the demo price again
    erp.product_becomes(sku, "price 14.99 again", price=14.99)


def test_item_made_inactive_disables_the_xcart_product_and_active_enables_it(erp):
    sku = "SPROCKET.10"
    erp.change("item", item=sku, changes={"INACTIVE": 1})
    record = erp.product_becomes(sku, "disabled", enabled=False)
    assert record["price"] == 3.40 and record["sku"] == sku
    assert {"enabled": False} in [w["body"] for w in erp.writes("product", sku)]

    erp.change("item", item=sku, changes={"INACTIVE": 0})
    erp.product_becomes(sku, "enabled again", enabled=True)


def test_shipments_with_tracking_reach_the_xcart_order_and_its_stock(erp, sims, bootstrap, serde):
    made = sims.order(items=[{"sku": "GADGET-1", "name": "Gadget, small", "price": "24.50", "amount": 2},
                             {"sku": "CABLE-USB-C", "name": "USB-C cable", "price": "7.99", "amount": 1}])
    sage = erp.in_sage(made)
    number = made["order_number"]

    first = erp.change("ship", order=sage["OrderNumber"], tracking="1ZIT0000000000001",
                       lines=[{"item": "GADGET-1", "quantity": 2}])
    assert first["OESHIH"]["REFERENCE"] == PREFIX + number and first["OEORDH"]["COMPLETE"] == 1
    order = wait_until(lambda: (o := erp.order(made["id"]))["tracking_numbers"] and o,
                       timeout=30, message="the first tracking number")
    assert [t["value"] for t in order["tracking_numbers"]] == ["1ZIT0000000000001"]
    wait_until(lambda: erp.order(made["id"])["shipping_status"]["code"] == "P", timeout=30,
               message="shipping status P (partially shipped)")
    [gadget] = first["ICILOC"]
    erp.product_becomes("GADGET-1", "stock after the shipment", amount=available(gadget))

    second = erp.change("ship", order=sage["OrderNumber"], tracking="1ZIT0000000000002")
    assert second["OEORDH"]["COMPLETE"] == 3                    # nothing outstanding: the order is complete
    order = wait_until(lambda: (o := erp.order(made["id"]))["shipping_status"]["code"] == "S"
                       and len(o["tracking_numbers"]) == 2 and o, timeout=30, message="shipped with both numbers")
    assert [t["value"] for t in order["tracking_numbers"]] == ["1ZIT0000000000001", "1ZIT0000000000002"]
    assert order["payment_status"]["code"] == "P"               # the pair sets only the shipping status
    [cable] = second["ICILOC"]
    erp.product_becomes("CABLE-USB-C", "stock after the second shipment", amount=available(cable))

    results = [v for m in read_all(bootstrap, STOREFRONT_RESULTS, idle=0.5)
               for _n, v in [serde.deserialize(m.value())] if v["source_entity_id"] == number]
    shipments = [r for r in results if r["entity_type"] == "shipment"]
    # one shipment event per OESHIH/OESHID row version: each number is added once, its repeats are
    # already present in the store
    assert sorted(r["outcome"] for r in shipments if r["outcome"] != "already_present") == ["updated", "updated"]
    assert all(r["target_system"] == "xcart" and r["reference"] == str(made["id"]) for r in shipments)
    statuses = [r["outcome"] for r in results if r["entity_type"] == "order_status"]
    assert "updated" in statuses and "failed" not in statuses
    assert [w["body"] for w in erp.writes("shipping_status", str(made["id"]))] == [{"code": "P"}, {"code": "S"}]


def test_order_completed_in_sage_is_shipped_in_xcart_and_its_stock_given_back(erp, sims):
    sku = "A1-700/0"
    made = sims.order(items=[{"sku": sku, "name": "Light Sensor", "price": "12.00", "amount": 3}])
    sage = erp.in_sage(made)
    [committed] = wait_until(lambda: [r for r in erp.http.get(f"{erp.stack.sage_url}/_sim/erp/rows/ICILOC",
                                                              params={"ITEMNO": "A17000", "LOCATION": "1"}).json()
                                      if Decimal(r["QTYCOMMIT"]) >= 3], message="the order's committed stock")
    erp.product_becomes(sku, "stock with the order committed", amount=available(committed))

    done = erp.change("complete", order=sage["OrderNumber"])
    assert done["OEORDH"]["COMPLETE"] == 3
    [given_back] = done["ICILOC"]
    assert available(given_back) == available(committed) + 3
    order = wait_until(lambda: (o := erp.order(made["id"]))["shipping_status"]["code"] == "S" and o,
                       timeout=30, message="shipping status S (complete)")
    assert order["tracking_numbers"] == []                       # completed without a shipment
    erp.product_becomes(sku, "stock given back", amount=available(given_back))
    assert [w["body"] for w in erp.writes("shipping_status", str(made["id"]))] == [{"code": "S"}]
