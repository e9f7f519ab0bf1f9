"""The Shift4Shop connector against the Shift4Shop simulator over real HTTP (uvicorn in a thread):
the order and customer feeds, webhook-style fetches, the batched product writes, variants, order
status, tracking, customers and the reconcile ledger."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

import httpx
import pytest

from sagebridge_common.contracts import Change
from sagebridge_common.errors import PermanentError, TransientError
from sagebridge_connectors.shift4shop.config import Shift4ShopStorefrontConfig
from sagebridge_connectors.shift4shop.ledger import Shift4ShopLedger
from sagebridge_connectors.shift4shop.sink import Shift4ShopSink
from sagebridge_connectors.shift4shop.source import Shift4ShopSource
from sagebridge_sim.serve import BackgroundServer
from sagebridge_sim.shift4shop import Credentials, Shift4ShopStore, StoreClock, create_app

ZONE = "America/Los_Angeles"
SECURE_URL, KEY, TOKEN = "https://sim-store.example.com", "sim-private-key", "sim-token"


@pytest.fixture(scope="module")
def sim():
    store = Shift4ShopStore(StoreClock(ZONE))
    app = create_app(store, Credentials(SECURE_URL, KEY, TOKEN))
    server = BackgroundServer(app).start()
    store.catalogue.create({"sku": "MUG", "name": "Mug", "price": "8.00", "stock": 5, "description": "<p>mug</p>"})
    store.catalogue.create({"sku": "TEE", "name": "Tee", "price": "15.00", "stock": 0,
                            "options": [{"code": "11-21", "sku": "TEE-RED-L", "name": "Red L", "stock": 2,
                                         "price": "15.00"}]})
    for i in range(150):
        store.catalogue.create({"sku": f"BULK-{i:03d}", "price": "1.00", "stock": 0})
    yield SimpleNamespace(store=store, app=app, url=server.url, writes=app.state.writes)
    server.stop()


def cfg(sim, **kw) -> Shift4ShopStorefrontConfig:
    base = {"kind": "shift4shop", "api_url": f"{sim.url}/3dCartWebAPI/v1", "secure_url": SECURE_URL,
            "private_key": KEY, "token": TOKEN, "page_size": 20, "overlap_s": 120, "rate_limit_per_s": 1000,
            "rate_limit_burst": 1000, "batch_wait_ms": 300, "max_concurrency": 8}
    return Shift4ShopStorefrontConfig(**(base | kw))


def place(sim, sku="MUG", qty=1, **spec) -> dict:
    return sim.store.orders.place({"items": [{"sku": sku, "quantity": qty}], "email": "buyer@example.test",
                                   "billing": {"first_name": "Bo", "last_name": "Buyer"}, "paid": True, **spec})


def drain(src, stream, cursor):
    out = []
    for _ in range(50):
        page = src.changes(stream, cursor, 25)
        out += page.changes
        cursor = page.cursor
        if not page.has_more:
            return out, cursor
    raise AssertionError("the feed never ended")


def test_the_order_feed_reads_every_order_and_then_only_the_edited_one(sim):
    placed = [place(sim) for _ in range(45)]
    src = Shift4ShopSource(cfg(sim), ZONE)
    changes, cursor = drain(src, "order", None)
    ids = {str(o["OrderID"]) for o in placed}
    assert ids <= {c.entity_id for c in changes}
    assert len(changes) == len({c.entity_id for c in changes})
    sim.store.clock.advance(60)
    sim.store.orders.update(placed[3]["OrderID"], {"InternalComments": "edited in the admin"})
    again, cursor = drain(src, "order", cursor)
    assert [c.entity_id for c in again] == [str(placed[3]["OrderID"])]
    record = src.fetch(again[0])
    assert record.payload["order"]["InternalComments"] == "edited in the admin"
    assert record.occurred_at.tzinfo is timezone.utc
    hook = src.fetch(Change("order", str(placed[3]["OrderID"]), "", datetime.now(timezone.utc)))
    assert hook.version == record.version and hook.payload["order"]["TransactionList"]
    assert drain(src, "order", cursor)[0] == []


def test_the_customer_feed_emits_new_and_changed_customers(sim):
    src = Shift4ShopSource(cfg(sim), ZONE)
    c = sim.store.customers.create({"Email": "feed@example.test", "Password": "x", "BillingFirstName": "Fe"})
    first, cursor = drain(src, "customer", None)
    assert str(c["CustomerID"]) in {ch.entity_id for ch in first}
    sim.store.customers.update(c["CustomerID"], {"BillingFirstName": "Fi"})
    again, _ = drain(src, "customer", cursor)
    assert [ch.entity_id for ch in again] == [str(c["CustomerID"])]
    assert src.fetch(again[0]).payload["customer"]["BillingFirstName"] == "Fi"


def test_150_concurrent_stock_writes_meet_in_two_batch_puts(sim):
    sink = Shift4ShopSink(cfg(sim), ZONE)
    for i in range(150):                     # resolve first: the test is about the writes
        sink.skus.find(f"BULK-{i:03d}")
    since = sim.writes.read()["last_seq"]
    with ThreadPoolExecutor(150) as pool:
        outcomes = list(pool.map(lambda i: sink.set_stock(f"BULK-{i:03d}", Decimal(i + 1)), range(150)))
    assert {o.outcome for o in outcomes} == {"updated"}
    assert sink.batcher.calls == 2
    puts = [w for w in sim.writes.read(since)["writes"] if w["method"] == "PUT" and w["path"].endswith("/Products")]
    assert sorted(w["items"] for w in puts) == [50, 100] and all(w["status"] == 200 for w in puts)
    for i in (0, 77, 149):
        assert sim.store.catalogue.resolve(f"BULK-{i:03d}")[0]["SKUInfo"]["Stock"] == i + 1


def test_a_cold_burst_of_stock_writes_costs_one_count_one_scan_and_two_batch_puts(sim):
    """No SKU resolved beforehand: the first misses scan the (small) catalogue once, so all 150
    writes reach the batcher together instead of twenty single lookups trickling in ahead of it."""
    # a wide batch window: 150 threads started on a loaded machine can take longer than 300 ms to all
    # reach the batcher, and the count of PUTs is what this test is about
    sink = Shift4ShopSink(cfg(sim, page_size=100, batch_wait_ms=2000), ZONE)
    calls: list[tuple[str, str]] = []
    real_call = sink.client.call

    def call(operation, method, path, **kwargs):
        calls.append((operation, method))
        return real_call(operation, method, path, **kwargs)

    sink.client.call = call
    with ThreadPoolExecutor(150) as pool:
        outcomes = list(pool.map(lambda i: sink.set_stock(f"BULK-{i:03d}", Decimal(i + 500)), range(150)))
    assert {o.outcome for o in outcomes} == {"updated"}
    gets = [op for op, method in calls if method == "GET"]
    assert gets == ["count_products", "scan_products", "scan_products", "scan_products"]   # 152 rows: 2 pages + 404
    assert sink.batcher.calls == 2
    assert sim.store.catalogue.resolve("BULK-149")[0]["SKUInfo"]["Stock"] == 649


def test_variant_stock_product_fields_and_an_unknown_sku(sim):
    sink = Shift4ShopSink(cfg(sim), ZONE)
    assert sink.set_stock("TEE-RED-L", Decimal(9)).document_id.endswith("/11-21")
    product, option = sim.store.catalogue.resolve("TEE-RED-L")
    assert option["AdvancedOptionStock"] == 9
    out = sink.update_product({"sku": "MUG", "price": Decimal("9.50"), "description": "<p>mug</p>", "active": False})
    assert out.outcome == "updated"
    mug = sim.store.catalogue.resolve("MUG")[0]
    assert mug["SKUInfo"]["Price"] == Decimal("9.50") and mug["Hide"] is True
    assert sink.update_product({"sku": "MUG", "price": Decimal("9.5"), "active": False}).outcome == "already_present"
    with pytest.raises(PermanentError) as e:
        sink.set_stock("NO-SUCH-SKU", Decimal(1))
    assert e.value.reason == "unknown_sku"


def test_order_status_and_tracking_by_store_number(sim):
    order = place(sim)
    number = f"{order['InvoiceNumberPrefix']}{order['InvoiceNumber']}"
    sink = Shift4ShopSink(cfg(sim), ZONE)
    assert sink.set_order_status(number, order_status="4").outcome == "updated"
    assert sim.store.orders.get(order["OrderID"])["OrderStatusID"] == 4
    assert sink.set_order_status(number, order_status="4").outcome == "already_present"
    assert sink.add_shipment(number, "UPS", "1ZSIM001").outcome == "updated"
    shipped = sim.store.orders.get(order["OrderID"])["ShipmentList"][0]
    assert shipped["ShipmentTrackingCode"].strip() == "1ZSIM001" and shipped["ShipmentShippedDate"]
    assert sink.add_shipment(number, "UPS", "1ZSIM001").outcome == "already_present"
    with pytest.raises(PermanentError) as e:
        sink.set_order_status("AB-999999", order_status="4")
    assert e.value.reason == "unknown_order"


def test_update_customer_writes_only_differences(sim):
    c = sim.store.customers.create({"Email": "erp@example.test", "Password": "x", "BillingFirstName": "Ed",
                                    "BillingLastName": "Erp"})
    sink = Shift4ShopSink(cfg(sim), ZONE)
    out = sink.update_customer({"email": "ERP@example.test", "first_name": "Ed", "last_name": "Erpson",
                                "billing_address": {"city": "Fresno"}})
    assert out.outcome == "updated" and out.message == "BillingCity, BillingLastName"
    assert sim.store.customers.get(c["CustomerID"])["BillingLastName"] == "Erpson"
    assert sink.update_customer({"email": "nobody@example.test"}).outcome == "skipped"


def test_the_ledger_lists_the_window_with_numbers_totals_and_payments(sim):
    order = place(sim, qty=2)
    created = datetime.fromtimestamp(sim.store.orders._orders[order["OrderID"]]["OrderDate"], timezone.utc)
    rule = SimpleNamespace(status="new", ready_for_erp=True, fulfilment="unfulfilled")
    pair = SimpleNamespace(pair="p", storefront=cfg(sim), store_time_zone=ZONE, currency="USD",
                           mapping=SimpleNamespace(order_status={"1": rule, "default": rule}))
    docs = list(Shift4ShopLedger(pair).orders(created - timedelta(seconds=5), created + timedelta(seconds=5)))
    doc = next(d for d in docs if d.order_id == str(order["OrderID"]))
    assert doc.number == f"AB-{order['InvoiceNumber']}" and doc.total == Decimal(str(order["OrderAmount"]))
    assert doc.payments and doc.payments[0].amount == doc.total


def test_wrong_credentials_are_permanent(sim):
    src = Shift4ShopSource(cfg(sim, token="wrong"), ZONE)
    ok, detail = src.ping()
    assert not ok and "401" in detail


def test_a_throttled_batch_put_raises_transient_with_retry_after_to_every_caller(sim):
    sink = Shift4ShopSink(cfg(sim, batch_size=3, batch_wait_ms=2000), ZONE)
    for i in range(3):
        sink.skus.find(f"BULK-{i:03d}")
    sim.app.state.injector.configure(rate_limit_count=1, retry_after_s=2, methods=["PUT"])
    try:
        with ThreadPoolExecutor(3) as pool:
            futures = [pool.submit(sink.set_stock, f"BULK-{i:03d}", Decimal(40 + i)) for i in range(3)]
        errors = [f.exception(10) for f in futures]
    finally:
        sim.app.state.injector.configure(rate_limit_count=0, methods=[])
    assert all(isinstance(e, TransientError) and e.retry_after == 2.0 for e in errors)
    assert sink.set_stock("BULK-001", Decimal(41)).outcome == "updated"      # the retry, after the hold
    assert sim.store.catalogue.resolve("BULK-001")[0]["SKUInfo"]["Stock"] == 41
