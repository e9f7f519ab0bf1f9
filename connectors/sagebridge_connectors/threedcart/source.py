"""The legacy 3dcart SOAP store as a `StorefrontSource`: stream "order" only.

New orders by invoice-number keyset: the cursor's `last` is the last invoice delivered ("AB-1041");
the next page is `getOrder(startFrom=true, invoiceNum="AB-1042", batchSize, startNum=1)` (§4:
startFrom lists invoices >= invoiceNum). Invoice numbers only grow, so an order placed while pages
are read is never skipped, and startNum stays 1 (no offset over a moving list). The first page ever
(no cursor) lists from the first order (or from `start_at`'s store-local date) with startNum paging
until an invoice is known. The service answers a page past the end with error 49 (NotFound): the end.

Status changes: the service has no "changed since" filter on getOrder (dateFrom/dateTo filter the
order DATE), so a recheck sweep re-reads the orders dated within `recheck_days` (dateFrom store-local),
one page per call in the room the new orders leave (so a full sweep takes about
window pages x poll_interval_s), and emits only orders whose content hash differs from
the one it last emitted. Memory: a dict invoice -> hash of the orders in the window, replaced at the
end of each full sweep by what that sweep saw (so it holds the window only), capped at MAX_SEEN.
It is not saved: after a restart, or when the runtime hands back an older cursor than the one last
returned (a page that was not delivered), the memory is cleared and the next sweep re-emits the
window once. That re-emission is harmless: with a time-bearing LastUpdate the versions are the same
as before and transform's version gate drops them; with a date-only LastUpdate (read-time stamp) the
same state comes again and maps to the same canonical order. The sweep position (`from`, `start`)
is in the cursor, so a restart resumes the sweep where it was; the cursor's `page` counter makes each
cursor handed out unique, which is how an older one coming back is recognised.

Customers: getCustomer pages only by startNum over the whole list and `customersFilter` has no id or
date key (§4), so there is no stable keyset (a deletion shifts every later offset: a new profile
would be skipped). The order carries the buyer's BillingAddress, which transform uses; no customer
stream is offered.

Record payload (issue8.md): `{"order": <Order element as dict>, "status_id": "<StatusId>"}`;
entity_id = OrderID. Version: LastUpdate (UTC) | sha256(order dict) - the order dict only, so the
listing's version and the fetched record's agree.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sagebridge_common.contracts import Change, ChangePage, SourceRecord
from sagebridge_common.errors import PermanentError

from .client import ThreeDCartClient
from .config import ThreeDCartStorefrontConfig
from .documents import digest, entities, order_stamp, ordered_at, split_invoice, us_date, version
from .errors import NotFound

STREAMS = ("order",)
MAX_SEEN = 200_000


def _cursor(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        data = {"last": text}           # a bare invoice string is accepted as a cursor too
    return data if isinstance(data, dict) else {}


class ThreeDCartSource:
    kind = "threedcart"

    def __init__(self, config: ThreeDCartStorefrontConfig, zone: ZoneInfo, client: ThreeDCartClient | None = None,
                 *, clock=lambda: datetime.now(timezone.utc)) -> None:
        self.config = config
        self.name = config.instance
        self.zone = zone
        self.client = client or ThreeDCartClient(config)
        self.clock = clock
        self._seen: dict[str, str] = {}          # invoice -> digest last emitted
        self._sweep_seen: dict[str, str] = {}    # what the running sweep saw
        self._returned: str | None = None        # the cursor the last page handed back

    def streams(self) -> list[str]:
        return list(STREAMS)

    # -- change listing ----------------------------------------------------------------------------
    def changes(self, stream: str, cursor: str | None, limit: int) -> ChangePage:
        if stream != "order":
            raise ValueError(f"3dcart SOAP source has no stream {stream!r}")
        if cursor != self._returned:
            self._seen.clear()                   # a page was not delivered (or a restart): re-emit
            self._sweep_seen.clear()
        state = _cursor(cursor)
        size = max(1, min(limit, self.config.batch_size))
        rows = self._new_orders(state, size)
        changes = [self._change(r) for r in rows]
        if rows:
            state["last"] = rows[-1]["InvoiceNumber"]
        if len(rows) == size:
            return self._page(changes, state, more=True)
        if self.config.recheck_days and not self._initial_scan(state):
            # one sweep page per call, in the room the new orders left (a page never exceeds `limit`)
            changes += self._sweep(state, size - len(rows))
        return self._page(changes, state, more=False)

    def _page(self, changes: list[Change], state: dict[str, Any], more: bool) -> ChangePage:
        # `page` makes every cursor handed out unique, so an older one coming back is recognised
        state["page"] = int(state.get("page", 0)) + 1
        self._returned = json.dumps(state, sort_keys=True)
        return ChangePage(changes, self._returned, has_more=more)

    @staticmethod
    def _initial_scan(state: dict[str, Any]) -> bool:
        return "last" not in state

    def _new_orders(self, state: dict[str, Any], size: int) -> list[dict[str, Any]]:
        if "last" in state:
            prefix, number = split_invoice(state["last"])
            rows = self._get_orders(startFrom=True, invoiceNum=f"{prefix}{number + 1}", batchSize=size, startNum=1)
        else:
            start = int(state.get("scan", 1))
            params: dict[str, Any] = {"startFrom": False, "batchSize": size, "startNum": start}
            if self.config.start_at:
                params["dateFrom"] = us_date(self.config.start_at, self.zone)
            rows = self._get_orders(**params)
            state["scan"] = start + len(rows)
            if self.config.start_at:
                rows = [r for r in rows if ordered_at(r, self.zone) >= self.config.start_at]
        placed = [r for r in rows if self._placed(r)]
        if placed:
            state.pop("scan", None)
        return placed

    @staticmethod
    def _placed(row: dict[str, Any]) -> bool:
        """An order without an invoice number ("0" in the recorded mock) was never completed."""
        try:
            return split_invoice(str(row.get("InvoiceNumber") or ""))[1] > 0
        except ValueError:
            return False

    def _sweep(self, state: dict[str, Any], size: int) -> list[Change]:
        """One page of the recheck window; the window's start date is fixed per sweep."""
        sweep = state.get("sweep") or {}
        window_from = sweep.get("from") or us_date(self.clock() - timedelta(days=self.config.recheck_days), self.zone)
        start = int(sweep.get("start", 1))
        rows = self._get_orders(startFrom=False, dateFrom=window_from, batchSize=size, startNum=start)
        _, last = split_invoice(state["last"])
        out = []
        for row in rows:
            if not self._placed(row) or split_invoice(row["InvoiceNumber"])[1] > last:
                continue                       # newer than the keyset: the next keyset page has it
            invoice, h = row["InvoiceNumber"], digest(row)
            self._sweep_seen[invoice] = h
            if self._seen.get(invoice) != h:
                out.append(self._change(row))
        if len(rows) == size:
            state["sweep"] = {"from": window_from, "start": start + len(rows)}
        else:                                  # the window is read: its memory replaces the old one
            state.pop("sweep", None)
            self._seen, self._sweep_seen = self._sweep_seen, {}
        return out

    def _get_orders(self, **params: Any) -> list[dict[str, Any]]:
        try:
            _, body = self.client.call("getOrder", **params)
        except NotFound:
            return []
        return entities(body, "Order")

    def _change(self, row: dict[str, Any]) -> Change:
        if len(self._seen) >= MAX_SEEN or len(self._sweep_seen) >= MAX_SEEN:
            self._seen.clear()           # a hard cap: past it, re-emission (dropped downstream) beats memory
            self._sweep_seen.clear()
        self._seen[row["InvoiceNumber"]] = self._sweep_seen[row["InvoiceNumber"]] = digest(row)
        stamp = order_stamp(row, self.zone, self.clock())
        return Change("order", str(row["OrderID"]), version(stamp, row), stamp, listing=row)

    # -- records -----------------------------------------------------------------------------------
    def fetch(self, change: Change) -> SourceRecord:
        if change.entity_type != "order":
            raise PermanentError(f"3dcart SOAP source has no entity type {change.entity_type!r}",
                                 reason="threedcart_unknown_entity")
        invoice = str((change.listing or {}).get("InvoiceNumber") or "")
        if not invoice:
            # getOrder finds an order by invoice, never by OrderID: a bare OrderID cannot be read
            raise PermanentError(f"3dcart SOAP order {change.entity_id}: the change carries no invoice number "
                                 f"(getOrder looks orders up by invoiceNum only)", reason="threedcart_no_invoice")
        return self.fetch_order(invoice)

    def fetch_order(self, invoice: str) -> SourceRecord:
        """getOrder for the invoice, then getOrderStatus for the status id; when the status text
        moved between the two reads, both are read once more so the pair belongs together."""
        for _ in range(2):
            read_at = self.clock()
            order = self._one_order(invoice)
            status = self._status(invoice)
            if str(status.get("StatusText", "")) == str(order.get("OrderStatus", "")):
                break
        stamp = order_stamp(order, self.zone, read_at)
        payload = {"order": order, "status_id": str(status.get("StatusId", ""))}
        return SourceRecord("order", str(order["OrderID"]), version(stamp, order), stamp, payload)

    def _one_order(self, invoice: str) -> dict[str, Any]:
        try:
            _, body = self.client.call("getOrder", startFrom=False, invoiceNum=invoice, batchSize=1, startNum=1)
        except NotFound as e:
            raise PermanentError(f"3dcart order {invoice} not found", reason="unknown_order") from e
        rows = entities(body, "Order")
        if not rows:
            raise PermanentError(f"3dcart order {invoice} not found", reason="unknown_order")
        return rows[0]

    def _status(self, invoice: str) -> dict[str, Any]:
        try:
            return self.client.call("getOrderStatus", invoiceNum=invoice)[1]
        except NotFound as e:
            raise PermanentError(f"3dcart order {invoice} not found", reason="unknown_order") from e

    def ping(self) -> tuple[bool, str]:
        return ping(self.client)

    def close(self) -> None:
        self.client.close()


def ping(client: ThreeDCartClient) -> tuple[bool, str]:
    """Readiness: getOrderCount answers (any error, login included, is "not ready")."""
    try:
        _, body = client.call("getOrderCount", startFrom=False)
    except Exception as e:  # noqa: BLE001 - readiness reports every failure
        return False, f"{type(e).__name__}: {e}"[:300]
    return True, f"{body.get('Quantity', '?')} orders"
