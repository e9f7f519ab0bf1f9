"""Ingest settings (on top of the shared runtime settings).

What a store is and how it is polled lives in the pair file's `storefront:` block (the X-Cart
connector's model); the environment says which roles this deployment runs.
"""
from __future__ import annotations

from pydantic import Field, SecretStr

from sagebridge_common.settings import Settings


class IngestSettings(Settings):
    service_name: str = "ingest"
    kafka_linger_ms: float = Field(1.0, description="Ingest answers a webhook only after the ack: batch for 1 ms at most.")
    storefront: str = Field("xcart", description="Storefront kind (xcart).")
    store_instance: str = Field("default", description="Names the store in event metadata.")
    poll_enabled: bool = Field(True, description="Poll each pair's storefront for changes (X-Cart has no native webhooks).")
    source_record_max_attempts: int = Field(
        5, ge=1, description="Fetch attempts for one polled record (the store answering otherwise) before it goes to the DLQ.")
    webhook_enabled: bool = Field(True, description="Serve POST /webhooks/xcart/{pair} for the push module.")
    fetch_enabled: bool = Field(True, description="Run the fetcher behind the webhook (can run in its own deployment).")
    webhook_secret: SecretStr = Field(SecretStr(""), description="HMAC-SHA256 key of the pair's push module (secret); empty refuses all.")
    webhook_max_body_bytes: int = Field(1024 * 1024, description="Larger bodies get 413.")
    http_host: str = Field("0.0.0.0", description="Webhook server bind address.")
    http_port: int = Field(8080, description="Webhook server port.")
