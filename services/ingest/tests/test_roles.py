"""Ingest can run as separate deployments: webhook pods, a fetcher, a poller."""
from sagebridge_ingest.config import IngestSettings
from sagebridge_ingest.main import build


def _build(**roles):
    app = build(IngestSettings(kafka_bootstrap_servers="127.0.0.1:9", ops_port=0, **roles))
    try:
        return set(app.health.readiness), [p.stage for p in app._processors], [t.name for t in app._workers]
    finally:
        app.close(timeout=0.1)


def test_all_in_one_by_default():
    ready, procs, workers = _build()
    assert ready == {"broker", "xcart"} and procs == ["fetch"] and workers == ["xcart-poller", "webhook-http"]


def test_webhook_only_pod_is_ready_without_the_store():
    ready, procs, workers = _build(poll_enabled=False, fetch_enabled=False)
    assert ready == {"broker"} and procs == [] and workers == ["webhook-http"]


def test_fetcher_only():
    ready, procs, workers = _build(poll_enabled=False, webhook_enabled=False)
    assert ready == {"broker", "xcart"} and procs == ["fetch"] and workers == []
