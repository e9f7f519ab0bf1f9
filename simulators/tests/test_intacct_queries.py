"""readByQuery / readMore over real HTTP: the query language (datetime comparison in the company
zone, quoting, IN / LIKE / IS NULL, precedence), unparsable queries, fields lists, pagesize bounds,
docparid, and the resultId snapshot while rows change underneath."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from sagebridge_sim.intacct.testing import SessionClient, running_sim


@pytest.fixture(scope="module")
def sim():
    with running_sim(seed=False) as s:
        yield s


@pytest.fixture()
def client(sim):
    sim.admin.post("/_sim/reset", json={"seed": False}).raise_for_status()
    sim.company.ref.warehouses |= {"WH1"}
    return SessionClient(sim)


def rbq(obj: str, query: str, fields: str = "*", pagesize: int | None = 100, docparid: str | None = None) -> str:
    from xml.sax.saxutils import escape
    parts = f"<object>{obj}</object><fields>{fields}</fields><query>{escape(query)}</query>"
    if pagesize is not None:
        parts += f"<pagesize>{pagesize}</pagesize>"
    if docparid:
        parts += f"<docparid>{docparid}</docparid>"
    return f"<readByQuery>{parts}</readByQuery>"


def item(sim, itemid: str, **fields) -> dict:
    r = sim.admin.post("/_sim/items", json={"ITEMID": itemid, **fields})
    assert r.status_code == 200, r.text
    return r.json()


def ids(result, tag: str = "item", field: str = "ITEMID") -> list[str]:
    return [e.findtext(field) for e in result.findall(f"data/{tag}")]


def test_operators_quotes_and_precedence(sim, client):
    item(sim, "A1", NAME="O'Brien", BASEPRICE="5.00", STATUS="active")
    item(sim, "A2", NAME="Widget", BASEPRICE="12.50", STATUS="inactive")
    item(sim, "B1", NAME="Bolt", BASEPRICE="100", STATUS="active", PRODUCTLINEID="HW")
    assert ids(client.result(rbq("ITEM", "NAME = 'O''Brien'"))) == ["A1"]
    assert ids(client.result(rbq("ITEM", "BASEPRICE > 10 AND BASEPRICE <= 100"))) == ["A2", "B1"]
    assert ids(client.result(rbq("ITEM", "ITEMID like 'A%'"))) == ["A1", "A2"]
    assert ids(client.result(rbq("ITEM", "ITEMID in ('A2','B1') AND STATUS != 'inactive'"))) == ["B1"]
    assert ids(client.result(rbq("ITEM", "STATUS = 'inactive' OR ITEMID = 'B1' AND NAME = 'nope'"))) == ["A2"]
    assert ids(client.result(rbq("ITEM", "(STATUS = 'inactive' OR ITEMID = 'B1') AND NAME <> 'Widget'"))) == ["B1"]
    assert ids(client.result(rbq("ITEM", "PRODUCTLINEID IS NULL"))) == ["A1", "A2"]
    assert ids(client.result(rbq("ITEM", "PRODUCTLINEID IS NOT NULL"))) == ["B1"]
    assert ids(client.result(rbq("ITEM", "ITEMID = 'a1'"))) == []          # case-sensitive text


def test_whenmodified_compares_as_a_datetime_in_the_company_zone(sim, client):
    item(sim, "A1")
    row = sim.company.one("ITEM", ITEMID="A1")
    row["WHENMODIFIED"] = datetime(2026, 1, 5, 18, 30, 0, tzinfo=timezone.utc)   # 10:30:00 in Los Angeles
    shown = client.result(rbq("ITEM", "", fields="ITEMID,WHENMODIFIED"))
    assert shown.findtext("data/item/WHENMODIFIED") == "01/05/2026 10:30:00"
    # a text comparison would put "01/05/2026 10:30:00" after "01/04/2027 ..."; datetimes do not
    assert ids(client.result(rbq("ITEM", "WHENMODIFIED >= '01/04/2027 00:00:00'"))) == []
    assert ids(client.result(rbq("ITEM", "WHENMODIFIED >= '01/05/2026 10:30:00'"))) == ["A1"]
    assert ids(client.result(rbq("ITEM", "WHENMODIFIED > '01/05/2026 10:30:00'"))) == []
    assert ids(client.result(rbq("ITEM", "WHENMODIFIED >= '01/05/2026'"))) == ["A1"]


@pytest.mark.parametrize("query", ["ITEMID = ", "ITEMID == 'x'", "NOSUCH = 'x'", "ITEMID = 'x' AND", "(ITEMID = 'x'",
                                   "WHENMODIFIED >= 'yesterday'", "ITEMID = 'unterminated"])
def test_unparsable_query_is_query_failed(client, query):
    r = client.result(rbq("ITEM", query))
    assert r.findtext("status") == "failure"
    assert r.findtext("errormessage/error/errorno") == "Query Failed"


def test_fields_list_groups_and_unknown_field(sim, client):
    sim.admin.post("/_sim/customers", json={"CUSTOMERID": "C1", "NAME": "Ann", "DISPLAYCONTACT.EMAIL1": "a@x.com",
                                            "DISPLAYCONTACT.MAILADDRESS.CITY": "Boston"}).raise_for_status()
    r = client.result(rbq("CUSTOMER", "DISPLAYCONTACT.EMAIL1 = 'a@x.com'", fields="CUSTOMERID,DISPLAYCONTACT.MAILADDRESS"))
    cust = r.find("data/customer")
    assert [c.tag for c in cust] == ["CUSTOMERID", "DISPLAYCONTACT"]
    assert cust.findtext("DISPLAYCONTACT/MAILADDRESS/CITY") == "Boston"
    assert cust.find("DISPLAYCONTACT/MAILADDRESS/ZIP").text is None         # empty field = empty element
    bad = client.result(rbq("CUSTOMER", "", fields="CUSTOMERID,EMAIL"))
    assert bad.findtext("errormessage/error/errorno") == "Invalid fields list EMAIL"


@pytest.mark.parametrize("size", [0, 1001, -1])
def test_pagesize_bounds(client, size):
    assert client.result(rbq("ITEM", "", pagesize=size)).findtext("status") == "failure"


def test_paging_is_a_snapshot_while_rows_change(sim, client):
    for n in range(1, 6):
        item(sim, f"I{n}", BASEPRICE="1")
    first = client.result(rbq("ITEM", "BASEPRICE = 1", fields="ITEMID,BASEPRICE", pagesize=2))
    data = first.find("data")
    assert (data.get("listtype"), data.get("count"), data.get("totalcount"), data.get("numremaining")) == \
        ("item", "2", "5", "3")
    assert ids(first) == ["I1", "I2"]
    item(sim, "I3", BASEPRICE="9")                 # changed: no longer matches, but the snapshot keeps it
    item(sim, "I6", BASEPRICE="1")                 # new match: not in this result
    pages = [ids(first)]
    result_id = data.get("resultId")
    while True:
        more = client.result(f"<readMore><resultId>{result_id}</resultId></readMore>")
        pages.append(ids(more))
        if more.find("data").get("numremaining") == "0":
            break
    assert pages == [["I1", "I2"], ["I3", "I4"], ["I5"]]
    assert more.findtext("data/item/BASEPRICE") == "1"
    gone = client.result(f"<readMore><resultId>{result_id}</resultId></readMore>")
    assert gone.findtext("status") == "failure"
    assert ids(client.result(rbq("ITEM", "BASEPRICE = 1", fields="ITEMID"))) == ["I1", "I2", "I4", "I5", "I6"]


def test_docparid_narrows_sodocument(sim, client):
    sim.company.ref.terms |= {"N30"}
    sim.admin.post("/_sim/customers", json={"CUSTOMERID": "C1", "NAME": "Ann"}).raise_for_status()
    item(sim, "W1", BASEPRICE="2")
    so = ("<create_sotransaction><transactiontype>Sales Order</transactiontype><datecreated><year>2026</year>"
          "<month>12</month><day>01</day></datecreated><customerid>C1</customerid><referenceno>XI1-1</referenceno>"
          "<termname>N30</termname><sotransitems><sotransitem><itemid>W1</itemid><quantity>1</quantity>"
          "</sotransitem></sotransitems></create_sotransaction>")
    assert client.result(so, controlid="so1").findtext("key") == "Sales Order-SO-00001"
    sim.admin.post("/_sim/ship", json={"referenceno": "XI1-1", "tracking": "1Z9"}).raise_for_status()
    both = client.result(rbq("SODOCUMENT", "REFERENCENO = 'XI1-1'", fields="DOCID"))
    assert ids(both, "sodocument", "DOCID") == ["Sales Order-SO-00001", "Shipper-SH-00001"]
    shippers = client.result(rbq("SODOCUMENT", "REFERENCENO like 'XI1-%'", fields="DOCID,CREATEDFROM,TRACKINGNUMBER",
                                 docparid="Shipper"))
    assert ids(shippers, "sodocument", "DOCID") == ["Shipper-SH-00001"]
    assert shippers.findtext("data/sodocument/CREATEDFROM") == "Sales Order-SO-00001"
    assert shippers.findtext("data/sodocument/TRACKINGNUMBER") == "1Z9"
