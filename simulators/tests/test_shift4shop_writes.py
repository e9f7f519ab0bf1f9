"""Shift4Shop simulator, write side: per-item batch results, variant stock through AdvancedOptions,
order status and shipment writes, customers, the status catalogue, the write log."""
from __future__ import annotations

from decimal import Decimal

import pytest

from sagebridge_sim.shift4shop.testing import running_sim


@pytest.fixture(scope="module")
def sim():
    with running_sim() as s:
        yield s


@pytest.fixture(autouse=True)
def _reset(sim):
    yield
    sim.admin.post("/_sim/faults", json={"reset": True})


def _stock(sim, cid: int) -> Decimal:
    return Decimal(str(sim.api.get(f"/Products/{cid}").json()[0]["SKUInfo"]["Stock"]))


# ---- products -----------------------------------------------------------------------------

def test_batch_put_products_one_unknown_catalog_id_fails_alone(sim):
    a = sim.product("BATCH-A", stock=1)["SKUInfo"]["CatalogID"]
    b = sim.product("BATCH-B", stock=1)["SKUInfo"]["CatalogID"]
    r = sim.api.put("/Products", json=[
        {"SKUInfo": {"CatalogID": a, "Stock": 40, "Price": "12.00"}},
        {"SKUInfo": {"CatalogID": 987654, "Stock": 5}},
        {"SKUInfo": {"Stock": 5}},
        {"SKUInfo": {"CatalogID": b, "Stock": "lots"}},
        {"SKUInfo": {"CatalogID": b, "Stock": -3}},
    ])
    assert r.status_code == 200
    assert [(x["Key"], x["Value"], x["Status"]) for x in r.json()] == [
        ("CatalogID", str(a), "200"), ("CatalogID", "987654", "404"), ("CatalogID", "", "400"),
        ("CatalogID", str(b), "400"), ("CatalogID", str(b), "200")]
    assert r.json()[0]["Message"] == "updated successfully"
    assert _stock(sim, a) == 40 and _stock(sim, b) == -3             # stock may be negative (§2.2)
    assert Decimal(str(sim.api.get(f"/Products/{a}").json()[0]["SKUInfo"]["Price"])) == Decimal("12.00")


def test_batch_over_the_limit_is_refused_whole(sim):
    a = sim.product("BATCH-LIMIT", stock=1)["SKUInfo"]["CatalogID"]
    r = sim.api.put("/Products", json=[{"SKUInfo": {"CatalogID": a, "Stock": 9}}] * 101)
    assert r.status_code == 400 and r.json()[0]["Status"] == "400"
    assert _stock(sim, a) == 1
    assert sim.api.put("/Products", json={"SKUInfo": {"CatalogID": a}}).status_code == 400   # not an array
    body = b'[{"SKUInfo": {"CatalogID": %d, "Stock": 9}}]' % a
    assert sim.api.put("/Products", content=body).status_code == 415                        # no Content-Type
    assert sim.api.put("/Products", content=body, headers={"Content-Type": "text/plain"}).status_code == 415
    assert sim.api.put("/Products", content=b"[{", headers={"Content-Type": "application/json"}).status_code == 400
    assert _stock(sim, a) == 1


def test_single_put_product_and_lookups_by_sku(sim):
    cid = sim.product("SINGLE-1", name="Single", price="3.00", stock=2)["SKUInfo"]["CatalogID"]
    r = sim.api.put(f"/Products/{cid}", json={"SKUInfo": {"CatalogID": cid, "Stock": 11}, "Hide": True,
                                              "Description": "<p>new</p>"})
    assert r.json() == [{"Key": "CatalogID", "Value": str(cid), "Status": "200", "Message": "updated successfully"}]
    got = sim.api.get("/Products", params={"sku": "single-1"}).json()
    assert len(got) == 1 and got[0]["Hide"] is True and got[0]["Description"] == "<p>new</p>"
    info = sim.api.get("/Products/skuinfo", params={"sku": "SINGLE-1"}).json()
    assert info == [got[0]["SKUInfo"]] and info[0]["Stock"] == 11
    assert sim.api.put("/Products/987654", json={"SKUInfo": {"Stock": 1}}).status_code == 404
    assert sim.api.put(f"/Products/{cid}", json={"SKUInfo": {"Price": "-1"}}).status_code == 400
    assert sim.api.get("/Products", params={"sku": "NOPE"}).status_code == 404


def test_advanced_options_set_variant_stock_by_code_or_sufix(sim):
    p = sim.product("VAR", price="30.00", options=[
        {"code": "1-1", "sku": "VAR-S", "stock": 1}, {"code": "1-2", "sku": "VAR-M", "stock": 1}])
    cid = p["SKUInfo"]["CatalogID"]
    r = sim.api.put(f"/Products/{cid}/AdvancedOptions", json=[
        {"AdvancedOptionCode": "1-1", "AdvancedOptionStock": 12},
        {"AdvancedOptionSufix": "VAR-M", "AdvancedOptionStock": -2},
        {"AdvancedOptionCode": "9-9", "AdvancedOptionStock": 5},
        {"AdvancedOptionCode": "1-1", "AdvancedOptionStock": "2.5"},
    ])
    assert r.status_code == 200
    assert [(x["Key"], x["Value"], x["Status"]) for x in r.json()] == [
        ("AdvancedOptionCode", "1-1", "200"), ("AdvancedOptionSufix", "VAR-M", "200"),
        ("AdvancedOptionCode", "9-9", "404"), ("AdvancedOptionCode", "1-1", "400")]
    options = {o["AdvancedOptionSufix"]: o["AdvancedOptionStock"]
               for o in sim.api.get(f"/Products/{cid}").json()[0]["AdvancedOptionList"]}
    assert options == {"VAR-S": 12, "VAR-M": -2}
    assert sim.api.put("/Products/987654/AdvancedOptions", json=[{"AdvancedOptionCode": "1-1"}]).status_code == 404
    found = sim.admin.get("/_sim/products/by-sku/VAR-M").json()
    assert found["product"]["SKUInfo"]["CatalogID"] == cid and found["variant"]["AdvancedOptionStock"] == -2


def test_placing_an_order_reduces_variant_stock(sim):
    cid = sim.product("DEC", options=[{"code": "2-1", "sku": "DEC-1", "stock": 3}])["SKUInfo"]["CatalogID"]
    o = sim.order(items=[{"sku": "DEC-1", "quantity": 2}])
    assert o["OrderItemList"][0]["ItemUnitStock"] == 1
    assert sim.api.get(f"/Products/{cid}").json()[0]["AdvancedOptionList"][0]["AdvancedOptionStock"] == 1


# ---- orders -------------------------------------------------------------------------------

def test_put_order_status_and_batch_put_orders(sim):
    sim.product("ORD", price="5.00")
    a, b = sim.order(items=[{"sku": "ORD"}]), sim.order(items=[{"sku": "ORD"}])
    assert sim.api.put(f"/Orders/{a['OrderID']}", json={"OrderStatusID": 4}).json()[0]["Status"] == "200"
    assert sim.api.get(f"/Orders/{a['OrderID']}").json()[0]["OrderStatusID"] == 4
    assert sim.api.put(f"/Orders/{a['OrderID']}", json={"OrderStatusID": 99}).status_code == 400
    assert sim.api.put(f"/Orders/{a['OrderID']}", json={"OrderStatusID": "shipped"}).status_code == 400
    assert sim.api.put("/Orders/999999", json={"OrderStatusID": 4}).status_code == 404
    r = sim.api.put("/Orders", json=[{"OrderID": b["OrderID"], "InternalComments": "batch"},
                                     {"OrderID": 999999, "InternalComments": "x"}])
    assert [(x["Value"], x["Status"]) for x in r.json()] == [(str(b["OrderID"]), "200"), ("999999", "404")]
    assert sim.api.get(f"/Orders/{b['OrderID']}").json()[0]["InternalComments"] == "batch"


def test_shipment_tracking_update_and_new_shipment(sim):
    sim.product("SHIP", price="5.00")
    o = sim.order(items=[{"sku": "SHIP"}], shipping="4.00")
    oid = o["OrderID"]
    r = sim.api.put(f"/Orders/{oid}/Shipments/0", json={"ShipmentTrackingCode": "1Z999",
                                                        "ShipmentShippedDate": "12/1/2026", "ShipmentOrderStatus": 4})
    assert r.json()[0]["Status"] == "200"
    ships = sim.api.get(f"/Orders/{oid}/Shipments").json()
    assert ships[0]["ShipmentTrackingCode"] == "1Z999" and ships[0]["ShipmentOrderStatus"] == 4
    assert sim.api.get(f"/Orders/{oid}").json()[0]["OrderStatusID"] == 1      # order status untouched
    assert sim.api.put(f"/Orders/{oid}/Shipments/0", json={"ShipmentShippedDate": "2026-12-01"}).status_code == 400
    assert sim.api.put(f"/Orders/{oid}/Shipments/77", json={"ShipmentTrackingCode": "x"}).status_code == 404
    created = sim.api.post(f"/Orders/{oid}/Shipments", json={"ShipmentCost": "2.00", "ShipmentTrackingCode": "T2"})
    assert created.status_code == 201 and created.json()[0]["Message"] == "Created successfully"
    after = sim.api.get(f"/Orders/{oid}").json()[0]
    assert [s["ShipmentNumber"] for s in after["ShipmentList"]] == [1, 2]
    assert Decimal(str(after["OrderAmount"])) == Decimal("11.00")           # 5 + 4 + 2: the invariant holds
    assert sim.api.get(f"/Orders/{oid}/Transactions").json()[0]["OrderID"] == oid


def test_status_labels_are_editable_definitions_fixed(sim):
    sim.admin.post("/_sim/order-status/4", json={"StatusText": "Sent"})
    row = sim.api.get("/OrderStatus/4").json()[0]
    assert row["StatusText"] == "Sent" and row["StatusDefinition"] == "Shipped"
    assert len(sim.api.get("/OrderStatus").json()) == 12


# ---- customers ----------------------------------------------------------------------------

def test_customers_create_read_update(sim):
    r = sim.api.post("/Customers", json={"Email": "new@example.com", "Password": "pw", "BillingFirstName": "Ann",
                                         "BillingAddress1": "2 Oak St"})
    assert r.status_code == 201 and r.json()[0]["Key"] == "CustomerID"
    cid = int(r.json()[0]["Value"])
    got = sim.api.get("/Customers", params={"email": "NEW@example.com"}).json()
    assert [c["CustomerID"] for c in got] == [cid] and got[0]["BillingAddress1"] == "2 Oak St"
    assert "BillingAddress" not in got[0] and got[0]["Password"] == ""
    assert sim.api.post("/Customers", json={"Email": "new@example.com", "Password": "pw"}).status_code == 400
    assert sim.api.post("/Customers", json={"Email": "nopw@example.com"}).status_code == 400
    assert sim.api.put(f"/Customers/{cid}", json={"BillingCity": "Reno"}).json()[0]["Status"] == "200"
    assert sim.api.get(f"/Customers/{cid}").json()[0]["BillingCity"] == "Reno"
    assert sim.api.put("/Customers/999999", json={"BillingCity": "x"}).status_code == 404
    batch = sim.api.put("/Customers", json=[{"CustomerID": cid, "BillingState": "NV"}, {"CustomerID": 999999},
                                            {"CustomerID": cid, "Email": "not-an-email"}])
    assert [(x["Value"], x["Status"]) for x in batch.json()] == [
        (str(cid), "200"), ("999999", "404"), (str(cid), "400")]
    assert sim.api.get(f"/Customers/{cid}").json()[0]["Email"] == "new@example.com"


# ---- write log ----------------------------------------------------------------------------

def test_write_log_records_every_api_write_with_its_body(sim):
    since = sim.admin.get("/_sim/writes").json()["last_seq"]
    cid = sim.product("LOG", stock=1)["SKUInfo"]["CatalogID"]
    sim.admin.post("/_sim/faults", json={"rate_limit_count": 1})
    assert sim.api.put("/Products", json=[{"SKUInfo": {"CatalogID": cid, "Stock": 2}}]).status_code == 429
    assert sim.api.put("/Products", json=[{"SKUInfo": {"CatalogID": cid, "Stock": 2}}]).status_code == 200
    log = sim.admin.get("/_sim/writes", params={"since": since}).json()["writes"]
    assert [(w["kind"], w["status"], w["items"]) for w in log] == [
        ("products_batch", 429, 1), ("products_batch", 200, 1)]
    assert log[1]["body"] == [{"SKUInfo": {"CatalogID": cid, "Stock": 2}}] and log[1]["method"] == "PUT"


def test_product_lastupdate_filter_uses_the_store_local_day_and_query_names_ignore_case():
    with running_sim() as s:
        s.admin.post("/_sim/clock", json={"local": "2026-05-01T23:50:00"})
        early = s.product("EARLY")["SKUInfo"]["CatalogID"]
        moved = s.product("MOVED")["SKUInfo"]["CatalogID"]
        s.admin.post("/_sim/clock", json={"local": "2026-05-02T00:05:00"})
        s.api.put(f"/Products/{moved}", json={"SKUInfo": {"Stock": 3}})

        def ids(**params):
            r = s.api.get("/Products", params=params)
            return [] if r.status_code == 404 else [p["SKUInfo"]["CatalogID"] for p in r.json()]

        assert ids(lastupdatestart="05/02/2026") == [moved]
        assert ids(lastupdateend="05/01/2026") == [early]
        assert ids(LastUpdateStart="05/02/2026", Limit=1) == [moved]
