"""The Grafana dashboards built as code (deploy/grafana/src, Grafana Foundation SDK).

No Grafana server runs on this machine (tooling.md), and no JSON schema of Grafana dashboards is
available offline, so the exported JSON is checked against Grafana's own dashboard model as the
SDK generates it from Grafana's schema: decoding with the typed models (panel options, field
config and Prometheus queries included) and encoding again must give the file back unchanged, so
an unknown or misspelt key, or a panel type or query the schema does not know, fails. Every query
is checked as PromQL by promtool, its metric names against the metrics the code defines, and run
against a real Prometheus (Debian's package) scraping real metric objects: every panel must
answer with series.
"""
from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "deploy" / "grafana" / "src"))

from grafana_foundation_sdk.cog import plugins  # noqa: E402
from grafana_foundation_sdk.cog.encoder import JSONEncoder  # noqa: E402
from grafana_foundation_sdk.models import dashboard as gdm  # noqa: E402
from prometheus_client import REGISTRY  # noqa: E402
from sagebridge_devstack.live_prometheus import run_prometheus, scrape_job  # noqa: E402

from sagebridge_dashboards import DASHBOARDS, render  # noqa: E402
from sagebridge_dashboards.queries import all_panels, concrete, metric_names, panel_exprs  # noqa: E402

OUT = REPO / "deploy" / "grafana" / "dashboards" / "sagebridge"
SCRIPT = REPO / "scripts" / "dashboards.py"
PROMTOOL = "/usr/bin/promtool"
# Every module that defines sagebridge metrics (Counter/Gauge/Histogram on the default registry).
METRIC_MODULES = (
    "sagebridge_common.metrics", "sagebridge_common.capture_pages", "sagebridge_common.coalescer",
    "sagebridge_common.table_capture", "sagebridge_common.snapshot_capture", "sagebridge_common.rate_limit",
    "sagebridge_storefront_writer.handler", "sagebridge_transform.sage300.row_state",
    "sagebridge_transform.versions", "sagebridge_connectors.intacct.capture",
)


def exported() -> dict[str, dict]:
    return {name: json.loads((OUT / name).read_text()) for name in DASHBOARDS}


def every_expr() -> list[tuple[str, str]]:
    return [e for d in exported().values() for e in panel_exprs(d)]


def known_series() -> set[str]:
    """Series names the code can export: the default registry once every metric module is loaded."""
    for module in METRIC_MODULES:
        importlib.import_module(module)
    names = {n for n in REGISTRY._names_to_collectors if n.startswith("sagebridge_")}
    assert len(names) > 40
    return names


# --- export -------------------------------------------------------------------------------------

def test_export_is_up_to_date():
    proc = subprocess.run([sys.executable, str(SCRIPT), "--check"], cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in OUT.glob("*.json")) == sorted(DASHBOARDS)
    for name, build in DASHBOARDS.items():
        assert (OUT / name).read_text() == render(build), name


def test_check_fails_on_a_stale_or_stray_file(tmp_path, monkeypatch):
    sys.path.insert(0, str(SCRIPT.parent))
    script = importlib.import_module("dashboards")
    monkeypatch.setattr(script, "OUT", tmp_path)
    script.write()
    assert script.main(["--check"]) == 0
    (tmp_path / "runtime.json").write_text((tmp_path / "runtime.json").read_text().replace("Rebalances", "Rebalance"))
    (tmp_path / "old.json").write_text("{}")
    assert script.stale() == ["runtime.json", "old.json"]
    assert script.main(["--check"]) == 1
    script.write()
    assert script.stale() == [] and not (tmp_path / "old.json").exists()


def test_provisioning_loads_the_exported_folder():
    prov = yaml.safe_load((REPO / "deploy/grafana/provisioning/dashboards/sagebridge.yaml").read_text())
    (provider,) = prov["providers"]
    assert provider["type"] == "file" and provider["options"]["foldersFromFilesStructure"] is True
    # compose mounts deploy/grafana/dashboards at the provider's path, so sagebridge/ is one folder
    mounts = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]["grafana"]["volumes"]
    assert f"./deploy/grafana/dashboards:{provider['options']['path']}:ro" in mounts


# --- Grafana's schema (the SDK's typed models) --------------------------------------------------

def round_trip(data: dict) -> dict:
    plugins.register_default_plugins()       # typed panel options and Prometheus queries
    return json.loads(json.dumps(gdm.Dashboard.from_json(data), cls=JSONEncoder))


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_dashboard_matches_grafanas_schema(name):
    data = json.loads((OUT / name).read_text())
    assert round_trip(data) == data
    model = gdm.Dashboard.from_json(data)
    kinds = {type(t).__module__ for p in model.panels if isinstance(p, gdm.Panel) for t in p.targets or []}
    assert kinds == {"grafana_foundation_sdk.models.prometheus"}, kinds
    for p in model.panels:       # a panel type Grafana's schema knows: its options decode to that plugin's model
        if isinstance(p, gdm.Panel):
            assert type(p.options).__module__ == f"grafana_foundation_sdk.models.{p.type_val}", (p.title, p.type_val)
            assert type(p.options).__name__ == "Options", p.title


@pytest.mark.parametrize("broken", [
    lambda d: d["panels"][1].__setitem__("gridPoz", d["panels"][1].pop("gridPos")),
    lambda d: d["panels"][1]["targets"][0].__setitem__("expression", "up"),
    lambda d: d["panels"][1]["fieldConfig"]["defaults"].__setitem__("units", "s"),
    lambda d: d.__setitem__("refreshEvery", "30s"),
], ids=["panel key", "query key", "field config key", "dashboard key"])
def test_schema_check_catches_an_unknown_key(broken):
    data = json.loads((OUT / "overview.json").read_text())
    broken(data)
    assert round_trip(data) != data


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_dashboard_layout_and_filters(name):
    d = json.loads((OUT / name).read_text())
    assert d["editable"] is False and "sagebridge" in d["tags"]
    assert [v["name"] for v in d["templating"]["list"]] == ["pair", "service"]
    panels = list(all_panels(d["panels"]))
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "duplicate panel ids"
    cells = set()
    for p in panels:
        g = p["gridPos"]
        assert 0 <= g["x"] and g["x"] + g["w"] <= 24, p["title"]
        mine = {(g["x"] + dx, g["y"] + dy) for dx in range(g["w"]) for dy in range(g["h"])}
        assert not cells & mine, f"{p['title']} overlaps another panel"
        cells |= mine
        if p["type"] != "row":
            assert p["datasource"]["uid"] == "prometheus", p["title"]
            assert p["targets"], p["title"]
    for where, expr in panel_exprs(d):
        assert '$pair' in expr and '$service' in expr, f"{where}: not filtered by $pair and $service"


def test_uids_are_unique_and_the_overview_keeps_its_uid():
    uids = [d["uid"] for d in exported().values()]
    assert len(set(uids)) == 4
    assert exported()["overview.json"]["uid"] == "sagebridge-overview"     # links to it keep working


def test_dashboards_cover_what_the_issue_asks():
    text = {name: " ".join(e for _, e in panel_exprs(d)) for name, d in exported().items()}
    wanted = {
        "overview.json": ("sagebridge_webhook_requests_total", "sagebridge_events_produced_total",
                          "sagebridge_end_to_end_latency_seconds_bucket", "sagebridge_dlq_records_total",
                          "sagebridge_consumer_lag_messages", "sagebridge_connector_requests_total"),
        "store-to-erp.json": ("sagebridge_webhook_requests_total", "sagebridge_source_records_total",
                              "sagebridge_erp_total_mismatch_total", "sagebridge_connector_request_duration_seconds"),
        "erp-to-store.json": ("sagebridge_cdc_lag_seconds", "sagebridge_coalesced_records_total",
                              "sagebridge_rate_limit_tokens_total", "sagebridge_rate_limit_tokens_per_second",
                              "sagebridge_storefront_writes_total"),
        "runtime.json": ("sagebridge_retries_total", "sagebridge_partitions_paused",
                         "sagebridge_offset_commits_total", "sagebridge_rebalances_total"),
    }
    for name, metrics in wanted.items():
        for metric in metrics:
            assert metric in text[name], f"{name}: no panel on {metric}"
    assert re.search(r"sum by \([^)]*\breason\b[^)]*\) \(rate\(sagebridge_dlq_records_total", text["overview.json"])
    assert re.search(r"sum by \(pair\b", text["overview.json"]), "the overview is not split per pair"


# --- PromQL -------------------------------------------------------------------------------------

def test_every_query_is_valid_promql(tmp_path):
    exprs = every_expr()
    assert len(exprs) > 40
    rules = {"groups": [{"name": "dashboards", "rules": [
        {"record": f"dashboard:expr_{i}", "expr": concrete(expr)} for i, (_, expr) in enumerate(exprs)]}]}
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump(rules, sort_keys=False))
    proc = subprocess.run([PROMTOOL, "check", "rules", str(path)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_promtool_check_catches_a_broken_query(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [
        {"record": "x:y", "expr": concrete('sum by (pair (rate(up{pair=~"$pair"}[$__rate_interval]))')}]}]}))
    assert subprocess.run([PROMTOOL, "check", "rules", str(path)], capture_output=True, timeout=30).returncode == 1


def test_every_metric_a_panel_reads_exists():
    known = known_series()
    for where, expr in every_expr():
        unknown = metric_names(expr) - known
        assert not unknown, f"{where}: {sorted(unknown)} is defined by no Counter/Gauge/Histogram"
    assert "sagebridge_no_such_metric_total" not in known


# --- a real Prometheus --------------------------------------------------------------------------
# Debian's Prometheus scrapes this test process's metrics (the default registry of prometheus_client,
# where every Sagebridge metric object lives), with the repo's alert rules loaded. The scrape adds
# the target label `pair`, as a deployment per pair does. The dev stack's own services are scraped
# by tests/integration/test_dashboards_devstack.py.

PROM_DIR = REPO / "deploy" / "prometheus"
LIVE_JOB, LIVE_PAIR = "transform", "xcart-sage300"


@pytest.fixture
def live_prometheus(tmp_path):
    from prometheus_client import start_http_server

    exporter, _thread = start_http_server(0, addr="127.0.0.1")
    job = scrape_job(LIVE_JOB, [f"127.0.0.1:{exporter.server_port}"], {"pair": LIVE_PAIR})
    try:
        with run_prometheus(tmp_path / "prometheus", [job], [PROM_DIR / "alerts.yml"]) as live:
            yield live
    finally:
        exporter.shutdown()
        exporter.server_close()


def feed_metrics() -> None:
    """Give every series a panel reads a value, through the real metric objects (and a real token
    bucket for the rate limit), with the label values the panels' matchers select."""
    from sagebridge_common import metrics as m
    from sagebridge_common.capture_pages import CDC_CHANGES
    from sagebridge_common.coalescer import COALESCED
    from sagebridge_common.rate_limit import TokenBucket
    from sagebridge_common.snapshot_capture import CDC_SCAN_SECONDS, CDC_SCAN_STARTED
    from sagebridge_common.table_capture import CDC_LAG, CDC_QUERIES, CDC_ROWS_READ
    from sagebridge_connectors.intacct.capture import DEFERRED, UNREADABLE
    from sagebridge_storefront_writer.handler import WRITES
    from sagebridge_transform.sage300.row_state import STALE_ROWS
    from sagebridge_transform.versions import VERSIONS_DROPPED

    pair, orders, erp_orders, stock = LIVE_PAIR, "sagebridge.orders.raw", "sagebridge.erp.orders", "sagebridge.store.stock"
    for service, topic in (("transform", orders), ("erp-writer", erp_orders), ("storefront-writer", stock)):
        m.EVENTS_CONSUMED.labels(service, topic).inc(5)
        m.EVENTS_PRODUCED.labels(service, topic + ".out").inc(5)
        m.PROCESSING_SECONDS.labels(service, topic).observe(0.02)
        m.END_TO_END_SECONDS.labels(service, topic).observe(0.7)
        m.DLQ_RECORDS.labels(service, topic, "mapping_error").inc()
        m.RETRIES.labels(service, topic, "transient").inc()
        m.CONSUMER_LAG.labels(service, topic, "0").set(3)
        m.IN_FLIGHT.labels(service).set(2)
        m.PAUSED.labels(service).set(1)
        m.COMMITS.labels(service, "ok").inc()
        m.REBALANCES.labels(service, "assigned").inc()
        m.RECORDS_DROPPED.labels(service, topic).inc()
    COALESCED.labels("storefront-writer", stock).inc(2)
    for connector, operation in (("sage300", "create_order"), ("xcart", "update_stock")):
        for outcome in ("200", "500"):
            m.CONNECTOR_REQUESTS.labels(connector, operation, outcome).inc()
        m.CONNECTOR_SECONDS.labels(connector, operation).observe(0.3)
    m.WEBHOOK_REQUESTS.labels("xcart", "202").inc()
    m.SOURCE_RECORDS.labels("ingest", "xcart", "delivered").inc(2)
    m.SOURCE_CYCLE_FAILURES.labels("ingest", "xcart").inc()
    m.ERP_TOTAL_MISMATCH.labels("sage300", pair).inc()
    m.ERP_NEEDS_ATTENTION.labels("sage300", pair, "total").inc()
    m.INTACCT_API_TRANSACTIONS.labels(pair, "create_sotransaction", "write").inc()
    m.INTACCT_RELOGINS.labels(pair).inc()
    VERSIONS_DROPPED.labels(pair, "xcart", "order", "repeat").inc()
    STALE_ROWS.labels(pair, "ICILOC").inc()
    CDC_LAG.labels(pair, "ICILOC").set(4)
    CDC_QUERIES.labels(pair, "ICILOC", "range").inc()
    CDC_ROWS_READ.labels(pair, "ICILOC", "range").inc(10)
    CDC_CHANGES.labels(pair, "ICILOC", "upsert").inc(3)
    CDC_SCAN_SECONDS.labels(pair, "SOSHIP").set(12)
    CDC_SCAN_STARTED.labels(pair, "SOSHIP").set(time.time() - 30)
    DEFERRED.labels(pair, "ICITEM").inc()
    UNREADABLE.labels(pair, "ICITEM").inc()
    WRITES.labels("stock", "inventory", "written").inc(3)
    bucket = TokenBucket(5.0, 1, name=f"xcart:{pair}", sleep=lambda _s: None)    # the store's limit
    bucket.acquire()
    bucket.acquire()      # the burst is spent: this one waits (counted, not slept)


@pytest.mark.timeout(60)
def mine(expr: str) -> str:
    """The query with the pair variable set to this test's pair: other tests in this process leave
    their own series (with their own `pair`, kept by honor_labels) in the registry it exports."""
    return concrete(expr.replace("$pair", LIVE_PAIR))


def test_every_panel_returns_series_from_a_real_prometheus(live_prometheus):
    live = live_prometheus
    feed_metrics()
    live.wait_scraped(LIVE_JOB)
    feed_metrics()        # counters move between two scrapes, so rates are > 0
    live.wait_next_scrape(LIVE_JOB)
    # the pair variable's values include the target's pair (metrics that other tests in this process
    # labelled with their own `pair` keep it: honor_labels)
    assert LIVE_PAIR in live.get("/api/v1/label/pair/values")["data"]

    (dlq_where, dlq_expr), = [(w, e) for w, e in panel_exprs(exported()["overview.json"])
                              if "sagebridge_dlq_records_total" in e and "by (pair, service, topic, reason)" in e]
    res = live.query(mine(dlq_expr))["data"]["result"]
    assert {"pair": LIVE_PAIR, "service": "transform", "topic": "sagebridge.orders.raw",
            "reason": "mapping_error"} in [r["metric"] for r in res], dlq_where
    fed = [r for r in res if r["metric"].get("reason") == "mapping_error" and r["metric"].get("service") == "transform"]
    assert fed and all(float(r["value"][1]) > 0 for r in fed), res      # (other tests' series may sit at 0)

    empty, failed = [], []
    for where, expr in every_expr():
        answer = live.query(mine(expr))
        if answer["status"] != "success":
            failed.append((where, answer))
        elif not answer["data"]["result"]:
            empty.append(where)
    assert not failed, failed
    assert not empty, f"panels with no data although every metric they read has a value: {empty}"

    # Filtering by another pair empties a panel: the pair variable really selects.
    other = concrete(dlq_expr.replace("$pair", "some-other-pair"))
    assert live.query(other)["data"]["result"] == []


@pytest.mark.timeout(60)
def test_alert_rules_load_and_evaluate_on_a_real_prometheus(live_prometheus):
    """Kept from the former test_deploy_files live test: the rules evaluate without errors."""
    live = live_prometheus
    feed_metrics()
    live.wait_scraped(LIVE_JOB)
    expected = [r for g in yaml.safe_load((PROM_DIR / "alerts.yml").read_text())["groups"]
                for r in g["rules"] if "alert" in r]

    def evaluated():
        rules = [r for g in live.get("/api/v1/rules")["data"]["groups"] for r in g["rules"]]
        return rules if rules and all(r["health"] != "unknown" for r in rules) else None

    rules = live.wait_for(evaluated, 15, "rule evaluation")
    assert len(rules) == len(expected)
    bad = [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"]
    assert not bad, bad
