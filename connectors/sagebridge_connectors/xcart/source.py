"""X-Cart 5.5 as a `StorefrontSource`: the order change feed and the full record behind a change."""
from __future__ import annotations

from datetime import datetime, timezone

from sagebridge_common.contracts import Change, ChangePage, SourceRecord

from .api import XCartClient
from .config import XCartStorefrontConfig
from .feed import OrderFeed, stamp_of, version_of


class XCartSource:
    kind = "xcart"

    def __init__(self, config: XCartStorefrontConfig, client: XCartClient | None = None) -> None:
        self.config = config
        self.name = config.instance
        self.client = client or XCartClient(config.base_url, config.token.get_secret_value(), config.timeout_s,
                                            max_concurrency=config.max_concurrency)
        start = int(config.start_at.timestamp()) if config.start_at else 0
        self.feed = OrderFeed(self.client, start_stamp=start, last_renew_filter=config.last_renew_filter,
                              overlap_s=config.overlap_s)

    def streams(self) -> list[str]:
        return ["order"]

    def changes(self, stream: str, cursor: str | None, limit: int) -> ChangePage:
        if stream != "order":
            raise ValueError(f"X-Cart source has no stream {stream!r}")
        return self.feed.page(cursor, limit)

    def fetch(self, change: Change) -> SourceRecord:
        """The order (the listing row when the change came from the feed: the 5.5 list renders
        the same order JSON as `GET /api/orders/{id}`) plus its payment transactions."""
        full = self.client.full_order(change.entity_id, change.listing)
        order = full["order"]
        return SourceRecord("order", str(order["id"]), version_of(order),
                            datetime.fromtimestamp(stamp_of(order), timezone.utc), full)

    def ping(self) -> tuple[bool, str]:
        return self.client.ping()

    def close(self) -> None:
        self.client.close()
