"""Ingest settings (on top of the shared runtime settings).

What a store is and how it is polled lives in the pair file's `storefront:` block (the storefront
connector's model: webhook secret or token, allowed source addresses); the environment says which
roles this deployment runs.
"""
from __future__ import annotations

from pydantic import Field

from sagebridge_common.settings import Settings


class IngestSettings(Settings):
    service_name: str = "ingest"
    kafka_linger_ms: float = Field(1.0, description="Ingest answers a webhook only after the ack: batch for 1 ms at most.")
    poll_enabled: bool = Field(True, description="Poll each pair's storefront for changes (X-Cart has no native webhooks; Shift4Shop's are unsigned and unconfirmed, so polling stays the backstop).")
    source_record_max_attempts: int = Field(
        5, ge=1, description="Fetch attempts for one polled record (the store answering otherwise) before it goes to the DLQ.")
    webhook_enabled: bool = Field(
        True, description="Serve POST /webhooks/{storefront}/{pair} (X-Cart's signed push module) and "
                          "/webhooks/{storefront}/{pair}/{webhook_token} (Shift4Shop: the URL token is the secret).")
    webhook_trusted_proxies: list[str] = Field(
        [],
        description="CIDRs of reverse proxies whose X-Forwarded-For is believed when checking a pair's "
                    "storefront.webhook_allow_ips (JSON list, e.g. [\"10.0.0.0/8\"]); empty = the TCP peer is the client.")
    fetch_enabled: bool = Field(True, description="Run the fetcher behind the webhook (can run in its own deployment).")
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
