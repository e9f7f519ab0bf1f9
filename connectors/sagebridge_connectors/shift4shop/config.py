"""The `storefront:` block of a pair file for a Shift4Shop (3dcart) store on the REST API
(`kind: shift4shop`, `/3dCartWebAPI/v1`).

Everything that differs from one store to the next lives here: where the store is, the three
authentication headers (shift4shop.md §1.2), how to poll it and how hard to push it. The store's
time zone is not here: it is the pair file's top-level `store_time_zone`, because the ERP side
needs it too.
"""
from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from sagebridge_common.pairs import ConnectorConfig
from sagebridge_common.times import OptionalUtcDatetime

MAX_BATCH_SIZE = 100     # PUT /Products items per call: the size SkuVault sends (shift4shop.md §1.4)
MAX_PAGE_SIZE = 200      # `limit` known to work (SkuVault products, shift4shop.md §1.3); the max is not documented


class Shift4ShopStorefrontConfig(ConnectorConfig):
    kind: Literal["shift4shop"]
    instance: str = Field("default", min_length=1, description="Names the store in event metadata and state keys.")
    api_url: str = Field("https://apirest.3dcart.com/3dCartWebAPI/v1",
                         description="REST API base URL (v1; v2 has the same paths).")
    secure_url: str = Field("", description="SecureURL header: the store's secure URL "
                                            "(e.g. https://mystore.3dcartstores.com).")
    private_key: SecretStr = Field(SecretStr(""), description="PrivateKey header: the app's private key "
                                                              "(developer portal).")
    token: SecretStr = Field(SecretStr(""), description="Token header: the merchant's token for the app.")
    webhook_token: SecretStr = Field(SecretStr(""), description="Secret last path segment of the webhook URL; "
                                                                "empty refuses every webhook.")
    webhook_allow_ips: list[str] = Field(default_factory=list, description="Webhook source addresses allowed "
                                                                           "(CIDRs); empty = any.")
    timeout_s: float = Field(20.0, gt=0, description="Timeout of one API call.")
    max_concurrency: int = Field(4, ge=1, description="API calls in flight at once against this store.")
    poll_interval_s: float = Field(5.0, gt=0, description="Seconds between polls once the feed is read to its end.")
    page_size: int = Field(100, ge=1, le=MAX_PAGE_SIZE, description="`limit` of one list call (offset is 1-based).")
    overlap_s: int = Field(120, ge=0, le=86400, description="Each poll re-reads from the store-local date of "
                                                            "(cursor - overlap_s); repeats are dropped.")
    start_at: OptionalUtcDatetime = Field(None, description="First start only (no saved cursor): records last updated "
                                                        "before this UTC time are ignored; unset = all.")
    rate_limit_per_s: float = Field(30.0, gt=0, description="API calls per second to this store, per process "
                                                            "(token bucket shared by its workers). Shift4Shop "
                                                            "documents no limit; every webhook costs one re-read, "
                                                            "so 30/s carries 20 orders/s. A 429 pauses the bucket "
                                                            "for its Retry-After.")
    rate_limit_burst: int = Field(60, ge=1, description="Calls the bucket lets through at once after a quiet spell.")
    batch_size: int = Field(MAX_BATCH_SIZE, ge=1, le=MAX_BATCH_SIZE,
                            description="storefront_writer: product items per PUT /Products call.")
    batch_wait_ms: int = Field(200, ge=0, le=10000, description="storefront_writer: how long a product write waits "
                                                                "for others to join its batch.")
    sku_map_ttl_s: float = Field(60.0, gt=0, description="storefront_writer: how long a SKU -> CatalogID lookup "
                                                         "is reused.")

    @field_validator("webhook_allow_ips")
    @classmethod
    def _cidrs(cls, v: list[str]) -> list[str]:
        for cidr in v:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise ValueError(f"webhook_allow_ips: {cidr!r} is not an IP address or CIDR") from None
        return v

    @field_validator("api_url")
    @classmethod
    def _no_trailing_slash(cls, v: str) -> str:
        return v.rstrip("/")
