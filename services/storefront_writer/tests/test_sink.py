"""The X-Cart sink against the X-Cart simulator over real HTTP: what lands in the store, field by field."""
from __future__ import annotations

from decimal import Decimal

import httpx

import pytest

from sagebridge_common.errors import PermanentError, TransientError

from .conftest import order


def product(xcart, sku: str) -> dict:
    pid = xcart.store._sku_index[sku]
    return xcart.store.get_product(pid)


def test_stock_lands_on_the_product_clamped_and_floored(xcart, make_sink):
    xcart.store.add_product("ST-1", "Stock one", Decimal("5.00"), amount=3)
    sink = make_sink()
    done = sink.set_stock("ST-1", Decimal("42.9"))
    assert done.outcome == "updated" and product(xcart, "ST-1")["amount"] == 42
    assert done.document_id == str(xcart.store._sku_index["ST-1"])
    sink.set_stock("ST-1", Decimal("-4"))
    assert product(xcart, "ST-1")["amount"] == 0


def test_an_unknown_sku_is_permanent_and_rereads_the_store_at_most_once_per_ttl(xcart, make_sink):
    sink = make_sink(sku_map_ttl_s=3600)
    xcart.store.add_product("KNOWN", "Known", Decimal("1.00"))
    sink.set_stock("KNOWN", Decimal("1"))
    assert sink.skus.rebuilds == 1
    for _ in range(3):
        with pytest.raises(PermanentError) as e:
            sink.set_stock("NO-SUCH-SKU", Decimal("1"))
        assert e.value.reason == "unknown_sku"
    assert sink.skus.rebuilds == 1            # the misses did not re-read the catalogue again
    fresh = make_sink(sku_map_ttl_s=0.001)
    xcart.store.add_product("LATE", "Added after the map was built", Decimal("1.00"))
    fresh.set_stock("KNOWN", Decimal("2"))
    fresh.skus._built_at -= 1                 # the ttl has passed
    assert fresh.set_stock("LATE", Decimal("7")).outcome == "updated"
    assert product(xcart, "LATE")["amount"] == 7


def test_a_product_change_writes_only_what_differs(xcart, make_sink):
    xcart.store.add_product("PR-1", "Product one", Decimal("10.00"))
    sink = make_sink()
    base = {"sku": "PR-1", "name": "Product one", "price": Decimal("12.3400"), "description": "From Sage",
            "active": True, "categories": [], "create_missing_categories": False, "deleted": False}
    done = sink.update_product(base)
    p = product(xcart, "PR-1")
    assert done.outcome == "updated"
    assert (p["price"], p["description"], p["enabled"]) == (12.34, "From Sage", True)
    assert sink.update_product(base).outcome == "already_present"
    sink.update_product({**base, "active": False, "price": None})
    p = product(xcart, "PR-1")
    assert (p["price"], p["enabled"]) == (12.34, False)          # a null price leaves the store's alone


def test_order_status_codes_and_the_system_only_ones_refused(xcart, make_sink):
    number = order(xcart.store, shipping_code="N", payment_code="Q")
    sink = make_sink()
    done = sink.set_order_status(number, shipping_status="S", payment_status="P")
    oid = xcart.store._number_index[number]
    assert done.outcome == "updated" and done.document_id == str(oid)
    assert xcart.store.get_status(oid, "shipping")["code"] == "S"
    assert xcart.store.get_status(oid, "payment")["code"] == "P"
    assert sink.set_order_status(number, shipping_status="S").outcome == "already_present"
    for kwargs in ({"payment_status": "A"}, {"payment_status": "D"}, {"shipping_status": "WFA"},
                   {"shipping_status": "NBA"}):
        with pytest.raises(PermanentError) as e:
            sink.set_order_status(number, **kwargs)
        assert e.value.reason == "refused_value"
    with pytest.raises(PermanentError) as e:
        sink.set_order_status("99999999", shipping_status="S")
    assert e.value.reason == "unknown_order"


def test_a_store_order_status_id_is_ignored_by_xcart(xcart, make_sink):
    """X-Cart has no single order status (that is Shift4Shop/3dcart's): alone it is skipped without
    touching the store, beside X-Cart's own codes it changes nothing."""
    number = order(xcart.store, shipping_code="N", payment_code="Q")
    oid = xcart.store._number_index[number]
    sink = make_sink()
    alone = sink.set_order_status("99999999", order_status="4")        # no lookup: not even unknown_order
    assert alone.outcome == "skipped" and "order_status '4' ignored" in alone.message
    both = sink.set_order_status(number, shipping_status="S", order_status="4")
    assert (both.outcome, both.message) == ("updated", "shipping_status S")
    assert xcart.store.get_status(oid, "shipping")["code"] == "S"
    assert xcart.store.get_status(oid, "payment")["code"] == "Q"


def test_tracking_through_the_module_once(xcart, make_sink):
    number = order(xcart.store)
    sink = make_sink()
    assert sink.add_shipment(number, "UPS", "1Z999").outcome == "updated"
    assert sink.add_shipment(number, "UPS", "1Z999").outcome == "already_present"
    oid = xcart.store._number_index[number]
    assert [t["value"] for t in xcart.store.get_order(oid)["tracking_numbers"]] == ["1Z999"]


def test_a_wrong_module_token_waits_instead_of_dead_lettering(xcart, make_sink):
    number = order(xcart.store)
    with pytest.raises(TransientError):
        make_sink(module_token="wrong").add_shipment(number, "UPS", "1Z1")


def test_without_the_module_a_shipment_sets_shipped_and_reports_the_number(xcart, make_sink):
    number = order(xcart.store, shipping_code="P")
    done = make_sink(tracking="none").add_shipment(number, "UPS", "1Z777")
    oid = xcart.store._number_index[number]
    assert xcart.store.get_status(oid, "shipping")["code"] == "S"
    assert "1Z777" in done.message and "no tracking write" in done.message
    assert xcart.store.get_order(oid)["tracking_numbers"] == []


def test_throttling_is_transient_with_the_stores_retry_after_and_holds_the_bucket(xcart, make_sink):
    xcart.store.add_product("TH-1", "Throttled", Decimal("1.00"))
    sink = make_sink()
    sink.set_stock("TH-1", Decimal("1"))
    for status in (429, 503):
        xcart.injector.configure(reset=True, outage_status=status, outage_seconds=30, retry_after_s=2)
        with pytest.raises(TransientError) as e:
            sink.set_stock("TH-1", Decimal("2"))
        assert e.value.retry_after == 2
        assert sink.calls.bucket._held_until > 0
    xcart.injector.configure(reset=True)


def test_a_value_the_store_rejects_is_permanent(xcart, make_sink):
    number = order(xcart.store)
    with pytest.raises(PermanentError) as e:
        make_sink().set_order_status(number, shipping_status="ZZZ")
    assert e.value.reason == "xcart_400"


def test_ping(xcart, make_sink):
    assert make_sink().ping() == (True, "ok")
    assert make_sink(base_url="http://127.0.0.1:9").ping()[0] is False


def test_a_busy_writer_is_ready_without_queueing_a_probe_behind_its_writes(xcart, make_sink):
    xcart.store.add_product("BUSY-1", "Busy one", Decimal("5.00"), amount=3)
    sink = make_sink()
    sink.set_stock("BUSY-1", Decimal("3"))
    sink.calls.bucket.hold(60)          # every token taken: a probe would wait a minute
    ok, detail = sink.ping()
    assert ok and detail.startswith("store answered"), detail
    sink.calls.last_answer -= 31        # no answer for longer than PING_FRESH_S: probe again
    sink.calls.bucket = type(sink.calls.bucket)(100, 10)
    assert sink.ping() == (True, "ok")


def test_a_variant_sku_writes_the_variant_off_the_products_stock(xcart, make_sink):
    pid, (vid,) = xcart.store.add_product_with_variants("SHIRT", "Shirt", Decimal("20.00"),
                                                        [{"sku": "SHIRT-RED-M"}], amount=9)
    sink = make_sink()
    done = sink.set_stock("SHIRT-RED-M", Decimal("4"))
    assert done.document_id == str(vid)
    variant = xcart.store.get_variant(pid, vid)
    assert (variant["amount"], variant["default_amount"]) == (4, False)
    assert xcart.store.get_product(pid)["amount"] == 9
    sink.update_product({"sku": "SHIRT-RED-M", "price": Decimal("22.5"), "active": True, "categories": []})
    assert xcart.store.get_variant(pid, vid)["price"] == 22.5


def test_categories_linked_and_created_only_when_the_event_says(xcart, make_sink):
    xcart.store.add_product("CAT-1", "Categorised", Decimal("1.00"))
    cid = xcart.store.add_category("Tools")
    pid = xcart.store._sku_index["CAT-1"]
    sink = make_sink()
    base = {"sku": "CAT-1", "price": None, "active": True, "create_missing_categories": False}
    done = sink.update_product({**base, "categories": ["Tools", "Garden"]})
    assert xcart.store.product_categories(pid) == [cid]
    assert "'Garden' not in the store" in done.message
    assert sink.update_product({**base, "categories": ["Tools"]}).outcome == "already_present"
    sink.update_product({**base, "categories": ["Garden"], "create_missing_categories": True})
    names = {c["name"]: c["id"] for c in xcart.store.list_categories()[1]}
    assert set(xcart.store.product_categories(pid)) == {cid, names["Garden"]}


def test_an_erp_customer_change_updates_the_profiles_billing_address_only_when_it_differs(xcart, make_sink):
    httpx.post(f"{xcart.url}/_sim/profiles", json={"login": "Kim@Example.com", "first_name": "Kim",
                                                   "last_name": "Old", "address": {"city": "Boston"}}
               ).raise_for_status()
    sink = make_sink()
    customer = {"email": "kim@example.com", "first_name": "Kim", "last_name": "Lee", "phone": None,
                "billing_address": {"line1": "9 Elm St", "line2": None, "city": "Austin", "postal_code": "78701",
                                    "country": "US", "region": "Texas", "phone": "555-0101"}}
    done = sink.update_customer(customer)
    assert done.outcome == "updated"
    [address] = httpx.get(f"{xcart.url}/api/profiles/{done.document_id}/addresses",
                          headers={"X-Auth-Token": "r", "Accept": "application/json"}).json()
    assert {k: address[k] for k in ("lastname", "street", "city", "zipcode", "state_name", "phone")} == {
        "lastname": "Lee", "street": "9 Elm St", "city": "Austin", "zipcode": "78701", "state_name": "Texas",
        "phone": "555-0101"}
    assert sink.update_customer(customer).outcome == "already_present"
    unknown = sink.update_customer({**customer, "email": "nobody@example.com"})
    assert (unknown.outcome, unknown.document_id) == ("skipped", None)


def test_the_rate_limit_keeps_concurrent_writers_under_the_stores_limit(xcart, make_sink):
    """The store answers 429 beyond 25 calls/s (bursts of 10); the sink's bucket allows 10/s, bursts
    of 5, shared by four threads: 40 writes, not one refused. The margin between the two buckets is
    what a loaded machine needs: calls the bucket spaced out can reach the store bunched together."""
    import threading
    skus = [f"RL-{i}" for i in range(4)]
    for s in skus:
        xcart.store.add_product(s, s, Decimal("1.00"))
    sink = make_sink(rate_limit_per_s=10, rate_limit_burst=5)
    sink.skus.find(skus[0])                     # the map is built before the store's limit starts
    xcart.injector.configure(reset=True, mode="rate", per_s=25, burst=10, retry_after=1)
    errors: list[Exception] = []

    def write(sku: str) -> None:
        for n in range(10):
            try:
                sink.set_stock(sku, Decimal(n))
            except Exception as e:          # noqa: BLE001  (collected and asserted below)
                errors.append(e)

    threads = [threading.Thread(target=write, args=(s,)) for s in skus]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    xcart.injector.configure(reset=True)
    assert errors == []
    assert [xcart.store.get_product(xcart.store._sku_index[s])["amount"] for s in skus] == [9, 9, 9, 9]
