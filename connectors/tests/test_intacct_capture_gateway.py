"""Change capture through the real IntacctGateway (over an httpx.MockTransport answering as the
issue-9 wire contract says, B's FakeIntacct): the readByQuery it sends (object, comma-separated
fields, the WHENMODIFIED bound, pagesize, docparid), readMore until numremaining is 0, every page a
transaction counted with purpose capture, the flattened rows sorted into erp.raw.v1 changes."""
from __future__ import annotations

import json

from prometheus_client import REGISTRY
from sagebridge_connectors.intacct.capture import build_capture

from .test_intacct_gateway import FakeIntacct, fresh_limiter, make_pair, result_ok  # noqa: F401 - fixtures
from .test_intacct_capture_fake import clean_faults  # noqa: F401 - the fixture

ROWS = [  # RECORDNO order, as Intacct returns them; stamps out of order
    ("1", "B", "12/02/2026 10:00:09"), ("2", "A", "12/02/2026 10:00:05"), ("3", "C", "12/02/2026 10:00:05"),
]


def item_xml(recordno, itemid, stamp):
    return (f"<item><RECORDNO>{recordno}</RECORDNO><ITEMID>{itemid}</ITEMID><NAME>N {itemid}</NAME>"
            f"<STATUS>active</STATUS><ITEMTYPE>Inventory</ITEMTYPE><BASEPRICE>9.90</BASEPRICE>"
            f"<EXTENDED_DESCRIPTION/><PRODUCTLINEID/><WHENMODIFIED>{stamp}</WHENMODIFIED></item>")


def page(cid, function, rows, remaining, result_id="r1"):
    body = "".join(item_xml(*r) for r in rows)
    return result_ok(function, cid, f'<data listtype="item" count="{len(rows)}" totalcount="{len(ROWS)}" '
                                    f'numremaining="{remaining}" resultId="{result_id}">{body}</data>')


def transactions(function):
    return REGISTRY.get_sample_value("sagebridge_intacct_api_transactions_total", {
        "pair": "xcart-intacct", "function": function, "purpose": "capture"}) or 0.0


def test_capture_pages_through_the_real_gateway(tmp_path):
    fake = FakeIntacct()
    fake.on("readByQuery", lambda fn, cid: page(cid, "readByQuery", ROWS[:2], 1))
    fake.on("readMore", lambda fn, cid: page(cid, "readMore", ROWS[2:], 0))
    pair = make_pair(tmp_path, change_capture={"page_size": 2})
    from sagebridge_connectors.intacct.gateway import IntacctGateway
    gw = IntacctGateway(pair.erp, pair_id="xcart-intacct", transport=fake.transport(), sleep=lambda s: None)
    cap = build_capture(pair, gw)
    before = (transactions("readByQuery"), transactions("readMore"))
    out = cap.changes("item", None, 10)
    assert [c.listing["key"] for c in out.changes] == ["A", "C", "B"] and not out.has_more
    [query] = fake.calls("readByQuery")
    assert query.findtext("object") == "ITEM" and query.findtext("pagesize") == "2"
    assert query.findtext("query") == "WHENMODIFIED >= '01/01/1970 00:00:00'" and query.find("docparid") is None
    assert query.findtext("fields").split(",")[:2] == ["RECORDNO", "ITEMID"]
    assert fake.calls("readMore")[0].findtext("resultId") == "r1"
    after = json.loads(out.changes[0].listing["after"])
    assert after["BASEPRICE"] == "9.90" and after["EXTENDED_DESCRIPTION"] == ""
    assert after["WHENMODIFIED_UTC"] == "2026-12-02T18:00:05Z"
    assert (transactions("readByQuery"), transactions("readMore")) == (before[0] + 1, before[1] + 1)
    assert cap.transactions == 2
    cap.changes("shipment", None, 10)
    assert fake.calls("readByQuery")[-1].findtext("docparid") == "Shipper"
