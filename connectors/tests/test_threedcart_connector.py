"""The threedcart (legacy SOAP) connector against the Store Web Service simulator over real HTTP:
zeep loads the connector's own WSDL, the simulator answers on a free loopback port."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml
from pydantic import ValidationError

from sagebridge_common import registry
from sagebridge_common.contracts import Change
from sagebridge_common.errors import PermanentError, TransientError
from sagebridge_common.pairs import load_pair_file
from sagebridge_connectors.threedcart import (ThreeDCartLedger, ThreeDCartSink, ThreeDCartSource,
                                              ThreeDCartStorefrontConfig)
from sagebridge_connectors.threedcart.client import ThreeDCartClient
from sagebridge_sim.faults import FaultInjector
from sagebridge_sim.serve import BackgroundServer, free_port
from sagebridge_sim.threedcart import ThreeDCartStore, create_app
from sagebridge_sim.threedcart.store import Item

STORE, KEY = "shop.example.com", "0123456789abcdef0123456789abcdef"
ZONE = ZoneInfo("America/New_York")
VERSION = re.compile(r"^\d{16}\|[0-9a-f]{16}$")


@pytest.fixture
def sim():
    store = ThreeDCartStore()
    store.add_product("1003K", "Tote Bag", Decimal("28.34"), 10)
    injector = FaultInjector()
    with BackgroundServer(create_app(store, store_url=STORE, user_key=KEY, injector=injector)) as server:
        server.store, server.injector = store, injector
        server.admin = httpx.Client(base_url=server.url, timeout=5)
        yield server
        server.admin.close()


def config(sim, **kw) -> ThreeDCartStorefrontConfig:
    base = {"kind": "threedcart", "service_url": f"{sim.url}/cart.asmx", "store_url": STORE, "user_key": KEY,
            "timeout_s": 5, "rate_limit_per_s": 1000, "rate_limit_burst": 1000}
    return ThreeDCartStorefrontConfig(**{**base, **kw})


def place(sim, n: int = 1, **kw) -> list:
    return [sim.store.place_order(email="max@example.com",
                                  items=[Item("1003K", "Tote Bag", Decimal(2), Decimal("750.00"), Decimal("0.16"))],
                                  **kw) for _ in range(n)]


def drain(source: ThreeDCartSource, cursor: str | None, limit: int = 100):
    """Pages until has_more is false; (changes, cursor, pages)."""
    out, pages = [], 0
    while True:
        page = source.changes("order", cursor, limit)
        out += page.changes
        cursor, pages = page.cursor, pages + 1
        if not page.has_more:
            return out, cursor, pages


# -- config and registration ------------------------------------------------------------------------
def test_registered_and_strict_config(sim):
    assert registry.config_model("storefront", "threedcart") is ThreeDCartStorefrontConfig
    cfg = config(sim)
    assert KEY not in repr(cfg) and cfg.wsdl.endswith("threedcart/wsdl/cart.wsdl")
    assert cfg.status_texts["4"] == "Shipped" and cfg.batch_size == 100 and cfg.recheck_days == 3
    with pytest.raises(ValidationError):
        config(sim, api_url="x")
    with pytest.raises(ValidationError):
        config(sim, batch_size=101)


def test_remote_wsdl_is_read_through_the_transport(sim):
    client = ThreeDCartClient(config(sim, wsdl_url=f"{sim.url}/cart.asmx?WSDL", service_url="http://127.0.0.1:9/x"))
    # the served WSDL's own address is ignored: service_url wins (port 9 refuses)
    with pytest.raises(TransientError):
        client.call("getOrderCount", startFrom=False)


# -- source --------------------------------------------------------------------------------------------
def test_new_orders_by_invoice_keyset(sim):
    made = place(sim, 5)
    source = ThreeDCartSource(config(sim, batch_size=2, recheck_days=0), ZONE)
    first = source.changes("order", None, 100)
    assert [c.entity_id for c in first.changes] == ["1", "2"] and first.has_more
    assert json.loads(first.cursor)["last"] == f"AB-{made[1].number}"
    rest, cursor, pages = drain(source, first.cursor)
    assert [c.entity_id for c in rest] == ["3", "4", "5"] and pages == 2
    assert json.loads(cursor)["last"] == f"AB-{made[4].number}" and "sweep" not in json.loads(cursor)
    again = source.changes("order", cursor, 100)
    assert again.changes == [] and not again.has_more
    place(sim, 1)
    assert [c.entity_id for c in source.changes("order", cursor, 100).changes] == ["6"]
    getorder_calls = [w for w in sim.admin.get("/_sim/stats").json()["getOrder"]]
    assert "ok" in getorder_calls


def test_change_versions_and_listing(sim):
    (o,) = place(sim)
    change = ThreeDCartSource(config(sim), ZONE).changes("order", None, 10).changes[0]
    assert VERSION.match(change.version)
    assert int(change.version[:16]) == int(o.last_update.timestamp())
    assert change.occurred_at == o.last_update
    assert change.listing["InvoiceNumber"] == f"AB-{o.number}"


def test_start_at_skips_older_orders(sim):
    now = sim.store.now()
    place(sim, 2, created_at=now - timedelta(hours=5))
    (late,) = place(sim, 1, created_at=now)
    source = ThreeDCartSource(config(sim, start_at=now - timedelta(hours=1), recheck_days=0), ZONE)
    changes, _, _ = drain(source, None)
    assert [c.entity_id for c in changes] == [str(late.order_id)]


def test_recheck_sweep_emits_status_changes_only(sim):
    orders = place(sim, 3)
    source = ThreeDCartSource(config(sim, batch_size=10), ZONE)
    seen, cursor, _ = drain(source, None)
    assert len(seen) == 3
    # a full sweep with no change emits nothing
    quiet = source.changes("order", cursor, 10)
    assert quiet.changes == []
    sim.store.clock_offset += 60
    sim.admin.post(f"/_sim/orders/AB-{orders[1].number}/status", json={"status_id": 4})
    page = source.changes("order", quiet.cursor, 10)
    assert [c.entity_id for c in page.changes] == [str(orders[1].order_id)]
    assert page.changes[0].listing["OrderStatus"] == "Shipped"
    assert page.changes[0].version > next(c.version for c in seen if c.entity_id == str(orders[1].order_id))
    assert source.changes("order", page.cursor, 10).changes == []


def test_restart_re_emits_the_window_with_the_same_versions(sim):
    place(sim, 3)
    source = ThreeDCartSource(config(sim, batch_size=10), ZONE)
    seen, cursor, _ = drain(source, None)
    quiet = source.changes("order", cursor, 10)
    assert quiet.changes == []
    cursor = quiet.cursor
    restarted = ThreeDCartSource(config(sim, batch_size=10), ZONE)
    again = restarted.changes("order", cursor, 10).changes
    # memory is gone: the window comes once more, with versions the version gate already holds
    assert {(c.entity_id, c.version) for c in again} == {(c.entity_id, c.version) for c in seen}
    assert restarted.changes("order", restarted._returned, 10).changes == []


def test_an_undelivered_page_is_listed_again(sim):
    place(sim, 2)
    source = ThreeDCartSource(config(sim, batch_size=10), ZONE)
    _, cursor, _ = drain(source, None)
    source.changes("order", cursor, 10)                 # sweep page, delivered: the runtime saves its cursor
    older = source.changes("order", cursor, 10)         # handed the older cursor again: memory is dropped
    assert len(older.changes) == 2


def test_fetch_payload_shape(sim):
    sim.store.place_order(email="max@example.com", shipments=2, status_id=2,
                          items=[Item("1003K", "Tote Bag", Decimal(1), Decimal("1500.00"), Decimal("0.16")),
                                 Item("1004", "Cap", Decimal(3), Decimal("5.00"))])
    source = ThreeDCartSource(config(sim), ZONE)
    change = source.changes("order", None, 10).changes[0]
    record = source.fetch(change)
    payload = record.payload
    assert set(payload) == {"order", "status_id"} and payload["status_id"] == "2"
    order = payload["order"]
    assert order["InvoiceNumber"] == "AB-1000" and order["OrderStatus"] == "Processing"
    assert order["Total"] == "1,515.16"
    assert isinstance(order["Transaction"], list) and order["Transaction"][0]["Amount"] == "1,515.16"
    assert order["Promotions"] == {"Promotion": []} and order["CheckoutQuestions"] == {"Question": []}
    assert [s["ShipmentID"] for s in order["ShippingInformation"]["Shipment"]] == ["1", "2"]
    items = order["ShippingInformation"]["OrderItems"]["Item"]
    assert [(i["ProductID"], i["OptionPrice"]) for i in items] == [("1003K", "0.16"), ("1004", "0.00")]
    assert order["BillingAddress"]["Address2"] == "" and order["Comments"]["OrderComment"] == ""
    assert record.entity_id == "1" and record.version == change.version


def test_single_children_are_still_lists(sim):
    place(sim)
    order = ThreeDCartSource(config(sim), ZONE).changes("order", None, 10).changes[0].listing
    assert len(order["ShippingInformation"]["Shipment"]) == 1
    assert len(order["ShippingInformation"]["OrderItems"]["Item"]) == 1
    assert len(order["Transaction"]) == 1


def test_fetch_of_a_missing_order_is_unknown_order(sim):
    source = ThreeDCartSource(config(sim), ZONE)
    with pytest.raises(PermanentError) as e:
        source.fetch_order("AB-4242")
    assert e.value.reason == "unknown_order"
    with pytest.raises(PermanentError) as e:
        source.fetch(Change("order", "17", "0|0", datetime.now(timezone.utc)))
    assert e.value.reason == "threedcart_no_invoice"


def test_fetch_reads_the_order_and_its_status_id(sim):
    (o,) = place(sim, status_id=11)
    source = ThreeDCartSource(config(sim), ZONE)
    change = source.changes("order", None, 10).changes[0]
    sim.store.clock_offset += 30
    sim.admin.post(f"/_sim/orders/AB-{o.number}/status", json={"status_id": 2})
    record = source.fetch(change)                      # read afresh: the newer state, not the listing's
    assert (record.payload["order"]["OrderStatus"], record.payload["status_id"]) == ("Processing", "2")
    assert record.version > change.version
    assert source.client.calls["getOrderStatus"] == 1


# -- error mapping ---------------------------------------------------------------------------------------
def test_error_codes_map_to_permanent_reasons(sim):
    assert ThreeDCartSource(config(sim, user_key="f" * 32), ZONE).ping()[0] is False
    with pytest.raises(PermanentError) as e:
        ThreeDCartClient(config(sim, user_key="f" * 32)).call("getOrderCount", startFrom=False)
    assert e.value.reason == "threedcart_login"
    sim.admin.post("/_sim/settings", json={"api_enabled": False})
    with pytest.raises(PermanentError) as e:
        ThreeDCartClient(config(sim)).call("getOrderCount", startFrom=False)
    assert e.value.reason == "threedcart_api_disabled"
    sim.admin.post("/_sim/settings", json={"api_enabled": True})
    with pytest.raises(PermanentError) as e:
        ThreeDCartClient(config(sim)).call("getOrder", batchSize=100, startNum=0, startFrom=False)
    assert e.value.reason == "refused_value" and "34" in str(e.value)


def test_throttling_and_outages_are_transient(sim):
    client = ThreeDCartClient(config(sim))
    sim.injector.configure(rate_limit_count=1, retry_after_s=2)
    with pytest.raises(TransientError) as e:
        client.call("getOrderCount", startFrom=False)
    assert e.value.retry_after == 2 and e.value.reason == "throttled"
    sim.injector.configure(error_status=500, error_count=1)
    with pytest.raises(TransientError) as e:
        client.call("getOrderCount", startFrom=False)
    assert e.value.reason == "http_5xx"
    assert client.call("getOrderCount", startFrom=False)[1] == {"Quantity": "0"}
    dead = ThreeDCartClient(config(sim, service_url=f"http://127.0.0.1:{free_port()}/cart.asmx"))
    with pytest.raises(TransientError) as e:
        dead.call("getOrderCount", startFrom=False)
    assert e.value.reason == "transport"


def test_a_slow_store_times_out_as_transient(sim):
    sim.injector.configure(latency_ms=1500)
    with pytest.raises(TransientError) as e:
        ThreeDCartClient(config(sim, timeout_s=0.3)).call("getOrderCount", startFrom=False)
    assert e.value.reason == "timeout"


# -- sink --------------------------------------------------------------------------------------------------
def writes(sim, op: str) -> list[dict]:
    return sim.admin.get("/_sim/writes", params={"op": op}).json()


def test_set_stock_always_replaces(sim):
    sink = ThreeDCartSink(config(sim), ZONE)
    for _ in range(2):                                  # a redelivery must not add twice
        done = sink.set_stock("1003K", Decimal("7"))
    assert done.outcome == "updated" and sim.store.products["1003K"].stock == 7
    assert sink.set_stock("1003K", Decimal("4.000")).outcome == "updated"
    assert sim.store.products["1003K"].stock == 4
    assert [(w["params"]["replaceStock"], w["params"]["quantity"]) for w in writes(sim, "updateProductInventory")] == \
        [("true", "7"), ("true", "7"), ("true", "4")]
    with pytest.raises(PermanentError) as e:
        sink.set_stock("1003K", Decimal("2.5"))
    assert e.value.reason == "refused_value" and len(writes(sim, "updateProductInventory")) == 3
    with pytest.raises(PermanentError) as e:
        sink.set_stock("NOPE", Decimal("1"))
    assert e.value.reason == "unknown_sku"


def test_set_order_status_writes_the_configured_text(sim):
    (o,) = place(sim)
    inv = f"AB-{o.number}"
    sink = ThreeDCartSink(config(sim), ZONE)
    assert sink.set_order_status(inv, order_status="4").outcome == "updated"
    assert o.status_id == 4
    assert sink.set_order_status(inv, order_status="4").outcome == "already_present"
    assert [w["params"]["newStatus"] for w in writes(sim, "updateOrderStatus")] == ["Shipped"]
    assert sink.set_order_status(inv, shipping_status="S").outcome == "skipped"
    # the merchant relabelled status 6: the pair file's table says so, and the store takes that text
    sim.admin.post("/_sim/settings", json={"statuses": {"6": "On Hold"}})
    relabelled = ThreeDCartSink(config(sim, status_texts={"4": "Shipped", "6": "On Hold"}), ZONE)
    assert relabelled.set_order_status(inv, order_status="6").outcome == "updated" and o.status_id == 6
    sim.admin.post(f"/_sim/orders/{inv}/status", json={"status_id": 1})
    with pytest.raises(PermanentError) as e:            # stale label: the store refuses the text (39)
        sink.set_order_status(inv, order_status="6")
    assert e.value.reason == "refused_value"
    with pytest.raises(PermanentError) as e:
        sink.set_order_status(inv, order_status="99")
    assert e.value.reason == "refused_value"
    with pytest.raises(PermanentError) as e:
        sink.set_order_status("AB-4242", order_status="4")
    assert e.value.reason == "unknown_order"


def test_add_shipment(sim):
    single, multi = place(sim)[0], place(sim, shipments=2)[0]
    sink = ThreeDCartSink(config(sim), ZONE, clock=lambda: datetime(2024, 11, 6, 3, 0, tzinfo=timezone.utc))
    done = sink.add_shipment(f"AB-{single.number}", "UPS", "1Z999")
    assert done.outcome == "created" and single.shipments[0].tracking == "1Z999"
    assert writes(sim, "updateOrderShipment")[0]["params"]["shipmentDate"] == "11/05/2024"   # store-local date
    assert sink.add_shipment(f"AB-{single.number}", "UPS", "1Z999").outcome == "already_present"
    assert sink.add_shipment(f"AB-{single.number}", "UPS", "1Z000").outcome == "needs_attention"
    assert sink.add_shipment(f"AB-{multi.number}", None, "A1").outcome == "created"
    assert sink.add_shipment(f"AB-{multi.number}", None, "A2").outcome == "created"
    assert [s.tracking for s in multi.shipments] == ["A1", "A2"]
    assert len(writes(sim, "updateOrderShipment")) == 3
    with pytest.raises(PermanentError) as e:
        sink.add_shipment("AB-4242", None, "X")
    assert e.value.reason == "unknown_order"


def test_product_and_customer_updates_are_skipped_without_calls(sim):
    sink = ThreeDCartSink(config(sim), ZONE)
    assert sink.update_product({"sku": "1003K", "price": "9.99"}).outcome == "skipped"
    assert sink.update_customer({"email": "max@example.com"}).outcome == "skipped"
    assert sink.ping() == (True, "0 orders")
    assert sim.admin.get("/_sim/writes").json() == []


# -- ledger ------------------------------------------------------------------------------------------------
def test_ledger_lists_orders_placed_in_the_window(sim):
    day = datetime(2024, 11, 5, 12, 0, tzinfo=timezone.utc)
    before = place(sim, 1, created_at=day - timedelta(hours=3))[0]           # 04:00 local, outside
    inside = place(sim, 2, created_at=day + timedelta(hours=1), status_id=4)
    held = place(sim, 1, created_at=day + timedelta(hours=2), status_id=6)[0]
    place(sim, 1, created_at=day + timedelta(days=1))
    rules = {"4": SimpleNamespace(status="shipped", ready_for_erp=True),
             "default": SimpleNamespace(status="unknown", ready_for_erp=False)}
    pair = SimpleNamespace(storefront=config(sim), zone=ZONE, currency="USD",
                           mapping=SimpleNamespace(order_status=rules))
    ledger = ThreeDCartLedger(pair, payments=True)
    docs = list(ledger.orders(day, day + timedelta(hours=12)))
    assert [d.number for d in docs] == [f"AB-{o.number}" for o in inside] + [f"AB-{held.number}"]
    assert before.number not in {int(d.number[3:]) for d in docs}
    first = docs[0]
    assert (first.status, first.ready_for_erp, first.total, first.currency) == ("shipped", True, Decimal("1500.32"), "USD")
    assert first.created_at == day + timedelta(hours=1)
    assert first.payments[0].transaction_id.startswith("sT") and first.payments[0].amount == Decimal("1500.32")
    assert (docs[-1].status, docs[-1].ready_for_erp) == ("unknown", False)
    assert ledger.calls == {"getOrder": 1}                  # status ids from status_texts, no extra calls


def test_the_issue_block_loads_from_a_pair_file(sim, tmp_path, monkeypatch):
    """The `storefront:` block exactly as issue8.md lists it, through the real pair-file loader and
    the registry, reaches the simulator."""
    shipped = Path(__file__).resolve().parents[2] / "pairs" / "xcart-sage300.yaml"
    data = yaml.safe_load(shipped.read_text())
    data["storefront"] = {
        "kind": "threedcart", "instance": "soap", "service_url": "${THREEDCART_SERVICE_URL:-https://api.3dcart.com/cart.asmx}",
        "wsdl_url": "${THREEDCART_WSDL_URL:-}", "store_url": "${THREEDCART_STORE_URL:-}",
        "user_key": "${THREEDCART_USER_KEY:-}", "timeout_s": 5, "poll_interval_s": 5, "batch_size": 100,
        "recheck_days": 3, "start_at": "${POLL_START_AT:-}", "rate_limit_per_s": 5, "rate_limit_burst": 10,
        "status_texts": {"1": "New", "2": "Processing", "3": "Partial", "4": "Shipped", "5": "Cancel", "6": "Hold",
                         "11": "Unpaid"}}
    path = tmp_path / "3dcartsoap.yaml"
    path.write_text(yaml.safe_dump(data))
    monkeypatch.setenv("THREEDCART_SERVICE_URL", f"{sim.url}/cart.asmx")
    monkeypatch.setenv("THREEDCART_STORE_URL", STORE)
    monkeypatch.setenv("THREEDCART_USER_KEY", KEY)
    pair = load_pair_file(path)
    assert isinstance(pair.storefront, ThreeDCartStorefrontConfig) and pair.storefront.start_at is None
    source = registry.build("storefront_source", pair)
    sink = registry.build("storefront_sink", pair)
    assert source.ping()[0] and sink.ping()[0]
    assert isinstance(registry.build("storefront_ledger", pair), ThreeDCartLedger)


def test_the_user_key_never_reaches_the_logs(sim, caplog):
    with caplog.at_level("DEBUG"):
        ThreeDCartClient(config(sim)).call("getOrderCount", startFrom=False)
    assert KEY not in caplog.text
