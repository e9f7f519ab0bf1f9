"""Ingest settings (on top of the shared runtime settings)."""
from __future__ import annotations

from datetime import datetime

from pydantic import Field, SecretStr

from sagebridge_common.settings import Settings


class IngestSettings(Settings):
    service_name: str = "ingest"
    kafka_linger_ms: float = Field(1.0, description="Ingest answers a webhook only after the ack: batch for 1 ms at most.")
    storefront: str = Field("xcart", description="Storefront kind (xcart).")
    store_instance: str = Field("default", description="Names the store in event metadata.")
    xcart_base_url: str = Field("http://127.0.0.1:8081", description="X-Cart store base URL (the API is under /api).")
    xcart_token: SecretStr = Field(SecretStr(""), description="X-Cart API token (read token is enough; secret).")
    xcart_timeout_s: float = Field(10.0, description="Timeout of one X-Cart API call.")
    poll_enabled: bool = Field(True, description="Poll orders by lastRenewDate (X-Cart has no native webhooks).")
    poll_interval_s: float = Field(2.0, description="Seconds between polls.")
    poll_page_size: int = Field(100, description="itemsPerPage for polling (X-Cart caps it at 100).")
    poll_start_at: datetime | None = Field(
        None, description="First start only (no saved watermark): ignore orders renewed before this UTC time; unset = all.")
    xcart_last_renew_filter: bool = Field(
        True, description="Store supports lastRenewDate[...] (5.5.1+); false walks newest-first to the watermark (5.5.0).")
    webhook_enabled: bool = Field(True, description="Serve POST /webhooks/{storefront}/{pair} for the push module.")
    fetch_enabled: bool = Field(True, description="Run the fetcher behind the webhook (can run in its own deployment).")
    webhook_secret: SecretStr = Field(SecretStr(""), description="HMAC-SHA256 key of the pair's push module (secret); empty refuses all.")
    webhook_max_body_bytes: int = Field(1024 * 1024, description="Larger bodies get 413.")
    webhook_timestamp_tolerance_s: int = Field(
        300, description="A push whose X-Sagebridge-Timestamp is further than this from our clock gets 401 (replays).")
    webhook_read_timeout_s: float = Field(10.0, description="The body must arrive within this after the request head, else 408.")
    webhook_header_timeout_s: float = Field(
        10.0, description="A request head must arrive within this after the connection opens or the last answer, else closed.")
    webhook_keepalive_timeout_s: float = Field(5.0, description="Idle keep-alive webhook connections are closed after this.")
    webhook_max_connections: int = Field(1000, description="Once this many webhook connections are open (the new one included), requests get 503.")
    http_host: str = Field("0.0.0.0", description="Webhook server bind address.")
    http_port: int = Field(8080, description="Webhook server port.")
