"""erp_cdc's main wires one source runner per pair with a capture block, whatever the ERP: Sage 300's
`database` and Intacct's `change_capture` (poll interval, batch size, the budget's stretch, the
company as source_instance). Built, not run: no broker is needed to construct the runners."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from sagebridge_common import registry
from sagebridge_common.contracts import ChangePage, SourceRecord
from sagebridge_erp_cdc.config import ErpCdcSettings
from sagebridge_erp_cdc.main import build, capture_block, instance_of
from sagebridge_common.pairs import load_pair_file

PAIRS = Path(__file__).resolve().parents[3] / "pairs"


class StubCapture:
    def __init__(self, kind, interval=0.0):
        self.kind, self.min_poll_interval_s, self.memory = kind, interval, None

    def streams(self):
        return ["item"]

    def changes(self, stream, cursor, limit):
        return ChangePage([], cursor or "{}")

    def ping(self):
        return True, "ok"


def write(tmp_path, name, mutate=lambda d: None):
    data = yaml.safe_load((PAIRS / name).read_text())
    mutate(data)
    (tmp_path / name).write_text(yaml.safe_dump(data))
    return tmp_path / name


@pytest.fixture
def stubs(monkeypatch):
    built = {}

    def factory(kind, interval=0.0):
        def make(pair):
            built[pair.pair] = StubCapture(kind, interval)
            return built[pair.pair]
        return make
    monkeypatch.setitem(registry._factories, ("erp_source", "intacct"), factory("intacct", 300.0))
    monkeypatch.setitem(registry._factories, ("erp_source", "sage300"), factory("sage300"))
    return built


def test_capture_blocks_and_instances_of_both_erps(tmp_path):
    intacct = load_pair_file(write(tmp_path, "xcart-intacct.yaml"))
    sage = load_pair_file(write(tmp_path, "xcart-sage300.yaml"))
    assert capture_block(intacct.erp) is intacct.erp.change_capture and capture_block(sage.erp) is None
    assert instance_of(sage.erp) == sage.erp.company
    with_company = load_pair_file(write(tmp_path, "xcart-intacct.yaml",
                                        lambda d: d["erp"].update(company_id="ACME-LLC")))
    assert instance_of(with_company.erp) == "ACME-LLC"


def test_build_runs_every_pair_with_a_capture_block(tmp_path, stubs):
    def sage_db(d):
        d["erp"]["database"] = {"connection_string": "DRIVER={SQLite3};Database=x", "dialect": "sqlite",
                                "poll_interval_s": 1, "batch_size": 250}
    write(tmp_path, "xcart-sage300.yaml", sage_db)
    write(tmp_path, "xcart-intacct.yaml", lambda d: d["erp"].update(company_id="ACME-LLC"))
    write(tmp_path, "3dcart-sage300.yaml")                        # no database block: not captured
    app = build(ErpCdcSettings(pairs_path=str(tmp_path), kafka_bootstrap_servers="127.0.0.1:1", ops_port=0))
    runners = app.cdc_runners
    try:
        check(app, runners, stubs)
    finally:
        for r in runners.values():
            r.ownership._consumer.close()


def check(app, runners, stubs):
    assert set(runners) == {"xcart-sage300", "xcart-intacct"}
    sage, intacct = runners["xcart-sage300"], runners["xcart-intacct"]
    assert (sage.interval_s, sage.page_size, sage.name) == (1, 250, "xcart-sage300/sage300-cdc")
    assert (intacct.interval_s, intacct.page_size, intacct.name) == (300.0, 500, "xcart-intacct/intacct-cdc")
    assert "sage300-db:xcart-sage300" in app.health.readiness and "intacct-api:xcart-intacct" in app.health.readiness
    assert stubs["xcart-intacct"].memory is not None
    record = SourceRecord("ITEM", "A", "p", datetime.now(timezone.utc), {
        "entity_key": "A", "op": "upsert", "table": "ITEM", "key": "A", "after": "{}",
        "position": "000000000001|000000000001"})
    [raw] = intacct.outputs(record, None)
    assert raw.value["erp"] == "intacct" and raw.value["metadata"]["source_instance"] == "ACME-LLC"
    assert raw.key == "A" and raw.value["metadata"]["source_system"] == "intacct"
