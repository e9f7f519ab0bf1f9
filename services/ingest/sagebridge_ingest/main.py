"""Entry point: `sagebridge-ingest` (environment variables and the pair files under PAIRS_PATH)."""
from __future__ import annotations

from sagebridge_common.app import Application, serve
from sagebridge_common import registry
from sagebridge_common.pairs import load_pairs
from sagebridge_common.topics import INGEST_NOTIFICATIONS

from .config import IngestSettings
from .fetcher import make_fetch_handler
from .poller import dead_letter_notification, poll_outputs
from .webhook import create_webhook_app
from .webhook_http import make_server


def build(settings: IngestSettings) -> Application:
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
        server = make_server(create_webhook_app(app), settings)
        app.background("webhook-http", server.run, stop=lambda: setattr(server, "should_exit", True))
    return app


def main() -> None:
    serve(build, IngestSettings)


if __name__ == "__main__":
    main()
