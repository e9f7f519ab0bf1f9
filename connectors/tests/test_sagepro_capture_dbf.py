"""Sage Pro change capture reading real Visual FoxPro DBF files (built by the simulator's
dbf_files with the PyPI `dbf` library): the same values as through ODBC, records marked deleted
are deletes, edits while a scan pages, and the files are never written (bytes and timestamps)."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
import yaml

from sagebridge_common.errors import PermanentError
from sagebridge_common.pairs import load_pair_file
from sagebridge_common.row_memory import DictRowMemory
from sagebridge_connectors.sagepro.capture import build_capture
from sagebridge_connectors.sagepro.layout import load_layout
from sagebridge_sim.sagepro.dbf_files import DbfCompany

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "pairs" / "xcart-sagepro.yaml"
LAYOUT = {"tables": {"customer": {"changed_since": "adddate"},
                     "item": {"columns": {"taxable": {"column": "taxable", "type": "logical"}}}}}


@pytest.fixture
def company(tmp_path):
    files = DbfCompany(tmp_path / "data", layout=load_layout(LAYOUT)).create()

    def pair(**capture):
        data = yaml.safe_load(SHIPPED.read_text())
        data["erp"].update({"connection_string": "", "layout": LAYOUT})
        data["erp"]["change_capture"] = {"source": "dbf", "dbf_dir": str(files.directory), "rows_per_s": 1_000_000,
                                         **capture}
        path = tmp_path / "pair.yaml"
        path.write_text(yaml.safe_dump(data))
        return load_pair_file(path)
    return files, pair


def scan(cap, stream: str, cursor=None, limit: int = 1000, between=None):
    seen, pages = [], 0
    while True:
        page = cap.changes(stream, cursor, limit)
        cap.delivered(stream, page)
        seen += page.changes
        cursor, pages = page.cursor, pages + 1
        if between:
            between(pages)
        if not page.has_more:
            return seen, cursor


def fingerprint(directory: Path) -> dict[str, tuple[str, int]]:
    return {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(directory.iterdir())}


def test_the_files_are_real_vfp_tables_with_the_layout_field_types(company):
    files, _pair = company
    import dbf
    header = files.path("item_location").read_bytes()[0]
    assert header == 0x30                                     # Visual FoxPro
    table = dbf.Table(str(files.path("item")))
    table.open(dbf.READ_ONLY)
    try:
        assert list(table.structure()) == ["ITEM C(20)", "DESCRIP C(40)", "ITMCLSS C(6)", "PRICE N(14,4)",
                                           "ITSTAT C(1)", "WEIGHT N(10,3)", "TAXABLE L"]
    finally:
        table.close()


def test_rows_read_from_dbf_files_are_emitted_as_the_wire_contract_says(company):
    files, pair = company
    files.insert("item_location", [{"item": "A100", "loctid": "MAIN", "on_hand": "12.5"}])
    files.insert("item", [{"item": "A100", "descrip": "Blue mug", "category": "MUGS", "price": "9.9",
                           "status": "A", "weight": "0.25", "taxable": True}])
    files.insert("order_header", [{"sono": "1001", "custno": "W000000001", "ponum": "XP1-00042",
                                   "ordate": "2026-01-02", "sostat": "S", "ordamt": "30"}])
    cap = build_capture(pair(tables=["item_location", "item", "order_header"]), DictRowMemory())
    assert cap.ping() == (True, "DBF files readable")
    (stock,), _ = scan(cap, "ICILOC")
    assert stock.entity_id == "A100|MAIN" and stock.listing["entity_key"] == "A100"
    assert json.loads(stock.listing["after"]) == {"item": "A100", "loctid": "MAIN", "on_hand": "12.50",
                                                  "committed": "0.00"}       # blank N: 0, as VFP reads it
    (item,), _ = scan(cap, "ICITEM")
    assert json.loads(item.listing["after"]) == {"item": "A100", "descrip": "Blue mug", "category": "MUGS",
                                                 "price": "9.9000", "status": "A", "weight": "0.250",
                                                 "taxable": True}
    (order,), _ = scan(cap, "SOMAST")
    after = json.loads(order.listing["after"])
    assert order.entity_id == "1001" and after["sono"] == "1001" and after["ordate"] == "2026-01-02"
    assert after["shipdate"] is None and after["tracking"] == "" and after["ordamt"] == "30.00"


def test_a_scan_never_writes_the_files(company):
    files, pair = company
    files.insert("item_location", [{"item": f"R{i:03d}", "loctid": "MAIN", "on_hand": i} for i in range(30)])
    files.insert("customer", [{"custno": "C1", "name": "One", "email": "one@example.com", "adddate": "2026-01-02"}])
    before = fingerprint(files.directory)
    cap = build_capture(pair(tables=["item_location", "customer"]), DictRowMemory())
    changes, cursor = scan(cap, "ICILOC", limit=7)
    scan(cap, "ARCUST")
    scan(cap, "ICILOC", cursor, limit=7)
    cap.ping()
    cap.close()
    assert len(changes) == 30
    assert fingerprint(files.directory) == before


def test_a_record_marked_deleted_is_a_delete_and_edits_while_paging_are_caught(company):
    files, pair = company
    files.insert("item_location", [{"item": f"E{i}", "loctid": "MAIN", "on_hand": 1} for i in range(6)])
    cap = build_capture(pair(tables=["item_location"]), DictRowMemory())

    def edit(pages):
        if pages == 1:               # E0, E1 read: one edit behind the cursor, one ahead
            files.update("item_location", {"item": "E0", "loctid": "MAIN"}, {"on_hand": 5})
            files.update("item_location", {"item": "E4", "loctid": "MAIN"}, {"on_hand": 5})
    first, cursor = scan(cap, "ICILOC", limit=2, between=edit)
    got = {(c.entity_id, json.loads(c.listing["after"])["on_hand"]) for c in first}
    assert got == {("E0|MAIN", "1.00"), ("E1|MAIN", "1.00"), ("E2|MAIN", "1.00"), ("E3|MAIN", "1.00"),
                   ("E4|MAIN", "5.00"), ("E5|MAIN", "1.00")}
    assert files.delete("item_location", {"item": "E2", "loctid": "MAIN"}) == 1
    second, _ = scan(cap, "ICILOC", cursor, limit=2)
    assert [(c.listing["op"], c.entity_id) for c in second] == [("upsert", "E0|MAIN"), ("delete", "E2|MAIN")]


def test_narrowed_dbf_scans_read_only_rows_changed_since(company):
    files, pair = company
    import datetime
    files.insert("customer", [{"custno": "OLD1", "name": "Old", "adddate": "2020-01-01"},
                              {"custno": "OLD2", "name": "Old", "adddate": "2020-01-01"}])
    cap = build_capture(pair(tables=["customer"]), DictRowMemory())
    _, cursor = scan(cap, "ARCUST")
    files.update("customer", {"custno": "OLD1"}, {"name": "New", "adddate": datetime.date.today()})
    files.update("customer", {"custno": "OLD2"}, {"name": "Unstamped"})
    narrow, _ = scan(cap, "ARCUST", cursor)
    assert [c.entity_id for c in narrow] == ["OLD1"]


def test_a_missing_file_or_column_is_said_plainly(company, tmp_path):
    files, pair = company
    os.remove(files.path("price"))
    cap = build_capture(pair(tables=["item_location", "price"]), DictRowMemory())
    up, detail = cap.ping()
    assert not up and "icpric01" in detail
    with pytest.raises(PermanentError, match="icpric01"):
        cap.changes("ICPRIC", None, 10)
    wider = {"tables": {"item_location": {"columns": {"bin": {"column": "binloc", "type": "char", "width": 6}}}}}
    data = yaml.safe_load(SHIPPED.read_text())
    data["erp"].update({"layout": wider, "change_capture": {"source": "dbf", "dbf_dir": str(files.directory),
                                                            "tables": ["item_location"]}})
    path = tmp_path / "wider.yaml"
    path.write_text(yaml.safe_dump(data))
    other = build_capture(load_pair_file(path), DictRowMemory())
    with pytest.raises(PermanentError, match="binloc"):
        other.changes("ICILOC", None, 10)


def test_source_dbf_without_a_directory_refuses_to_build(company):
    _files, pair = company
    with pytest.raises(ValueError, match="dbf_dir"):
        build_capture(pair(dbf_dir=""), DictRowMemory())
