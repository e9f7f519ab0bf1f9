"""Entry point: `sagebridge-ingest` (environment variables and the pair files under PAIRS_PATH)."""
from __future__ import annotations

import sys

import uvicorn
from pydantic import ConfigDict

from sagebridge_common import registry
from sagebridge_common.app import Application
from sagebridge_common.pair_file import read_pair_file
from sagebridge_common.pairs import ConnectorConfig, load_pairs, pair_files
from sagebridge_common.topics import INGEST_NOTIFICATIONS

from .config import IngestSettings
from .fetcher import make_fetch_handler
from .poller import dead_letter_notification, poll_outputs
from .webhook import create_webhook_app


class _ErpBlockUnused(ConnectorConfig):
    """Ingest never talks to the ERP, so it does not need the ERP connector installed to start."""
    model_config = ConfigDict(extra="allow", frozen=True)


def _tolerate_uninstalled_erp(settings: IngestSettings) -> None:
    for path in pair_files(settings.pairs_path):
        data, _lines = read_pair_file(path)
        kind = (data.get("erp") or {}).get("kind") if isinstance(data.get("erp"), dict) else None
        if isinstance(kind, str) and kind not in registry.known_kinds():
            registry.register_config("erp", kind, _ErpBlockUnused)


def build(settings: IngestSettings) -> Application:
    _tolerate_uninstalled_erp(settings)
    pairs = load_pairs(settings.pairs_path, settings.pair_id)
    app = Application(settings, pairs=pairs)
    sources = {pid: registry.build("storefront_source", pair) for pid, pair in pairs.items()}
    instances = {pid: pair.storefront.instance for pid, pair in pairs.items()}
    for pid, pair in pairs.items():
        source, block = sources[pid], pair.storefront
        if settings.poll_enabled or settings.fetch_enabled:   # a webhook-only pod needs just the broker
            app.health.readiness[f"{source.kind}:{pid}"] = source.ping
        if settings.poll_enabled:
            ids = {"storefront": source.kind, "instance": block.instance, "pair_id": pid}
            app.source(source, pair_id=pid, name=block.instance, interval_s=block.poll_interval_s,
                       page_size=block.page_size, max_record_attempts=settings.source_record_max_attempts,
                       outputs=poll_outputs(**ids), dead_letter=dead_letter_notification(**ids))
    if settings.fetch_enabled:
        app.processor([INGEST_NOTIFICATIONS], make_fetch_handler(sources, instances), stage="fetch")
    if settings.webhook_enabled:
        server = uvicorn.Server(uvicorn.Config(create_webhook_app(app), host=settings.http_host,
                                               port=settings.http_port, log_level="warning", access_log=False))
        app.background("webhook-http", server.run, stop=lambda: setattr(server, "should_exit", True))
    return app


def main() -> None:
    sys.exit(build(IngestSettings.from_env()).run())


if __name__ == "__main__":
    main()
