"""X-Cart 5.5 simulator, catalogue writes over real HTTP: variants CRUD, products without a SKU
filter, partial PUTs, categories, the write log and the throttle fault (reference xcart.md §1b)."""
from __future__ import annotations

import time
from decimal import Decimal

import httpx
import pytest

from sagebridge_sim.serve import BackgroundServer
from sagebridge_sim.xcart import XCartStore, create_app

READ, ALL = "read-token", "all-token"
W = {"X-Auth-Token": ALL, "Accept": "application/json"}
R = {"X-Auth-Token": READ, "Accept": "application/json"}


@pytest.fixture()
def sim():
    store = XCartStore()
    store.seed_products(3)
    server = BackgroundServer(create_app(store, READ, ALL, module_token="mod-token")).start()
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield store, client
    server.stop()


def test_variants_crud(sim):
    store, c = sim
    pid, (v1, v2) = store.add_product_with_variants("TEE", "Tee", Decimal("20.00"),
                                                    [{"sku": "TEE-S", "amount": 4, "default_variant": True},
                                                     {"sku": "TEE-M", "price": Decimal("22.50")}])
    listed = c.get(f"/api/products/{pid}/variants", headers=R).json()
    assert [v["sku"] for v in listed] == ["TEE-S", "TEE-M"]
    assert listed[0]["amount"] == 4 and listed[0]["default_amount"] is False and listed[0]["default_price"] is True
    assert listed[1]["price"] == 22.5 and listed[1]["default_price"] is False

    made = c.post(f"/api/products/{pid}/variants", headers=W, json={"sku": "TEE-L", "amount": 1,
                                                                    "default_variant": True})
    assert made.status_code == 201
    v3 = made.json()["id"]
    assert c.get(f"/api/products/{pid}/variants/{v1}", headers=R).json()["default_variant"] is False

    put = c.put(f"/api/products/{pid}/variants/{v2}", headers=W, json={"amount": 7})
    assert put.status_code == 200
    after = put.json()
    assert (after["amount"], after["sku"], after["price"]) == (7, "TEE-M", 22.5)

    assert c.delete(f"/api/products/{pid}/variants/{v3}", headers=W).status_code == 204
    assert c.get(f"/api/products/{pid}/variants/{v3}", headers=R).status_code == 404
    assert c.get(f"/api/products/1/variants/{v1}", headers=R).status_code == 404   # not under another product


def test_variant_rules_are_strict(sim):
    store, c = sim
    pid, (vid,) = store.add_product_with_variants("CAP", "Cap", Decimal("9.00"), [{"sku": "CAP-RED"}])
    url = f"/api/products/{pid}/variants/{vid}"
    assert c.put(url, headers=W, json={"amount": -1}).status_code == 400
    assert c.put(url, headers=W, json={"amount": 1.5}).status_code == 400
    assert c.put(url, headers=W, json={"sku": "SKU-00001"}).status_code == 400        # a product's SKU
    assert c.post(f"/api/products/{pid}/variants", headers=W, json={"sku": "CAP-RED"}).status_code == 400
    assert c.put("/api/products/1", headers=W, json={"sku": "CAP-RED"}).status_code == 400  # a variant's SKU
    assert c.put(url, headers=R, json={"amount": 2}).status_code == 403                    # read token
    assert c.get(url, headers=R).json()["amount"] == 0


def test_products_have_no_sku_filter_and_page_at_most_100(sim):
    store, c = sim
    store.seed_products(0)
    for n in range(150):
        store.add_product(f"BULK-{n:03d}", f"Bulk {n}", Decimal("1.00"))
    filtered = c.get("/api/products", headers=R, params={"sku": "SKU-00002", "itemsPerPage": 500}).json()
    assert len(filtered) == 100                                   # the sku= parameter is ignored
    second = c.get("/api/products", headers=R, params={"itemsPerPage": 100, "page": 2}).json()
    assert len(second) == 53


def test_product_put_is_partial(sim):
    _, c = sim
    before = c.get("/api/products/2", headers=R).json()
    after = c.put("/api/products/2", headers=W, json={"amount": 42, "unknown": 1}).json()
    assert after["amount"] == 42
    assert {k: v for k, v in after.items() if k not in ("amount", "update_date")} == \
           {k: v for k, v in before.items() if k not in ("amount", "update_date")}
    changed = c.put("/api/products/2", headers=W, json={"price": 15.25, "enabled": False, "name": "New",
                                                         "description": "d", "inventory_traceable": False}).json()
    assert (changed["price"], changed["enabled"], changed["name"], changed["amount"]) == (15.25, False, "New", 42)
    assert c.put("/api/products/2", headers=W, json={"amount": -3}).status_code == 400
    assert c.put("/api/products/999", headers=W, json={"amount": 1}).status_code == 404


def test_product_create_and_delete(sim):
    _, c = sim
    made = c.post("/api/products", headers=W, json={"sku": "NEW-1", "name": "New", "price": 3.5, "amount": 2})
    assert made.status_code == 201 and made.json()["price"] == 3.5
    assert c.post("/api/products", headers=W, json={"sku": "NEW-1", "name": "Again"}).status_code == 400
    assert c.delete(f"/api/products/{made.json()['id']}", headers=W).status_code == 204
    assert c.get(f"/api/products/{made.json()['id']}", headers=R).status_code == 404


def test_categories_and_links(sim):
    _, c = sim
    cat = c.post("/api/categories", headers=W, json={"name": "Shirts"})
    assert cat.status_code == 201
    cid = cat.json()["id"]
    assert c.post("/api/categories", headers=W, json={"name": " "}).status_code == 400
    assert [x["name"] for x in c.get("/api/categories", headers=R).json()] == ["Shirts"]
    assert c.post(f"/api/categories/{cid}/products", headers=W, json={"product_id": 1}).status_code == 201
    assert c.post(f"/api/categories/{cid}/products", headers=W, json={"product_id": 1}).status_code == 400
    assert c.post(f"/api/categories/{cid}/products", headers=W, json={"product_id": 99}).status_code == 400
    assert [x["product_id"] for x in c.get(f"/api/categories/{cid}/products", headers=R).json()] == [1]
    assert c.delete(f"/api/categories/{cid}/products/1", headers=W).status_code == 204
    assert c.delete(f"/api/categories/{cid}/products/1", headers=W).status_code == 404
    assert c.get(f"/api/categories/{cid}/products", headers=R).json() == []


def test_write_log_records_every_write_in_order(sim):
    store, c = sim
    pid, (vid,) = store.add_product_with_variants("LOG", "Log", Decimal("5.00"), [{"sku": "LOG-V"}])
    order = c.post("/_sim/orders", json={"items": [{"sku": "SKU-00001", "price": "5.00"}]}).json()
    c.put("/api/products/1", headers=W, json={"amount": 5})
    c.put(f"/api/products/{pid}/variants/{vid}", headers=W, json={"amount": 3})
    c.put("/api/products/1", headers=W, json={"amount": -5})
    c.put(f"/api/orders/{order['id']}/shipping_status", headers=W, json={"code": "S"})
    c.post("/sagebridge/tracking", headers={"X-Sagebridge-Token": "mod-token"},
           json={"order_number": order["order_number"], "tracking_number": "1Z9", "carrier": "UPS"})
    log = c.get("/_sim/writes").json()
    rows = [(w["kind"], w["key"], w["status"], w["body"]) for w in log["writes"]]
    assert rows == [("product", "SKU-00001", 200, {"amount": 5}), ("variant", "LOG-V", 200, {"amount": 3}),
                    ("product", "SKU-00001", 400, {"amount": -5}),
                    ("shipping_status", str(order["id"]), 200, {"code": "S"}),
                    ("tracking", order["order_number"], 201,
                     {"order_number": order["order_number"], "tracking_number": "1Z9", "carrier": "UPS"})]
    assert [w["seq"] for w in log["writes"]] == sorted(w["seq"] for w in log["writes"])
    assert c.get("/_sim/writes", params={"since": log["writes"][1]["seq"], "kind": "product"}).json()["writes"][0][
        "status"] == 400
    summary = c.get("/_sim/writes/summary").json()
    assert summary["kinds"]["product"] == {"total": 2, "ok": 1, "failed": 1}
    assert summary["per_sku"]["SKU-00001"] == {"total": 2, "ok": 1, "failed": 1}


def test_throttle_answers_429_with_retry_after_then_recovers(sim):
    _, c = sim
    set_ = c.post("/_sim/faults", json={"mode": "throttle", "status": 429, "seconds": 0.5, "retry_after": 1})
    assert set_.status_code == 200
    throttled = c.put("/api/products/1", headers=W, json={"amount": 9})
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "1"
    assert c.get("/_sim/writes/summary").status_code == 200                       # /_sim is never throttled
    for _ in range(200):
        answer = c.put("/api/products/1", headers=W, json={"amount": 9})
        if answer.status_code == 200:
            break
        time.sleep(0.05)             # waiting for the positive signal: the window has closed
    assert answer.status_code == 200 and answer.json()["amount"] == 9
    writes = c.get("/_sim/writes", params={"kind": "product"}).json()["writes"]
    assert writes[0]["status"] == 429 and writes[0]["body"] == {"amount": 9}      # the refused attempt is logged
    assert writes[-1]["status"] == 200


def test_throttle_503_and_bad_mode(sim):
    _, c = sim
    assert c.post("/_sim/faults", json={"mode": "throttle", "status": 500}).status_code == 400
    assert c.post("/_sim/faults", json={"mode": "slow"}).status_code == 400
    c.post("/_sim/faults", json={"mode": "throttle", "status": 503, "seconds": 30, "retry_after": 2})
    answer = c.get("/api/products", headers=R)
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "2"
    c.post("/_sim/faults", json={"reset": True})
    assert c.get("/api/products", headers=R).status_code == 200


def test_order_of_a_variant_sku_reduces_the_variant_stock(sim):
    store, c = sim
    pid, (own, shared) = store.add_product_with_variants("SOCK", "Sock", Decimal("3.00"),
                                                         [{"sku": "SOCK-A", "amount": 5}, {"sku": "SOCK-B"}],
                                                         amount=10)
    oid = c.post("/_sim/orders", json={"items": [{"sku": "SOCK-A", "price": "3.00", "amount": 2},
                                                 {"sku": "SOCK-B", "price": "3.00", "amount": 1}]}).json()["id"]
    items = c.get(f"/api/orders/{oid}", headers=R).json()["items"]
    assert [(i["product_id"], i["variant"]) for i in items] == [(pid, own), (pid, shared)]
    assert c.get(f"/api/products/{pid}/variants/{own}", headers=R).json()["amount"] == 3
    assert c.get(f"/api/products/{pid}", headers=R).json()["amount"] == 9       # default_amount: product stock


def test_rate_mode_admits_the_burst_then_answers_429(sim):
    _, c = sim
    assert c.post("/_sim/faults", json={"mode": "rate", "per_s": 0}).status_code == 400
    c.post("/_sim/faults", json={"mode": "rate", "per_s": 0.001, "burst": 2, "retry_after": 3})
    answers = [c.put("/api/products/1", headers=W, json={"amount": n}) for n in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].headers["Retry-After"] == "3"
    assert c.get("/_sim/writes/summary").json()["per_sku"]["SKU-00001"] == {"total": 3, "ok": 2, "failed": 1}
    c.post("/_sim/faults", json={"reset": True})
    assert c.put("/api/products/1", headers=W, json={"amount": 4}).status_code == 200


def test_the_admin_lookup_by_sku_takes_skus_with_a_slash(sim):
    store, c = sim
    pid = store.add_product("A1-310/0", "Bracket", Decimal("4.00"), amount=7)
    found = c.get("/_sim/products/by_sku/A1-310/0")
    assert found.status_code == 200, found.text
    assert (found.json()["product_id"], found.json()["record"]["amount"]) == (pid, 7)
