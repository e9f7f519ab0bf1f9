"""Shift4Shop as a `StorefrontSource`: order, customer and product change feeds and the record
behind a change (issue 8 contract, "Raw events").

`fetch` reuses the listing row when the change came from a poll (`GET /Orders` renders the same
Order object as `GET /Orders/{id}`, with its TransactionList, ShipmentList and OrderItemList,
shift4shop.md §1.1, §2.1) and reads `GET /Orders/{id}` afresh when it came from a webhook
(`listing` None: a webhook is only a notification, §3: its body is not confirmed and unsigned, so
a caller must never pass a webhook body as `listing`). Payloads:
`{"order": row}`, `{"customer": row}`, `{"product": row}`.

The product feed exists (`changes("product", ...)`) but is not among the polled `streams()` unless
`poll_products=True`: the ERP owns the catalogue and transform maps product events to nothing, and
every stock or price write the hub makes bumps the product's LastUpdate, so polling it by default
would echo each of the hub's own writes back through Kafka. Product webhooks still `fetch`.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import httpx

from sagebridge_common.contracts import Change, ChangePage, SourceRecord
from sagebridge_common.errors import PermanentError

from .api import Shift4ShopClient
from .config import Shift4ShopStorefrontConfig
from .customer_feed import CustomerFeed
from .feed import KeysetFeed, order_stream, product_stream
from .versions import stamped_version

STREAMS = ("order", "customer")
PATHS = {"order": "/Orders", "customer": "/Customers", "product": "/Products"}


class Shift4ShopSource:
    kind = "shift4shop"

    def __init__(self, config: Shift4ShopStorefrontConfig, zone: ZoneInfo | str, *,
                 client: Shift4ShopClient | None = None, transport: httpx.BaseTransport | None = None,
                 poll_products: bool = False) -> None:
        self.config = config
        self.poll_products = poll_products
        self.name = config.instance
        self.zone = ZoneInfo(zone) if isinstance(zone, str) else zone
        self.client = client or Shift4ShopClient(config, transport=transport)
        start = int(config.start_at.timestamp()) if config.start_at else 0
        common = {"overlap_s": config.overlap_s, "page_size": config.page_size}
        self.order_feed = KeysetFeed(order_stream(self.client), self.zone, start_stamp=start, **common)
        self.product_feed = KeysetFeed(product_stream(self.client), self.zone, start_stamp=start, **common)
        self.customer_feed = CustomerFeed(self.client, self.zone, start_at=config.start_at, **common)
        self._feeds = {"order": self.order_feed, "customer": self.customer_feed, "product": self.product_feed}

    def streams(self) -> list[str]:
        return list(STREAMS) + (["product"] if self.poll_products else [])

    def changes(self, stream: str, cursor: str | None, limit: int) -> ChangePage:
        feed = self._feeds.get(stream)
        if feed is None:
            raise ValueError(f"Shift4Shop source has no stream {stream!r}")
        return feed.page(cursor, limit)

    def fetch(self, change: Change) -> SourceRecord:
        kind = change.entity_type
        if kind not in PATHS:
            raise PermanentError(f"Shift4Shop source has no entity type {kind!r}", reason="shift4shop_unknown_entity")
        began = int(time.time())
        row = change.listing
        if row is None:
            row = self.client.get_one(f"get_{kind}", f"{PATHS[kind]}/{change.entity_id}")
            if row is None:
                raise PermanentError(f"Shift4Shop has no {kind} {change.entity_id}", reason=f"unknown_{kind}")
        if kind == "customer":
            # no LastUpdate on customers (see customer_feed.py): a poll's change keeps its version
            version, occurred = (change.version, change.occurred_at) if change.listing is not None else (
                stamped_version(began, row), datetime.fromtimestamp(began, timezone.utc))
            return SourceRecord(kind, str(row["CustomerID"]), version, occurred, {"customer": row})
        feed = self.order_feed if kind == "order" else self.product_feed
        ch = feed.change(row)
        return SourceRecord(kind, ch.entity_id, ch.version, ch.occurred_at, {kind: row})

    def ping(self) -> tuple[bool, str]:
        return self.client.ping()

    def close(self) -> None:
        self.client.close()
