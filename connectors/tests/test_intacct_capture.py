"""Intacct change capture against a strict fake of the gateway's read side: the queries it sends
(WHENMODIFIED >= watermark - overlap in the company's zone, docparid, fields), the erp.raw.v1 rows it
makes, sorting by (WHENMODIFIED, RECORDNO), equal stamps and overlap re-reads emitted once, edits
while paging and late commits never skipped, pages served from one read, restarts, the budget."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from sagebridge_common.contracts import ErpSource
from sagebridge_common.pairs import load_pair_file
from sagebridge_connectors.intacct.capture import IntacctCapture, build_capture

from .test_intacct_capture_fake import FakeGateway, clean_faults, gateway, local  # noqa: F401 - fixtures

SHIPPED = Path(__file__).resolve().parents[2] / "pairs" / "xcart-intacct.yaml"
T0 = datetime(2026, 12, 2, 18, 0, tzinfo=timezone.utc)          # 10:00:00 in Los Angeles


class Clock:
    """Our clock; tests put records stamped in the minute before it (a read floor is the previous
    read's start - overlap_s, so a record stamped earlier and committed later would be missed)."""

    def __init__(self, at: datetime = T0 + timedelta(seconds=60)) -> None:
        self.t = at.timestamp()

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def make_pair(tmp_path):
    def make(**cc):
        data = yaml.safe_load(SHIPPED.read_text())
        data["erp"]["change_capture"] = {**data["erp"]["change_capture"], **cc}
        path = tmp_path / f"pair-{len(list(tmp_path.iterdir()))}.yaml"
        path.write_text(yaml.safe_dump(data))
        return load_pair_file(path)
    return make


@pytest.fixture
def capture(make_pair, gateway):
    clock = Clock()
    cap = IntacctCapture(make_pair().erp, pair_id="xcart-intacct", gateway=gateway, now=clock)
    cap.clock = clock
    return cap


def item(gw: FakeGateway, recordno: int, itemid: str, at: datetime, **over: str) -> None:
    gw.put("ITEM", recordno, **{"ITEMID": itemid, "NAME": f"Name {itemid}", "STATUS": "active", "ITEMTYPE": "Inventory",
                                "BASEPRICE": "12.50", "EXTENDED_DESCRIPTION": "", "PRODUCTLINEID": "",
                                "WHENMODIFIED": local(at), **over})


def drain(cap, stream, cursor=None, limit=500):
    out = []
    while True:
        page = cap.changes(stream, cursor, limit)
        out += page.changes
        cap.delivered(stream, page)
        cursor = page.cursor
        if not page.has_more:
            return out, cursor


def ids(changes):
    return [c.listing["key"] for c in changes]


def test_it_is_an_erp_source_with_the_configured_streams(capture):
    assert isinstance(capture, ErpSource) and capture.kind == "intacct"
    assert capture.streams() == ["item", "item_warehouse", "sales_order", "shipment"]
    capture.memory = object()               # erp_cdc sets it on every capture; unused here


def test_the_first_poll_reads_everything_and_sorts_by_stamp_then_recordno(capture, gateway):
    item(gateway, 3, "B", T0 + timedelta(seconds=5))
    item(gateway, 1, "A", T0 + timedelta(seconds=9))
    item(gateway, 2, "C", T0 + timedelta(seconds=5))
    changes, _cursor = drain(capture, "item")
    assert ids(changes) == ["C", "B", "A"]
    [call] = gateway.calls
    assert call["obj"] == "ITEM" and call["docparid"] is None and call["pagesize"] == 1000
    assert call["query"] == "WHENMODIFIED >= '01/01/1970 00:00:00'" and call["purpose"] == "capture"
    first = changes[0]
    assert first.listing["position"] == f"{int((T0 + timedelta(seconds=5)).timestamp()):012d}|000000000002"
    assert first.version == first.listing["position"] and first.entity_type == "ITEM"
    assert first.occurred_at == T0 + timedelta(seconds=5)
    after = json.loads(first.listing["after"])
    assert after["WHENMODIFIED"] == "12/02/2026 10:00:05" and after["WHENMODIFIED_UTC"] == "2026-12-02T18:00:05Z"
    assert after["BASEPRICE"] == "12.50" and after["RECORDNO"] == "2"
    record = capture.fetch(first)
    assert record.payload == {"entity_key": "C", "op": "upsert", "table": "ITEM", "key": "C",
                              "after": first.listing["after"], "position": first.listing["position"]}


def test_each_stream_queries_its_object_definition_and_fields(capture, gateway):
    at = local(T0)
    gateway.put("ITEMWAREHOUSEINFO", 7, ITEMID="A", WAREHOUSEID="WH2", QTYONHAND="5", QTYONHOLD="1", WHENMODIFIED=at)
    gateway.put("SODOCUMENT", 4, docparid="Sales Order", DOCID="Sales Order-SO-00004", REFERENCENO="XI1-1001",
                STATE="Pending", WHENMODIFIED=at)
    gateway.put("SODOCUMENT", 5, docparid="Shipper", DOCID="Shipper-SH-00001", REFERENCENO="XI1-1001",
                TRACKINGNUMBER="1Z9", SHIPVIAKEY="UPS Ground", WHENMODIFIED=at)
    [stock], _ = drain(capture, "item_warehouse")
    assert stock.listing["table"] == "ITEMWAREHOUSEINFO" and stock.listing["key"] == "A|WH2"
    assert stock.listing["entity_key"] == "A" and json.loads(stock.listing["after"])["QTYONHOLD"] == "1"
    [order], _ = drain(capture, "sales_order")
    assert (order.listing["table"], order.listing["key"], order.listing["entity_key"]) == (
        "SODOCUMENT", "Sales Order-SO-00004", "Sales Order-SO-00004")
    [ship], _ = drain(capture, "shipment")
    assert ship.listing["table"] == "SHIPPER" and json.loads(ship.listing["after"])["TRACKINGNUMBER"] == "1Z9"
    by_obj = {(c["obj"], c["docparid"]): c["fields"] for c in gateway.calls}
    assert set(by_obj) == {("ITEMWAREHOUSEINFO", None), ("SODOCUMENT", "Sales Order"), ("SODOCUMENT", "Shipper")}
    assert {"QTYONHAND", "QTYONHOLD", "WHENMODIFIED", "RECORDNO"} <= set(by_obj[("ITEMWAREHOUSEINFO", None)])
    assert {"TRACKINGNUMBER", "SHIPVIAKEY", "CREATEDFROM"} <= set(by_obj[("SODOCUMENT", "Shipper")])


def test_the_configured_quantity_and_tracking_fields_are_read(make_pair, gateway):
    """Field names Sage does not confirm (intacct.md §6) come from the config; an unknown one is an error."""
    cfg = make_pair(on_hold_field="", tracking_field="MESSAGE").erp
    cap = IntacctCapture(cfg, pair_id="p", gateway=gateway, now=Clock())
    drain(cap, "item_warehouse")
    drain(cap, "shipment")
    fields = {c["docparid"] or c["obj"]: c["fields"] for c in gateway.calls}
    assert "QTYONHOLD" not in fields["ITEMWAREHOUSEINFO"] and "MESSAGE" in fields["Shipper"]
    bad = IntacctCapture(make_pair(on_hand_field="QTY_ON_HAND").erp, pair_id="p", gateway=gateway, now=Clock())
    with pytest.raises(ValueError, match="Invalid fields list QTY_ON_HAND"):
        bad.changes("item_warehouse", None, 10)


def test_the_next_poll_starts_overlap_before_the_watermark_in_company_time(capture, gateway):
    item(gateway, 1, "A", T0 + timedelta(seconds=30))
    capture.clock.t = (T0 + timedelta(seconds=20)).timestamp()      # company clock ahead of ours
    _c, cursor = drain(capture, "item")
    assert json.loads(cursor)["wm"] == int((T0 + timedelta(seconds=30)).timestamp())
    again, cursor = drain(capture, "item", cursor)
    assert again == []                               # re-read inside the overlap, dropped
    assert gateway.calls[-1]["query"] == "WHENMODIFIED >= '12/02/2026 09:59:30'"     # 10:00:30 - 60 s, LA


def test_after_a_quiet_spell_the_poll_starts_overlap_before_the_previous_read(capture, gateway):
    """A burst is not re-read on every poll while nothing newer changes: the floor follows the reads."""
    for n in range(1, 4):
        item(gateway, n, f"I{n}", T0 + timedelta(seconds=50))
    _c, cursor = drain(capture, "item")                             # read at 10:01:00
    assert gateway.calls[-1]["query"] == "WHENMODIFIED >= '01/01/1970 00:00:00'"
    capture.clock.t += 600
    again, cursor = drain(capture, "item", cursor)                 # floor 10:00:00: the burst re-read, dropped
    assert again == [] and gateway.calls[-1]["query"] == "WHENMODIFIED >= '12/02/2026 10:00:00'"
    _c, cursor = drain(capture, "item", cursor)
    assert gateway.calls[-1]["query"] == "WHENMODIFIED >= '12/02/2026 10:10:00'"   # previous read 10:11:00
    assert json.loads(cursor)["seen"] == {}                         # nothing it can read again is kept


def test_a_record_sharing_the_last_stamp_is_emitted_once_and_the_edit_of_one_again(capture, gateway):
    at = T0 + timedelta(seconds=10)
    item(gateway, 1, "A", at)
    item(gateway, 2, "B", at)
    first, cursor = drain(capture, "item")
    item(gateway, 3, "C", at)                       # same second, committed after the poll
    item(gateway, 1, "A", at + timedelta(seconds=1), NAME="Renamed")
    second, cursor = drain(capture, "item", cursor)
    assert ids(first) == ["A", "B"] and ids(second) == ["C", "A"]
    assert json.loads(second[1].listing["after"])["NAME"] == "Renamed"
    assert drain(capture, "item", cursor)[0] == []


def test_a_late_commit_with_an_older_stamp_is_caught_by_the_overlap(capture, gateway):
    item(gateway, 1, "A", T0 + timedelta(seconds=50))
    _c, cursor = drain(capture, "item")
    item(gateway, 2, "B", T0 + timedelta(seconds=20))   # stamped before A, visible only now
    [late], _ = drain(capture, "item", cursor)
    assert late.listing["key"] == "B"


def test_a_record_edited_while_the_scan_pages_is_not_skipped(make_pair, gateway):
    cap = IntacctCapture(make_pair(page_size=2).erp, pair_id="p", gateway=gateway, now=Clock())
    for n in range(1, 6):
        item(gateway, n, f"I{n}", T0 + timedelta(seconds=n))
    gateway.between_pages = lambda page: item(gateway, 5, "I5", T0 + timedelta(seconds=40), NAME="Edited") \
        if page == 1 else None
    first, cursor = drain(cap, "item")
    assert ids(first) == ["I1", "I2", "I3", "I4", "I5"]      # the snapshot's I5
    assert gateway.transactions == 3                          # readByQuery + 2 readMore
    gateway.between_pages = None
    [edited], _ = drain(cap, "item", cursor)
    assert json.loads(edited.listing["after"])["NAME"] == "Edited"


def test_pages_of_one_read_need_no_further_query(capture, gateway):
    for n in range(1, 8):
        item(gateway, n, f"I{n}", T0 + timedelta(seconds=n))
    page = capture.changes("item", None, 3)
    assert ids(page.changes) == ["I1", "I2", "I3"] and page.has_more
    page2 = capture.changes("item", page.cursor, 3)
    page3 = capture.changes("item", page2.cursor, 3)
    assert ids(page2.changes) == ["I4", "I5", "I6"] and ids(page3.changes) == ["I7"] and not page3.has_more
    assert len(gateway.calls) == 1 and capture.transactions == 1


def test_a_page_retried_from_the_old_cursor_reads_again(capture, gateway):
    """The runner failed to publish page 2 and asks again with page 1's cursor: a fresh read."""
    for n in range(1, 6):
        item(gateway, n, f"I{n}", T0 + timedelta(seconds=n))
    p1 = capture.changes("item", None, 2)
    capture.changes("item", p1.cursor, 2)
    retry = capture.changes("item", p1.cursor, 2)
    assert ids(retry.changes) == ["I3", "I4"] and len(gateway.calls) == 2


def test_a_restart_mid_scan_emits_the_rest_once(make_pair, gateway):
    for n in range(1, 7):
        item(gateway, n, f"I{n}", T0 + timedelta(seconds=n // 2))     # pairs share a second
    cfg = make_pair().erp
    one = IntacctCapture(cfg, pair_id="p", gateway=gateway, now=Clock())
    p1 = one.changes("item", None, 3)                    # I1 I2 I3: stops inside second 1 (I2, I3)
    two = IntacctCapture(cfg, pair_id="p", gateway=gateway, now=Clock())
    rest, _ = drain(two, "item", p1.cursor, limit=3)
    assert ids(p1.changes) + ids(rest) == [f"I{n}" for n in range(1, 7)]


def test_start_at_ignores_older_records(make_pair, gateway):
    cap = IntacctCapture(make_pair(start_at="2026-12-02T18:00:10Z").erp, pair_id="p", gateway=gateway, now=Clock())
    item(gateway, 1, "OLD", T0 + timedelta(seconds=9))
    item(gateway, 2, "NEW", T0 + timedelta(seconds=10))
    changes, _ = drain(cap, "item")
    assert ids(changes) == ["NEW"] and gateway.calls[0]["query"] == "WHENMODIFIED >= '12/02/2026 09:59:10'"


def test_a_record_without_a_usable_stamp_is_skipped_not_fatal(capture, gateway):
    item(gateway, 1, "A", T0)
    gateway.put("ITEM", 2, ITEMID="B", WHENMODIFIED="12/02/2026 10:00:01")
    gateway.records[("ITEM", None)][3] = {"RECORDNO": "x", "ITEMID": "C", "WHENMODIFIED": "12/02/2026 10:00:02"}
    changes, _ = drain(capture, "item")
    assert ids(changes) == ["A", "B"]


def test_budget_stretches_the_poll_interval_and_holds_back_after_a_costly_poll(make_pair, gateway):
    clock = Clock()
    # 100,000 a month, half for capture, 4 streams: 4 / (50,000 / 31 days) = 214.27 s between polls
    cfg = make_pair(budget={"monthly_transactions": 100000, "capture_share": 0.5}, page_size=2).erp
    cap = IntacctCapture(cfg, pair_id="p", gateway=gateway, now=clock)
    assert cap.min_poll_interval_s == pytest.approx(4 * 31 * 24 * 3600 / 50000)
    for n in range(1, 6):
        item(gateway, n, f"I{n}", T0 + timedelta(seconds=n))
    _c, cursor = drain(cap, "item")                      # 3 transactions
    assert cap.transactions == 3
    clock.t += cap.min_poll_interval_s * 2               # two polls' worth: not yet
    held = cap.changes("item", cursor, 500)
    assert held.changes == [] and not held.has_more and json.loads(held.cursor) == json.loads(cursor)
    assert len(gateway.calls) == 1
    clock.t += cap.min_poll_interval_s
    item(gateway, 6, "I6", datetime.fromtimestamp(clock.t - 1, timezone.utc))
    assert ids(cap.changes("item", held.cursor, 500).changes) == ["I6"]
    assert len(gateway.calls) == 2 and cap.min_poll_interval_s > cfg.change_capture.poll_interval_s


def test_without_a_budget_the_configured_interval_holds(capture):
    assert capture.min_poll_interval_s == 10.0


def test_ping_reports_the_gateway_and_never_raises(capture, gateway):
    assert capture.ping() == (True, "Intacct reachable")
    gateway.up = False
    ok, detail = capture.ping()
    assert not ok and "ConnectionError" in detail


def test_a_failed_read_saves_nothing_and_the_next_poll_reads_again(capture, gateway):
    item(gateway, 1, "A", T0)
    gateway.fail_next = TimeoutError("gateway")
    with pytest.raises(TimeoutError):
        capture.changes("item", None, 10)
    assert ids(capture.changes("item", None, 10).changes) == ["A"]


def test_build_capture_needs_a_change_capture_block(make_pair, gateway, tmp_path):
    pair = make_pair()
    assert build_capture(pair, gateway).gateway is gateway
    from sagebridge_connectors.intacct.gateway import IntacctGateway
    own = build_capture(pair)
    assert isinstance(own.gateway, IntacctGateway) and own.name == "intacct"       # company_id unset: the kind
    own.close()
    data = yaml.safe_load(SHIPPED.read_text())
    del data["erp"]["change_capture"]
    (tmp_path / "none.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError, match="no erp.change_capture"):
        build_capture(load_pair_file(tmp_path / "none.yaml"), gateway)
