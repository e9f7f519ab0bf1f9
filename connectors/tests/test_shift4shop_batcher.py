"""The Shift4Shop product batcher: concurrent writers meet in one `PUT /Products` of up to
`batch_size` items, each gets its own item's answer (issue 8, "Batching"; shift4shop.md §1.4)."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest

from sagebridge_common.errors import PermanentError, TransientError
from sagebridge_connectors.shift4shop.api import ItemResult
from sagebridge_connectors.shift4shop.batcher import ProductBatcher
from sagebridge_connectors.shift4shop.config import Shift4ShopStorefrontConfig
from sagebridge_connectors.shift4shop.sink import Shift4ShopSink


class Catalogue:
    """GET /Products?sku= and PUT /Products as the store answers them (per-item results)."""

    def __init__(self, n: int) -> None:
        self.products = {1000 + i: {"SKUInfo": {"CatalogID": 1000 + i, "SKU": f"SKU-{i}", "Stock": 0, "Price": 1.0}}
                         for i in range(n)}
        self.puts: list[list[dict]] = []
        self.lock = threading.Lock()
        self.put_status = 200
        self.gets = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/3dCartWebAPI/v1")
        if request.method == "GET" and path == "/Products":
            sku, params = request.url.params.get("sku"), request.url.params
            with self.lock:
                self.gets += 1
            rows = [p for p in self.products.values() if sku is None or p["SKUInfo"]["SKU"] == sku]
            rows = rows[int(params.get("offset", 1)) - 1:][:int(params.get("limit", 10))]
            return httpx.Response(200, json=rows) if rows else httpx.Response(404, json=[])
        if request.method == "PUT" and path == "/Products":
            items = httpx.Response(200, content=request.content).json()
            with self.lock:
                self.puts.append(items)
            if self.put_status != 200:
                return httpx.Response(self.put_status, json=[{"Key": "Error", "Value": "", "Status": str(self.put_status),
                                                              "Message": "Service Unavailable"}],
                                      headers={"Retry-After": "2"})
            out = []
            for item in items:
                cid = item["SKUInfo"]["CatalogID"]
                if cid in self.products:
                    self.products[cid]["SKUInfo"].update(item["SKUInfo"])
                    out.append({"Key": "CatalogID", "Value": str(cid), "Status": "200", "Message": "updated successfully"})
                else:
                    out.append({"Key": "CatalogID", "Value": str(cid), "Status": "404", "Message": "Product not found"})
            return httpx.Response(200, json=out)
        return httpx.Response(404, json=[])


def sink_for(cat: Catalogue, **kw) -> Shift4ShopSink:
    base = {"kind": "shift4shop", "api_url": "https://s4s.test/3dCartWebAPI/v1", "private_key": "pk", "token": "tk",
            "rate_limit_per_s": 100000, "rate_limit_burst": 100000, "batch_size": 100, "batch_wait_ms": 5000,
            "max_concurrency": 16}
    return Shift4ShopSink(Shift4ShopStorefrontConfig(**(base | kw)), "UTC", transport=httpx.MockTransport(cat.handler))


def test_500_concurrent_stock_writes_make_5_puts_of_100():
    cat = Catalogue(500)
    sink = sink_for(cat)
    assert sink.concurrency_hint == 200
    with ThreadPoolExecutor(500) as pool:
        outcomes = list(pool.map(lambda i: sink.set_stock(f"SKU-{i}", Decimal(i)), range(500)))
    assert [o.outcome for o in outcomes] == ["updated"] * 500
    assert sorted(len(p) for p in cat.puts) == [100] * 5
    assert all(cat.products[1000 + i]["SKUInfo"]["Stock"] == i for i in range(500))
    assert [o.document_id for o in outcomes[:3]] == ["1000", "1001", "1002"]
    # SKU lookups: the first misses ask by SKU, then one catalogue scan (5 pages + the 404) resolves the rest
    assert cat.gets == sink.skus.scan_after + 500 // 100 + 1


def test_a_lone_write_is_sent_after_the_wait():
    cat = Catalogue(1)
    out = sink_for(cat, batch_wait_ms=20).set_stock("SKU-0", Decimal("4.5"))
    assert out.outcome == "updated" and cat.puts == [[{"SKUInfo": {"CatalogID": 1000, "Stock": 4.5}}]]


def test_one_bad_catalog_id_fails_alone():
    cat = Catalogue(3)
    sink = sink_for(cat, batch_size=3)
    for i in range(3):
        sink.skus.find(f"SKU-{i}")
    del cat.products[1001]                      # gone from the store after the SKU was resolved
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(sink.set_stock, f"SKU-{i}", Decimal(7)) for i in range(3)]
    assert futures[0].result().outcome == "updated" and futures[2].result().outcome == "updated"
    with pytest.raises(PermanentError) as e:
        futures[1].result()
    assert e.value.reason == "unknown_sku" and len(cat.puts) == 1 and len(cat.puts[0]) == 3


def test_a_transient_failure_of_the_whole_call_raises_to_every_caller():
    cat = Catalogue(4)
    cat.put_status = 503
    sink = sink_for(cat, batch_size=4)
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(sink.set_stock, f"SKU-{i}", Decimal(1)) for i in range(4)]
    errors = [f.exception() for f in futures]
    assert all(isinstance(e, TransientError) and e.retry_after == 2.0 for e in errors)
    assert len({id(e) for e in errors}) == 4 and len(cat.puts) == 1


def test_a_refused_whole_call_is_split_until_the_bad_item_stands_alone():
    sent: list[list[int]] = []

    def send(items):
        ids = [i["id"] for i in items]
        sent.append(ids)
        if 3 in ids:
            raise PermanentError("Shift4Shop refused put_products: bad value", reason="shift4shop_refused")
        return [ItemResult("CatalogID", str(i), 200, "ok") for i in ids]
    b = ProductBatcher(send, size=4, wait_s=5)
    with ThreadPoolExecutor(4) as pool:
        futures = {i: pool.submit(b.submit, i, {"id": i}) for i in range(1, 5)}
    assert [futures[i].result().ok for i in (1, 2, 4)] == [True, True, True]
    assert isinstance(futures[3].exception(), PermanentError)
    assert len(sent) == 5 and len(sent[0]) == 4 and [3] in sent   # 4 -> 2+2 -> 1+1 on the bad side


def test_two_writes_of_one_catalog_id_never_share_a_batch_and_keep_their_order():
    order: list[tuple[int, str]] = []
    first_sent = threading.Event()
    release = threading.Event()

    def send(items):
        order.extend((i["cid"], i["v"]) for i in items)
        if any(i["v"] == "first" for i in items):
            first_sent.set()
            release.wait(5)
        return [ItemResult("CatalogID", str(i["cid"]), 200, "ok") for i in items]
    b = ProductBatcher(send, size=10, wait_s=0.05)
    with ThreadPoolExecutor(3) as pool:
        f1 = pool.submit(b.submit, 7, {"cid": 7, "v": "first"})
        assert first_sent.wait(5)
        f2 = pool.submit(b.submit, 7, {"cid": 7, "v": "second"})
        f3 = pool.submit(b.submit, 8, {"cid": 8, "v": "other"})
        f3.result(5)                         # another id is not held back by the pending one
        assert ("7", "second") not in [(str(c), v) for c, v in order]
        release.set()
        f1.result(5), f2.result(5)
    assert order.index((7, "first")) < order.index((7, "second"))
    assert [v for c, v in order if c == 7] == ["first", "second"]


def test_an_unexpected_error_does_not_leave_callers_blocked():
    def send(items):
        raise RuntimeError("bug")
    b = ProductBatcher(send, size=2, wait_s=5)
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(b.submit, i, {}) for i in (1, 2)]
    assert all(isinstance(f.exception(5), RuntimeError) for f in futures)
