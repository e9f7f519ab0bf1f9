"""SkuResolver's lookups (catalogue.py): a cold burst over a small catalogue costs one count and one
scan, not a lookup per SKU; a big catalogue is still looked up SKU by SKU; a store that does not
answer the count is treated as big (shift4shop.md §1.3 `countonly`)."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from sagebridge_common.errors import PermanentError, TransientError
from sagebridge_connectors.shift4shop.catalogue import SkuResolver


class FakeCatalogue:
    """The three reads SkuResolver makes, over `n` products SKU-0..n-1 (CatalogID = index + 1)."""

    def __init__(self, n: int, count: object = "ok", page_size: int = 100) -> None:
        self.rows = [{"SKUInfo": {"CatalogID": i + 1, "SKU": f"SKU-{i}"}} for i in range(n)]
        self.count = count
        self.page_size = page_size
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def _note(self, op: str) -> None:
        with self._lock:
            self.calls.append(op)

    def get(self, operation: str, path: str, params=None):
        self._note(operation)
        assert path == "/Products" and params == {"countonly": 1}
        if isinstance(self.count, Exception):
            raise self.count
        return {"TotalCount": len(self.rows)} if self.count == "ok" else self.count

    def get_list(self, operation: str, path: str, params=None):
        self._note(operation)
        return [r for r in self.rows if r["SKUInfo"]["SKU"] == params["sku"]]

    def pages(self, operation: str, path: str, params=None, size: int = 100):
        calls = -(-len(self.rows) // size) + 1
        for _ in range(calls):
            self._note(operation)
        return list(self.rows)


def burst(resolver: SkuResolver, skus: list[str]) -> list[int]:
    with ThreadPoolExecutor(len(skus)) as pool:
        return [p.catalog_id for p in pool.map(resolver.find, skus)]


def test_a_cold_burst_over_a_small_catalogue_costs_one_count_and_one_scan():
    store = FakeCatalogue(500)
    resolver = SkuResolver(store, 60.0, page_size=100, scan_after=20)
    ids = burst(resolver, [f"SKU-{i}" for i in range(200)])
    assert ids == list(range(1, 201))
    assert store.calls == ["count_products"] + ["scan_products"] * 6       # 5 pages + the closing 404
    assert "find_product_sku" not in store.calls


def test_after_the_ttl_the_next_miss_rescans_without_counting_again():
    now = [0.0]
    store = FakeCatalogue(150)
    resolver = SkuResolver(store, 60.0, page_size=100, clock=lambda: now[0])
    resolver.find("SKU-1")
    now[0] = 61.0
    store.calls.clear()
    assert resolver.find("SKU-2").catalog_id == 3
    assert store.calls == ["scan_products"] * 3


def test_a_big_catalogue_is_looked_up_sku_by_sku_until_scan_after_misses():
    store = FakeCatalogue(2500)                      # 26 scan calls > 20 lookups
    resolver = SkuResolver(store, 60.0, page_size=100, scan_after=3)
    for i in range(3):
        resolver.find(f"SKU-{i}")
    assert store.calls == ["count_products"] + ["find_product_sku"] * 3
    resolver.find("SKU-10")                           # the fourth miss scans
    assert store.calls[4:] == ["scan_products"] * 26


@pytest.mark.parametrize("answer", [PermanentError("refused", reason="shift4shop_refused"), [{"odd": 1}]])
def test_a_store_that_does_not_answer_the_count_is_treated_as_big_and_asked_once(answer):
    store = FakeCatalogue(10, count=answer)
    resolver = SkuResolver(store, 60.0, page_size=100)
    resolver.find("SKU-1")
    resolver.find("SKU-2")
    assert store.calls == ["count_products", "find_product_sku", "find_product_sku"]


def test_a_transient_count_failure_is_asked_again_on_the_next_miss():
    store = FakeCatalogue(10, count=TransientError("busy", reason="http_503"))
    resolver = SkuResolver(store, 60.0, page_size=100)
    resolver.find("SKU-1")
    store.count = "ok"
    resolver.find("SKU-2")
    assert store.calls == ["count_products", "find_product_sku", "count_products", "scan_products", "scan_products"]


def test_an_unknown_sku_in_a_small_catalogue_is_still_looked_up_once_after_the_scan():
    store = FakeCatalogue(5)
    resolver = SkuResolver(store, 60.0, page_size=100)
    with pytest.raises(PermanentError) as e:
        resolver.find("NEW-SKU")
    assert e.value.reason == "unknown_sku"
    assert store.calls == ["count_products", "scan_products", "scan_products", "find_product_sku"]
