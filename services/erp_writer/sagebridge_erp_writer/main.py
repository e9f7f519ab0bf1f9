"""Entry point: `sagebridge-erp-writer`."""
from __future__ import annotations

import sys

from sagebridge_common.app import Application
from sagebridge_common.topics import ORDERS

from .config import ErpWriterSettings
from .handler import make_handler
from .sage300.web_api import Sage300Client


def build(settings: ErpWriterSettings) -> Application:
    if settings.erp != "sage300":
        raise SystemExit(f"ERP {settings.erp!r} is not supported by this build yet")
    app = Application(settings)
    client = Sage300Client(settings.sage300_base_url, settings.sage300_company, settings.sage300_user,
                           settings.sage300_password.get_secret_value(), settings.sage300_timeout_s,
                           max_connections=settings.max_in_flight * 2)
    app.health.readiness["sage300"] = client.ping
    handle, on_failure = make_handler(client, shipping_charge_code=settings.sage300_shipping_charge_code)
    app.processor([ORDERS], handle, stage="erp-write", failure_outputs=on_failure)
    return app


def main() -> None:
    sys.exit(build(ErpWriterSettings.from_env()).run())


if __name__ == "__main__":
    main()
