"""Issue 8 end to end, for both 3dcart pairs: the Shift4Shop REST simulator (`3dcart-sage300`) and
the legacy 3dcart SOAP simulator (`3dcartsoap-sage300`), each with the Sage 300 simulator (its
tables in SQLite, read by erp-cdc through the SQLite3 ODBC driver) and all five services as real
processes on the session's broker. One stack per pair for the module; the tests use their own
orders, e-mails and Sage items so they can share it, and each waits for a positive signal before it
checks that nothing else happened. The store runs in America/Los_Angeles (8 hours behind UTC in
winter), so a store-local date read as UTC shows up as a wrong day.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from sagebridge_common.topics import STOREFRONT_RESULTS
from sagebridge_sim.sage300.erp_driver import live_on_hand

from .conftest import wait_until
from .threedcart_pair import (PREFIXES, REST, SOAP, ZONE, Sage, TopicReader, dlq_topics, start_stack,
                              store_driver)

SAGEBRIDGE = str(Path(sys.executable).parent / "sagebridge")


class Pair:
    """One running pair: its stack, store driver, Sage views and a reader of results and DLQs."""

    def __init__(self, stack, bootstrap, serde) -> None:
        self.stack, self.id = stack, stack.pair_id
        self.prefix = PREFIXES[self.id]
        self.rest = self.id == REST
        self.store = store_driver(stack)
        self.sage = Sage(stack, self.prefix)
        self.topics = TopicReader(bootstrap, serde, [STOREFRONT_RESULTS, *dlq_topics()])

    def in_sage(self, placed, timeout: float = 60) -> dict:
        [order] = wait_until(lambda: self.sage.orders(placed.number), timeout=timeout,
                             message=f"Sage 300 order {self.prefix}{placed.number}")
        return order

    def store_results(self, entity_type: str, key_prefix: str) -> list[dict]:
        return [v for v in self.topics.of_pair(self.id, STOREFRONT_RESULTS)
                if v["entity_type"] == entity_type and v["source_entity_id"].startswith(key_prefix)]

    def dead_letters(self) -> list[dict]:
        return [v for t, _k, v in self.topics.read() if t.endswith(".dlq")
                and (v.get("metadata") or {}).get("pair_id") == self.id]


@pytest.fixture(scope="module", params=[REST, SOAP], ids=["rest", "soap"])
def pair(request, bootstrap, serde, tmp_path_factory):
    first = {REST: 3000, SOAP: 4000}[request.param]
    stack = start_stack(request.param, bootstrap, tmp_path_factory.mktemp(request.param), first_invoice=first)
    p = Pair(stack, bootstrap, serde)
    try:
        yield p
    finally:
        p.topics.close()
        stack.stop()


def new_email(name: str) -> str:
    return f"{name}.{uuid.uuid4().hex[:8]}@example.com"


def customer_number(email: str) -> str:
    """The shipped pairs' rule (customers.number_rule hash, prefix W, 12 characters), written out
    independently of the code under test."""
    key = email.strip().lower()
    return ("W" + base64.b32encode(hashlib.sha256(key.encode()).digest()).decode().rstrip("="))[:12]


def available(iciloc: dict) -> Decimal:
    stock = {k: Decimal(str(iciloc[k])) for k in ("QTYONHAND", "QTYRENOCST", "QTYADNOCST", "QTYSHNOCST", "QTYCOMMIT")}
    return live_on_hand(stock) - stock["QTYCOMMIT"]


# -- store -> Sage 300 ---------------------------------------------------------------------------

def test_an_order_its_customer_and_payment_become_one_sage_order_customer_and_receipt(pair):
    email = new_email("Nora.Quinn")
    placed = pair.store.place(items=[{"sku": "WIDGET-1", "name": "Widget", "quantity": 2, "unit_price": "11.75",
                                      "option_price": "1.25"}],
                              email=email, first="Nora", last="Quinn", shipping="6.50", tax="1.88", discount="2.00")
    assert placed.total == Decimal("32.38")                      # 2 x (11.75 + 1.25) + 6.50 + 1.88 - 2.00
    sage = pair.in_sage(placed)
    ref = pair.prefix + placed.number                             # the prefix + the FULL invoice number
    assert ref.startswith(pair.prefix + "AB-")
    want = customer_number(email)

    [customer] = wait_until(lambda: pair.sage.customers_with(email), message="the ARCUS row")
    assert customer["CustomerNumber"] == want
    assert customer["Email"] == email.lower()
    assert customer["CustomerName"] == "Nora Quinn"

    assert sage["CustomerNumber"] == want
    assert sage["OrderReference"] == ref and sage["PurchaseOrderNumber"] == ref
    assert sage["BillToName"] == "Nora Quinn"
    if pair.rest:
        assert sage["BillToAddressLine1"] == "9 Elm St" and sage["BillToCity"] == "Albany"
        assert sage["BillToStateProvince"] == "NY" and sage["BillToZipPostalCode"] == "12207"
    items = [d for d in sage["OrderDetails"] if d["LineType"] == "Item"]
    misc = [d for d in sage["OrderDetails"] if d["LineType"] == "Miscellaneous"]
    # the unit price is the item's price plus its option price
    assert [(d["Item"], d["Location"], d["QuantityOrdered"], d["OrderUnitPrice"], d["PriceOverride"])
            for d in items] == [("WIDGET-1", "1", Decimal("2"), Decimal("13.00"), True)]
    assert [(d["MiscellaneousChargesCode"], d["ExtendedAmount"]) for d in misc] == [("FRT", Decimal("6.5"))]
    assert sage["OrderDiscountAmount"] == Decimal("2")
    assert sage["TaxAmount1"] == Decimal("1.88")
    assert sage["OrderTotal"] == Decimal("32.38")
    assert str(sage["OrderDate"])[:10] == placed.date_local       # the store's day, not UTC's

    # the checkout's Sale transaction: one receipt of the order's total for the same customer
    [(batch, receipt)] = wait_until(lambda: pair.sage.receipts(placed.number), message="the receipt")
    assert receipt["CustomerNumber"] == want and receipt["CustomerReceiptAmount"] == Decimal("32.38")
    assert batch["BankCode"] == "SEATAC"                          # Credit Card -> CC -> the default bank
    # the receipt came last: still exactly one order and one customer
    assert len(pair.sage.orders(placed.number)) == 1
    assert len(pair.sage.customers_with(email)) == 1
    assert len(pair.sage.receipts(placed.number)) == 1


# -- Sage 300 -> store ---------------------------------------------------------------------------

def test_stock_and_price_changes_in_sage_end_in_the_store(pair):
    sku = "A1-310/0"
    pair.sage.change("stock", item=sku, location="1", quantity="437", kind="on_hand")
    row = pair.sage.change("stock", item=sku, location="1", quantity="12", kind="receive")
    pair.sage.change("stock", item=sku, location="2", quantity="500", kind="receive")   # not the store's location
    want = available(row)
    assert want == 449
    wait_until(lambda: pair.store.stock(sku) == want, timeout=30, message=f"{sku} stock {want}")
    assert pair.store.price(sku) == Decimal("29.95")               # only the stock changed

    sku = "WIDGET-2"
    pair.sage.change("price", item=sku, price="99.00", price_list="WHSE", currency="USD")   # not the pair's list
    pair.sage.change("price", item=sku, price="16.75", price_list="WEB", currency="USD")
    if pair.rest:
        wait_until(lambda: pair.store.price(sku) == Decimal("16.75"), timeout=30, message=f"{sku} price 16.75")
    else:
        # the SOAP Store Web Service has no price operation: the writer says so and changes nothing
        [skipped] = wait_until(lambda: [r for r in pair.store_results("product", sku) if r["outcome"] == "skipped"],
                               timeout=30, message="the SOAP price write skipped")
        assert "price" in skipped["message"]
        assert pair.store.price(sku) == Decimal("14.99")
    assert not [r for r in pair.store_results("product", sku) if r["outcome"] == "failed"]


def test_a_shipment_with_tracking_and_a_completed_order_in_sage_end_in_the_store(pair):
    shipped = pair.store.place(items=[{"sku": "GADGET-1", "name": "Gadget", "quantity": 2, "unit_price": "24.50"}],
                               email=new_email("Sam.Ship"))
    done = pair.store.place(items=[{"sku": "A1-700/0", "name": "Light Sensor", "quantity": 3, "unit_price": "12.00"}],
                            email=new_email("Cal.Complete"))
    ship_sage, done_sage = pair.in_sage(shipped), pair.in_sage(done)

    first = pair.sage.change("ship", order=ship_sage["OrderNumber"], tracking="1ZIT3DCART0000001",
                             lines=[{"item": "GADGET-1", "quantity": 2}])
    assert first["OESHIH"]["REFERENCE"] == pair.prefix + shipped.number
    wait_until(lambda: pair.store.tracking(shipped) == ["1ZIT3DCART0000001"], timeout=30,
               message="the tracking number on the store order")
    wait_until(lambda: pair.store.status(shipped) == 4, timeout=30, message="store status 4 (Shipped)")

    [committed] = wait_until(lambda: [r for r in pair.sage.rows("ICILOC", ITEMNO="A17000", LOCATION="1")
                                      if Decimal(str(r["QTYCOMMIT"])) >= 3], message="the order's committed stock")
    completed = pair.sage.change("complete", order=done_sage["OrderNumber"])
    assert completed["OEORDH"]["COMPLETE"] == 3
    [given_back] = completed["ICILOC"]
    assert available(given_back) == available(committed) + 3
    wait_until(lambda: pair.store.status(done) == 4, timeout=30, message="completed order: store status 4")
    wait_until(lambda: pair.store.stock("A1-700/0") == available(given_back), timeout=30,
               message="the completed order's stock given back")
    assert pair.store.tracking(done) == []                        # completed without a shipment
    assert not [r for r in pair.store_results("order_status", "") if r["outcome"] == "failed"]


# -- faults --------------------------------------------------------------------------------------

def test_store_429_for_10s_then_503_for_20s_loses_nothing_and_converges(pair):
    skus = ["SPROCKET.10", "SPROCKET.20", "A1-400/0", "GIFTCARD-25"]
    base = {sku: available(pair.sage.change("stock", item=sku, location="1", quantity="200", kind="on_hand"))
            for sku in skus}
    wait_until(lambda: all(pair.store.stock(s) == q for s, q in base.items()), timeout=30, message="the start stock")
    since = max((w["seq"] for w in pair.store.writes()), default=0)
    # the shape, on the store's whole API (writes and the poller's reads alike)
    pair.store.faults(mode="throttle", status=429, seconds=10, retry_after=1)
    switch = threading.Timer(10.0, lambda: pair.store.faults(mode="throttle", status=503, seconds=20, retry_after=2))
    switch.start()
    try:
        want = {}
        for n in range(3):                                        # changes keep coming while the store refuses
            for i, sku in enumerate(skus):
                want[sku] = available(pair.sage.change("stock", item=sku, location="1", quantity=str(300 + 10 * n + i),
                                                       kind="on_hand"))
            time.sleep(4)
        wait_until(lambda: all(pair.store.stock(s) == q for s, q in want.items()), timeout=90,
                   message="every SKU at its latest stock after the throttle")
    finally:
        switch.cancel()
        pair.store.faults(reset=True)
    assert {429, 503} <= pair.store.refused_statuses(since), "the writer met both refusals"
    assert pair.dead_letters() == []
    assert not [r for s in skus for r in pair.store_results("inventory", s) if r["outcome"] == "failed"]


def test_sigkill_of_ingest_and_storefront_writer_mid_flow_misses_nothing_and_the_latest_stock_wins(pair):
    email = new_email("Kit.Kill")
    placed = [pair.store.place(items=[{"sku": "GADGET-2", "name": "Gadget", "quantity": 1, "unit_price": "39.00"}],
                               email=email, registered=False) for _ in range(6)]
    wait_until(lambda: pair.sage.orders(placed[0].number), timeout=60, message="the flow under way")
    pair.stack.services["ingest"].kill()                           # no shutdown hook: the cursor is what was committed
    placed += [pair.store.place(items=[{"sku": "GADGET-2", "name": "Gadget", "quantity": 1, "unit_price": "39.00"}],
                                email=email, registered=False) for _ in range(6)]
    pair.stack.start_service("ingest")

    skus = ["SPROCKET.10", "SPROCKET.20", "A1-400/0", "A1-105/0"]
    since = pair.store.last_write()
    rounds, want = 12, {}
    for n in range(rounds):
        if n == rounds // 2:
            # this burst's writes are landing (500 is its first quantity): kill the writer amid them
            wait_until(lambda: (pair.store.stock(skus[0]) or 0) >= 500, timeout=30, message="stock writes under way")
            pair.stack.services["storefront-writer"].kill()
        for i, sku in enumerate(skus):
            want[sku] = available(pair.sage.change("stock", item=sku, location="1", quantity=str(500 + 10 * n + i),
                                                   kind="on_hand"))
    placed += [pair.store.place(items=[{"sku": "GADGET-2", "name": "Gadget", "quantity": 1, "unit_price": "39.00"}],
                                email=email, registered=False) for _ in range(3)]
    pair.stack.start_service("storefront-writer")

    wait_until(lambda: all(pair.store.stock(s) == q for s, q in want.items()), timeout=60,
               message="the latest quantities in the store")
    # quantities rose with every Sage change: an older one written after a newer would show here
    for sku, written in pair.store.stock_writes(skus, since).items():
        assert written and written == sorted(written) and written[-1] == want[sku], (sku, written)
    numbers = [p.number for p in placed]
    orders = wait_until(lambda: (lambda os: os if len(os) >= len(numbers) else None)(pair.sage.orders(*numbers)),
                        timeout=90, message="every order in Sage 300")
    assert Counter(o["OrderReference"] for o in orders) == Counter({pair.prefix + n: 1 for n in numbers})
    assert pair.dead_letters() == []


def test_sagebridge_reconcile_proves_the_pairs_orders_and_receipts(pair):
    placed = [pair.store.place(items=[{"sku": "WIDGET-1", "name": "Widget", "quantity": 1, "unit_price": "9.99"}],
                               email=new_email("Rita.Recon")) for _ in range(3)]
    for p in placed:
        pair.in_sage(p)
    wait_until(lambda: all(pair.sage.receipts(p.number) for p in placed), timeout=60, message="their receipts")
    now = datetime.now(timezone.utc)
    env = {**os.environ, **pair.stack.service_env("storefront-writer"), **pair.stack.service_env("erp-writer")}
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    window = ["--from", (now - timedelta(hours=1)).isoformat(), "--to", (now + timedelta(minutes=5)).isoformat()]
    done = subprocess.run([SAGEBRIDGE, "reconcile", "--pair", pair.id, "--pairs-path", str(pair.stack.pair_file),
                           *window, "--payments", "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["clean"] is True and report["gaps"] == [], report
    counts = report["counts"]
    # every order this module placed so far, each in Sage once with its total, each paid once
    assert counts["matched"] == len(pair.store.placed) and counts["receipts_matched"] == len(pair.store.placed), report
    assert counts["missing_in_erp"] == counts["duplicated"] == counts["total_mismatch"] == 0, report


# -- store time zone (last: it moves the store's clock forward) ------------------------------------

def next_winter_2330() -> datetime:
    """23:30 Los Angeles time on a winter day (UTC-8) after now, as an aware datetime."""
    today = datetime.now(ZONE).date()
    day = today + timedelta(days=1)
    while day.month not in (12, 1, 2):
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 23, 30, tzinfo=ZONE)


def test_an_order_at_2330_store_time_8h_behind_utc_is_polled_and_dated_in_the_store_day(pair):
    at = next_winter_2330()
    assert at.utcoffset() == timedelta(hours=-8)
    utc = at.astimezone(timezone.utc)
    assert utc.date() == at.date() + timedelta(days=1)            # in UTC it is already the next day
    item = [{"sku": "WIDGET-1", "name": "Widget", "quantity": 1, "unit_price": "9.99"}]

    def place_at(when: datetime, name: str):
        if not pair.rest:
            return pair.store.place(items=item, email=new_email(name), created_utc=when.astimezone(timezone.utc))
        # the store's clock reads `when` (store-local): the order's OrderDate and LastUpdate are then
        pair.store.http.post(f"{pair.store.url}/_sim/clock",
                             json={"local": when.replace(tzinfo=None).isoformat(timespec="seconds")}).raise_for_status()
        return pair.store.place(items=item, email=new_email(name))

    # first an order ten minutes earlier: the poll's cursor is then 23:20 store time, 07:20 UTC of
    # the next day, so a window taken as the cursor's UTC date (lastupdatestart is a store-local
    # DATE) would start a day late and never see the 23:30 order
    earlier = place_at(at - timedelta(minutes=10), "Eve.Early")
    pair.in_sage(earlier)
    placed = place_at(at, "Lou.Late")
    assert placed.date_local == at.date().isoformat()
    sage = pair.in_sage(placed, timeout=30)
    assert str(sage["OrderDate"])[:10] == at.date().isoformat(), sage["OrderDate"]
    assert str(sage["OrderDate"])[:10] != utc.date().isoformat()
