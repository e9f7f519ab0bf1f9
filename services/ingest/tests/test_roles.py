"""Ingest can run as separate deployments: webhook pods, a fetcher, a poller; one source per pair."""
from pathlib import Path

from sagebridge_ingest.config import IngestSettings
from sagebridge_ingest.main import build

PAIRS = str(Path(__file__).resolve().parents[3] / "pairs" / "xcart-sage300.yaml")   # the X-Cart pair only


def _build(**roles):
    app = build(IngestSettings(kafka_bootstrap_servers="127.0.0.1:9", ops_port=0, pairs_path=PAIRS, **roles))
    try:
        return set(app.health.readiness), [p.stage for p in app._processors], [t.name for t in app._workers]
    finally:
        app.close(timeout=0.1)


def test_all_in_one_by_default():
    ready, procs, workers = _build()
    assert ready == {"broker", "xcart:xcart-sage300", "source:xcart-sage300/default"}
    assert procs == ["fetch"] and workers == ["source:xcart-sage300/default", "webhook-http"]


def test_webhook_only_pod_is_ready_without_the_store():
    ready, procs, workers = _build(poll_enabled=False, fetch_enabled=False)
    assert ready == {"broker"} and procs == [] and workers == ["webhook-http"]


def test_fetcher_only():
    ready, procs, workers = _build(poll_enabled=False, webhook_enabled=False)
    assert ready == {"broker", "xcart:xcart-sage300"} and procs == ["fetch"] and workers == []


def test_the_pair_file_block_reads_the_old_environment_names(monkeypatch):
    from sagebridge_common.pairs import load_pairs
    monkeypatch.setenv("POLL_INTERVAL_S", "0.5")
    monkeypatch.setenv("XCART_LAST_RENEW_FILTER", "false")
    monkeypatch.setenv("POLL_START_AT", "2026-01-01T00:00:00Z")
    build(IngestSettings(kafka_bootstrap_servers="127.0.0.1:9", ops_port=0, pairs_path=PAIRS)).close(timeout=0.1)
    block = load_pairs(PAIRS)["xcart-sage300"].storefront
    assert (block.poll_interval_s, block.last_renew_filter, block.page_size) == (0.5, False, 100)
    assert block.start_at.isoformat() == "2026-01-01T00:00:00+00:00"
