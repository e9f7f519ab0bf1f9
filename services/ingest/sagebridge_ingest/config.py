"""Ingest settings (on top of the shared runtime settings)."""
from __future__ import annotations

from pydantic import SecretStr

from sagebridge_common.settings import Settings


class IngestSettings(Settings):
    service_name: str = "ingest"
    storefront: str = "xcart"
    store_instance: str = "default"           # names the store in event metadata (several stores per ERP)
    xcart_base_url: str = "http://127.0.0.1:8081"
    xcart_token: SecretStr = SecretStr("")
    xcart_timeout_s: float = 10.0
    poll_enabled: bool = True
    poll_interval_s: float = 2.0
    poll_page_size: int = 100
    webhook_enabled: bool = True
    webhook_secret: SecretStr = SecretStr("")
    webhook_max_body_bytes: int = 1024 * 1024
    http_host: str = "0.0.0.0"
    http_port: int = 8080
