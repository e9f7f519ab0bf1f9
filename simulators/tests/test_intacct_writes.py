"""Writes of the Intacct simulator over real HTTP: create_sotransaction validations and TOTAL,
ARPYMT applied / advance, GLBATCH balance, create_aradjustment; and the admin driver (items,
stock, customers, ship, invoice, state_of_order) moving WHENMODIFIED."""
from __future__ import annotations

import pytest

from sagebridge_sim.intacct.testing import SessionClient, running_sim


@pytest.fixture(scope="module")
def sim():
    with running_sim() as s:
        yield s


@pytest.fixture()
def client(sim):
    sim.admin.post("/_sim/reset").raise_for_status()
    sim.admin.post("/_sim/customers", json={"CUSTOMERID": "C1", "NAME": "Ann",
                                            "DISPLAYCONTACT.EMAIL1": "ann@example.com"}).raise_for_status()
    return SessionClient(sim)


def so(ref: str = "XI1-1001", *, lines: str | None = None, header: str = "<termname>N30</termname>",
       customer: str = "C1", subtotals: str = "") -> str:
    lines = lines or ("<sotransitem><itemid>WIDGET-1</itemid><warehouseid>WH1</warehouseid><quantity>2</quantity>"
                      "<discountpercent>10</discountpercent><price>19.99</price></sotransitem>"
                      "<sotransitem><itemid>FRT</itemid><itemdesc>UPS Ground</itemdesc><quantity>1</quantity>"
                      "<price>5.00</price></sotransitem>")
    return ("<create_sotransaction><transactiontype>Sales Order</transactiontype><datecreated><year>2026</year>"
            f"<month>12</month><day>01</day></datecreated><customerid>{customer}</customerid>"
            f"<referenceno>{ref}</referenceno>{header}<currency>USD</currency><exchratetype>Intacct Daily Rate</exchratetype><sotransitems>{lines}</sotransitems>"
            f"{subtotals}</create_sotransaction>")


def errors(result) -> list[tuple[str, str]]:
    return [(e.findtext("errorno"), e.findtext("description2")) for e in result.findall("errormessage/error")]


def state(sim) -> dict:
    return sim.admin.get("/_sim/state").json()


def test_sales_order_total_lines_and_key(sim, client):
    subtotals = ("<subtotals><subtotal><description>Handling</description><total>2.00</total></subtotal>"
                 "<subtotal><description>Discount</description><total>-3.00</total></subtotal>"
                 "<subtotal><description>Tax</description><total>0.88</total></subtotal></subtotals>")
    r = client.result(so(subtotals=subtotals), controlid="so-1", uniqueid=True)
    assert r.findtext("key") == "Sales Order-SO-00001"
    doc = state(sim)["documents"]["Sales Order-SO-00001"]
    assert (doc["TOTAL"], doc["SUBTOTAL"], doc["STATE"], doc["REFERENCENO"]) == ("40.86", "40.98", "Pending", "XI1-1001")
    assert [l["itemid"] for l in doc["lines"]] == ["WIDGET-1", "FRT"]
    assert [s["total"] for s in doc["subtotals"]] == ["2.00", "-3.00", "0.88"]


@pytest.mark.parametrize("kwargs, expected", [
    ({"lines": "<sotransitem><itemid>NOPE</itemid><quantity>1</quantity></sotransitem>"},
     [("BL03000018", "Invalid Item NOPE"), ("BL01001973", "")]),
    ({"customer": "C9"}, [("BL03000017", "Invalid Customer C9"), ("BL01001973", "")]),
    ({"lines": "<sotransitem><itemid>FRT</itemid><warehouseid>WH9</warehouseid><quantity>1</quantity></sotransitem>"},
     [("BL03000019", "Invalid Warehouse WH9"), ("BL01001973", "")]),
    ({"header": ""}, [("BL03000020", "Either a term or a due date is required."), ("BL01001973", "")]),
    ({"header": "<termname>N60</termname>"}, [("BL03000021", "Invalid Term N60"), ("BL01001973", "")]),
    ({"ref": "X" * 101}, [("BL03000023", "referenceno is 101 characters, more than 100."), ("BL01001973", "")]),
])
def test_sales_order_validations(sim, client, kwargs, expected):
    r = client.result(so(**kwargs), controlid="so-v", uniqueid=True)
    assert r.findtext("status") == "failure"
    assert errors(r) == expected
    assert r.findtext("errormessage/error[2]/description") == "Could not create Document record!"
    assert state(sim)["objects"]["SODOCUMENT"] == []
    assert client.result(so(), controlid="so-v", uniqueid=True).findtext("status") == "success"   # not burnt


def test_datedue_instead_of_a_term(client):
    header = "<datedue><year>2026</year><month>12</month><day>31</day></datedue>"
    assert client.result(so(header=header)).findtext("status") == "success"


def test_payment_applied_to_the_invoice_then_an_advance(sim, client):
    client.result(so(), controlid="so-1")
    ar = sim.admin.post("/_sim/invoice", json={"referenceno": "XI1-1001"}).json()["arinvoice"]
    assert (ar["DOCNUMBER"], ar["TOTALDUE"]) == ("XI1-1001", "40.98")

    def pay(amount: str, detail: str = "", docnumber: str = "XI1-1001-P1") -> str:
        return ("<create><ARPYMT><FINANCIALENTITY>BOA</FINANCIALENTITY><PAYMENTMETHOD>Credit Card</PAYMENTMETHOD>"
                f"<CUSTOMERID>C1</CUSTOMERID><DOCNUMBER>{docnumber}</DOCNUMBER><RECEIPTDATE>12/01/2026</RECEIPTDATE>"
                f"<PAYMENTDATE>12/01/2026</PAYMENTDATE><CURRENCY>USD</CURRENCY><TRX_PAYMENTAMOUNT>{amount}"
                f"</TRX_PAYMENTAMOUNT>{detail}</ARPYMT></create>")
    detail = (f"<ARPYMTDETAILS><ARPYMTDETAIL><RECORDKEY>{ar['RECORDNO']}</RECORDKEY><TRX_PAYMENTAMOUNT>{{}}"
              "</TRX_PAYMENTAMOUNT></ARPYMTDETAIL></ARPYMTDETAILS>")
    over_due = client.result(pay("50.00", detail.format("41.00")))
    assert errors(over_due)[0][0] == "BL03000032"
    over_header = client.result(pay("10.00", detail.format("20.00")))
    assert errors(over_header)[0][0] == "BL03000033"
    assert errors(client.result(pay("10.001")))[0][0] == "PL03000008"
    bad_bank = client.result(pay("10.00").replace("BOA", "CHASE"))
    assert errors(bad_bank)[0] == ("BL03000030", "Invalid Checking Account CHASE")
    ok = client.result(pay("40.98", detail.format("40.98")))
    assert ok.findtext("data/arpymt/RECORDNO") == "1"
    advance = client.result(pay("5.00", docnumber="XI1-1001-P2"))
    assert advance.findtext("data/arpymt/RECORDNO") == "2"
    objects = state(sim)["objects"]
    assert [(p["DOCNUMBER"], p["STATE"]) for p in objects["ARPYMT"]] == [("XI1-1001-P1", "Applied"),
                                                                         ("XI1-1001-P2", "Advance")]
    assert (objects["ARINVOICE"][0]["TOTALDUE"], objects["ARINVOICE"][0]["STATE"]) == ("0.00", "Paid")


def test_glbatch_must_balance(sim, client):
    def batch(credit: str) -> str:
        return ("<create><GLBATCH><JOURNAL>GJ</JOURNAL><BATCH_DATE>12/01/2026</BATCH_DATE><BATCH_TITLE>Fee</BATCH_TITLE>"
                "<REFERENCENO>XI1-1001-Ft1</REFERENCENO><ENTRIES>"
                "<GLENTRY><ACCOUNTNO>6000</ACCOUNTNO><TR_TYPE>1</TR_TYPE><TRX_AMOUNT>1.20</TRX_AMOUNT></GLENTRY>"
                f"<GLENTRY><ACCOUNTNO>1200</ACCOUNTNO><TR_TYPE>-1</TR_TYPE><TRX_AMOUNT>{credit}</TRX_AMOUNT></GLENTRY>"
                "</ENTRIES></GLBATCH></create>")
    assert errors(client.result(batch("1.10")))[0][0] == "BL03000037"
    ok = client.result(batch("1.20"))
    assert ok.findtext("data/glbatch/RECORDNO") == "1"
    assert [(b["REFERENCENO"], b["STATE"]) for b in state(sim)["objects"]["GLBATCH"]] == [("XI1-1001-Ft1", "Posted")]


def test_aradjustment_returns_a_key(sim, client):
    fn = ("<create_aradjustment><customerid>C1</customerid><datecreated><year>2026</year><month>12</month>"
          "<day>02</day></datecreated><adjustmentno>XI1-1001-Rr9</adjustmentno><description>damaged</description>"
          "<aradjustmentitems><lineitem><glaccountno>4900</glaccountno><amount>10.00</amount><memo>r9</memo>"
          "</lineitem></aradjustmentitems></create_aradjustment>")
    assert client.result(fn).findtext("key") == "1"
    row = state(sim)["objects"]["ARADJUSTMENT"][0]
    assert (row["RECORDID"], row["TOTALENTERED"], row["CUSTOMERID"]) == ("XI1-1001-Rr9", "10.00", "C1")


def test_admin_driver_items_stock_ship_state(sim, client):
    item = sim.admin.post("/_sim/items", json={"ITEMID": "NEW-1", "BASEPRICE": "3.50", "NAME": "New"}).json()
    assert (item["ITEMTYPE"], item["STATUS"], item["BASEPRICE"]) == ("Inventory", "active", "3.50")
    assert sim.admin.post("/_sim/stock", json={"ITEMID": "NEW-1", "WAREHOUSEID": "WH2", "QTYONHAND": 7,
                                               "QTYONHOLD": 2}).status_code == 200
    assert sim.admin.post("/_sim/stock", json={"ITEMID": "NEW-1", "WAREHOUSEID": "WH7"}).status_code == 400
    assert sim.admin.post("/_sim/customers", json={"CUSTOMERID": "C1", "NAME": "Dup"}).status_code == 400
    client.result(so(), controlid="so-1")
    before = {r["ITEMID"]: r for r in state(sim)["objects"]["ITEMWAREHOUSEINFO"] if r["WAREHOUSEID"] == "WH1"}
    shipped = sim.admin.post("/_sim/ship", json={"referenceno": "XI1-1001", "tracking": "1Z1", "carrier": "FedEx",
                                                 "partial": True}).json()
    assert shipped["order"]["STATE"] == "Partially Converted"
    assert (shipped["shipper"]["DOCPARID"], shipped["shipper"]["TRACKINGNUMBER"], shipped["shipper"]["SHIPVIAKEY"],
            shipped["shipper"]["REFERENCENO"]) == ("Shipper", "1Z1", "FedEx", "XI1-1001")
    after = {r["ITEMID"]: r for r in state(sim)["objects"]["ITEMWAREHOUSEINFO"] if r["WAREHOUSEID"] == "WH1"}
    assert (before["WIDGET-1"]["QTYONHAND"], after["WIDGET-1"]["QTYONHAND"]) == ("1000", "998")
    assert sim.admin.post("/_sim/state_of_order", json={"referenceno": "XI1-1001", "state": "Closed"}).json()[
        "STATE"] == "Closed"
    assert sim.admin.post("/_sim/state_of_order", json={"referenceno": "XI1-1001", "state": "Gone"}).status_code == 400
    assert sim.admin.post("/_sim/ship", json={"referenceno": "XI1-404"}).status_code == 404
    assert sim.transactions()["total"] == 2            # getAPISession + the order: the driver is not counted


def test_demo_seed(sim, client):
    s = state(sim)
    items = {i["ITEMID"]: i for i in s["objects"]["ITEM"]}
    assert {k: items[k]["ITEMTYPE"] for k in ("FRT", "HAND", "MISC")} == dict.fromkeys(("FRT", "HAND", "MISC"),
                                                                                        "Non-Inventory")
    assert items["WIDGET-1"]["ITEMTYPE"] == "Inventory" and items["WIDGET-1"]["BASEPRICE"] == "9.99"
    assert s["reference"]["warehouses"] == ["WH1", "WH2"] and s["reference"]["checking_accounts"] == ["BOA", "PAYPAL"]
    assert s["reference"]["ship_methods"] == ["FedEx", "UPS Ground"] and s["reference"]["terms"] == ["N30"]


def test_erp_side_changes_stamp_whenmodified_at_seconds_in_the_company_zone(sim, client):
    from datetime import datetime, timezone
    client.result(so(), controlid="so-1")
    clock = sim.company.clock
    clock.now = lambda: datetime(2026, 7, 1, 19, 0, 5, tzinfo=timezone.utc)     # 12:00:05 PDT
    try:
        order = sim.admin.post("/_sim/state_of_order", json={"referenceno": "XI1-1001", "state": "Closed"}).json()
        stock = sim.admin.post("/_sim/stock", json={"ITEMID": "WIDGET-1", "WAREHOUSEID": "WH1", "QTYONHAND": 5}).json()
    finally:
        del clock.now                                                          # back to the class's real clock
    assert order["WHENMODIFIED"] == stock["WHENMODIFIED"] == "07/01/2026 12:00:05"


def test_a_currency_without_its_rate_type_is_a_schema_error(sim, client):
    """The DTD's group is `currency, (exchratedate?, exchratetype) | exchrate`: a currency alone does not validate."""
    alone = so().replace("<exchratetype>Intacct Daily Rate</exchratetype>", "")
    from lxml import etree
    doc = etree.fromstring(client.send(alone, controlid="so-cur", uniqueid=True).content)
    assert doc.findtext("control/status") == "failure"
    assert doc.findtext("errormessage/error/errorno") == "XL03000003"
    assert state(sim)["documents"] == {}
