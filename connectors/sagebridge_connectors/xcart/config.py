"""The `storefront:` block of a pair file for an X-Cart 5.5 store (`kind: xcart`).

Everything that differs from one store to the next lives here: where the store is, its tokens, and
how to poll it. Which roles a deployment runs (POLL_ENABLED, FETCH_ENABLED, WEBHOOK_ENABLED) stays
in the environment, because that is a property of the pod, not of the store.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from sagebridge_common.pairs import ConnectorConfig
from sagebridge_common.times import OptionalUtcDatetime

MAX_PAGE_SIZE = 100   # X-Cart 5.5 (API Platform) caps itemsPerPage at 100


class XCartStorefrontConfig(ConnectorConfig):
    kind: Literal["xcart"]
    instance: str = Field("default", min_length=1, description="Names the store in event metadata and state keys.")
    base_url: str = Field(description="Store base URL; the API is under /api.")
    token: SecretStr = Field(SecretStr(""), description="API token (the read token is enough for ingest; "
                                                        "storefront_writer needs the read/write token).")
    webhook_secret: SecretStr = Field(SecretStr(""), description="HMAC-SHA256 key of the push module; empty refuses all.")
    timeout_s: float = Field(10.0, gt=0, description="Timeout of one API call.")
    max_concurrency: int = Field(4, ge=1, description="API calls in flight at once against this store.")
    last_renew_filter: bool = Field(True, description="The store filters on lastRenewDate[...] (5.5.1+); false: "
                                                      "walk newest first to the cursor (5.5.0).")
    poll_interval_s: float = Field(2.0, gt=0, description="Seconds between polls once the feed is read to its end.")
    page_size: int = Field(MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="itemsPerPage of one list call.")
    overlap_s: int = Field(2, ge=0, le=300, description="Each page re-reads this many seconds before the cursor, for "
                                                        "an order whose save committed late; repeats are dropped.")
    start_at: OptionalUtcDatetime = Field(None, description="First start only (no saved cursor): orders renewed and "
                                                        "profiles added before this UTC time are ignored; unset = all.")

    rate_limit_per_s: float = Field(10.0, gt=0, description="storefront_writer: API calls per second to this store "
                                                            "(token bucket shared by all workers).")
    rate_limit_burst: int = Field(20, ge=1, description="storefront_writer: calls the bucket lets through at once "
                                                        "after a quiet spell.")
    tracking: Literal["module", "none"] = Field("module", description="module: tracking numbers through the Sagebridge "
                                                "push module's endpoint; none: the 5.5 API has no tracking write, "
                                                "so only the shipping status is set and the number is recorded in "
                                                "the result message.")
    module_token: SecretStr = Field(SecretStr(""), description="Token of the push module's tracking endpoint "
                                                               "(X-Sagebridge-Token).")
    sku_map_ttl_s: float = Field(60.0, gt=0, description="storefront_writer: an unknown SKU re-reads the store's "
                                                         "product list at most once per this many seconds.")
