"""X-Cart 5.5 as a `StorefrontSource`: the order and profile change feeds and the full record behind
a change.

A profile's version: X-Cart's profile has no modification time (5.5 Profile: `added`, `first_login`,
`last_login`), and `added` never changes, so a version stamped with it could not tell an edit from
an older state read late (two fetches, one by the poller and one behind a push, can reach transform
in either order). The record's version is therefore stamped with the time its read began: the store
serialises writes, so a read that starts later returns the same state or a newer one, and versions
of one profile sort in store order at one-second resolution (within a second, the hash tells
states apart, as for orders). The same state read in two different seconds gets two versions; a
repeated customer update is harmless downstream, a reordered one would not be.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone

from sagebridge_common.contracts import Change, ChangePage, SourceRecord
from sagebridge_common.errors import PermanentError

from .api import XCartClient
from .config import XCartStorefrontConfig
from .feed import OrderFeed, ProfileFeed, stamp_of, stamped_version, version_of

STREAMS = ("order", "profile")


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
        self.profile_feed = ProfileFeed(self.client, start_stamp=start, overlap_s=config.overlap_s)
        self._feeds = {"order": self.feed, "profile": self.profile_feed}

    def streams(self) -> list[str]:
        return list(STREAMS)

    def changes(self, stream: str, cursor: str | None, limit: int) -> ChangePage:
        feed = self._feeds.get(stream)
        if feed is None:
            raise ValueError(f"X-Cart source has no stream {stream!r}")
        return feed.page(cursor, limit)

    def fetch(self, change: Change) -> SourceRecord:
        if change.entity_type == "profile":
            return self.fetch_profile(change.entity_id)
        if change.entity_type != "order":
            raise PermanentError(f"X-Cart source has no entity type {change.entity_type!r}",
                                 reason="xcart_unknown_entity")
        return self.fetch_order(change)

    def fetch_profile(self, profile_id: str) -> SourceRecord:
        """`{"profile": GET /api/profiles/{id}, "addresses": GET /api/profiles/{id}/addresses}`,
        always read afresh (the listing row has no addresses); version: see the module docstring."""
        began = int(time.time())
        full = self.client.full_profile(profile_id)
        return SourceRecord("profile", str(full["profile"]["id"]), stamped_version(began, full),
                            datetime.fromtimestamp(began, timezone.utc), full)

    def fetch_order(self, change: Change) -> SourceRecord:
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
