"""Entry point: `sagebridge-ingest` (configured by environment variables only)."""
from __future__ import annotations

import sys

from sagebridge_common.app import Application
from sagebridge_common.topics import INGEST_NOTIFICATIONS

from .config import IngestSettings
from .fetcher import make_fetch_handler
from .poller import OrderPoller
from .webhook import create_webhook_app
from .webhook_http import make_server
from .xcart.api import XCartClient


def build(settings: IngestSettings) -> Application:
    app = Application(settings)
    client = XCartClient(settings.xcart_base_url, settings.xcart_token.get_secret_value(), settings.xcart_timeout_s,
                         last_renew_filter=settings.xcart_last_renew_filter)
    if settings.poll_enabled or settings.fetch_enabled:   # a webhook-only pod needs just the broker
        app.health.readiness["xcart"] = client.ping
    if settings.poll_enabled:
        poller = OrderPoller(app, client, interval_s=settings.poll_interval_s, page_size=settings.poll_page_size)
        app.background("xcart-poller", poller.run)
    if settings.fetch_enabled:
        app.processor([INGEST_NOTIFICATIONS], make_fetch_handler(
            client, storefront=settings.storefront, instance=settings.store_instance, pair_id=settings.pair_id),
            stage="fetch")
    if settings.webhook_enabled:
        server = make_server(create_webhook_app(app), settings)
        app.background("webhook-http", server.run, stop=lambda: setattr(server, "should_exit", True))
    return app


def main() -> None:
    sys.exit(build(IngestSettings.from_env()).run())


if __name__ == "__main__":
    main()
