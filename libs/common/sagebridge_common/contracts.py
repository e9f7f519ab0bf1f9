"""One contract per connector role. Services and the runtime speak only these; a connector package
per external system implements them, and the pair file picks which (see `registry.py`).

The split follows Odoo's OCA connector framework (an adapter speaks the API; mapping lives
elsewhere; a binder links ids) and the Airbyte CDK's incremental streams (an opaque cursor, pages,
state saved only after the records before it are delivered):

- `StorefrontSource`: changes since an opaque cursor, one page at a time, and the authoritative
  record for one id (a webhook is a notification; the API is the truth).
- `ErpSource`: changes since a cursor (change capture; shipments, stock, prices...).
- `ErpSink`: ensure a document exists exactly once, by the ERP's own best means (Sage 300: lookup by
  reference plus the duplicate-PO guard; Intacct: `uniqueid` with a stable control id; Sage Pro: one
  DB transaction guarded by the reference). "Ensure" means a repeat is harmless: it answers
  `already_present` instead of writing again.
- `StorefrontSink`: stock, product (price, text, enabled, category), order status, shipment
  tracking and customer profiles on the store.
- `StorefrontLedger` / `ErpLedger`: read-only listings of both books for `sagebridge reconcile`.

Every call raises the runtime's error vocabulary (`errors.py`) so retries, budgets and the DLQ work
the same for every connector.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Iterator, Literal, Protocol, runtime_checkable

Outcome = Literal["created", "already_present", "created_with_mismatch", "updated", "needs_attention", "skipped"]


@dataclass(frozen=True)
class Change:
    """One changed entity as a change listing reports it.

    `version` identifies this state of the entity: two changes with the same (entity_id, version)
    are the same change seen twice (a poll overlap, a webhook and a poll); a new state has a new
    version. Versions of one entity compare in source order (`source_version` of canonical events
    is built from it), so keep them sortable as strings: a zero-padded time stamp first.
    `listing` is the row as the listing call returned it, for a `fetch` that can reuse it."""

    entity_type: str
    entity_id: str
    version: str
    occurred_at: datetime               # UTC
    listing: dict[str, Any] | None = None


@dataclass(frozen=True)
class ChangePage:
    """A page of changes and the cursor to save once every change before it is delivered.
    `has_more`: another page is ready now (the runtime asks again at once instead of waiting
    for the next poll interval)."""

    changes: list[Change]
    cursor: str
    has_more: bool = False


@dataclass(frozen=True)
class SourceRecord:
    """The authoritative record behind a change, as the source API returned it."""

    entity_type: str
    entity_id: str
    version: str
    occurred_at: datetime               # UTC
    payload: dict[str, Any]


@dataclass(frozen=True)
class WriteOutcome:
    """What an `ensure_*` call did; `document_id` is the ERP's number for the document."""

    outcome: Outcome
    document_id: str | None = None
    message: str | None = None
    details: dict[str, str] = field(default_factory=dict)   # e.g. {"erp_total": "12.30"}


@runtime_checkable
class ChangeSource(Protocol):
    """Anything the runtime's source driver can poll (`source_runner.py`)."""

    kind: str

    def streams(self) -> list[str]:
        """The entity types this source lists changes for, e.g. ["order"]."""

    def changes(self, stream: str, cursor: str | None, limit: int) -> ChangePage:
        """Changes after `cursor` (None: from the configured start), at most `limit`, oldest first.
        Must never skip a change that happens while pages are being read: page by a stable key
        (keyset), not by offset over a list that can move."""

    def ping(self) -> tuple[bool, str]:
        """Readiness: (reachable, detail)."""


@runtime_checkable
class StorefrontSource(ChangeSource, Protocol):
    def fetch(self, change: Change) -> SourceRecord:
        """The full record for a change (order with its payment transactions, ...)."""


@runtime_checkable
class ErpSource(ChangeSource, Protocol):
    def fetch(self, change: Change) -> SourceRecord:
        """The full record for a change (often the listing row itself)."""


@runtime_checkable
class ErpSink(Protocol):
    kind: str

    def ensure_order(self, order: dict[str, Any]) -> WriteOutcome:
        """Canonical Order (the newest schemas/avro/vN/Order.avsc) → exactly one ERP sales order."""

    def ensure_customer(self, customer: dict[str, Any], *, update: bool = True) -> WriteOutcome:
        """Canonical Customer → exactly one ERP customer per e-mail (created, or updated when
        `update`; `update=False` finds or creates and never modifies, for an order's customer)."""

    def ensure_payment(self, payment: dict[str, Any]) -> WriteOutcome:
        """Canonical Payment → exactly one receipt / payment per transaction."""

    def ensure_refund(self, refund: dict[str, Any]) -> WriteOutcome:
        """Canonical Refund → exactly one credit / adjustment per refund transaction."""

    def ping(self) -> tuple[bool, str]:
        """Readiness: (reachable, detail)."""


@runtime_checkable
class StorefrontSink(Protocol):
    """The store side of ERP -> store flows. Each call is idempotent (it sets a state, it never
    adds to one), so a redelivered event is harmless. An unknown SKU, order or customer raises a
    `PermanentError` with reason `unknown_sku` / `unknown_order` (a customer without a store
    profile is `skipped`: the hub creates no store accounts); a value the
    store must never receive (a system-only status code) raises one with reason `refused_value`."""
    kind: str

    def set_stock(self, sku: str, quantity: Decimal, location: str | None = None) -> WriteOutcome:
        """The store's stock of `sku` (product or variant) becomes `quantity`."""

    def update_product(self, product: dict[str, Any]) -> WriteOutcome:
        """Canonical Product (schemas/avro/v2/Product.avsc): price (when not null), description,
        enabled (`active`), categories; only what differs from the store's copy is written."""

    def set_order_status(self, order_number: str, *, shipping_status: str | None = None,
                         payment_status: str | None = None, order_status: str | None = None) -> WriteOutcome:
        """The store order's status codes (store codes, already mapped; None: leave it): X-Cart's
        shipping and payment statuses, or the single order status id of a store that has one
        (Shift4Shop/3dcart `OrderStatusID`, e.g. "4"). A sink ignores the codes its store does not
        have; given none it can set, it answers `skipped`."""

    def add_shipment(self, order_number: str, carrier: str | None, tracking_number: str) -> WriteOutcome:
        """A tracking number on the store order (kept once: a repeat answers `already_present`)."""

    def update_customer(self, customer: dict[str, Any]) -> WriteOutcome:
        """Canonical Customer from the ERP -> the store profile with that e-mail, where the API allows."""

    def ping(self) -> tuple[bool, str]:
        """Readiness: (reachable, detail)."""


# -- ledgers: read-only views for reconciliation (`reconcile.py`) ----------------------------------
@dataclass(frozen=True)
class StorePayment:
    """A completed capture/sale of a store order; `transaction_id` as canonical payments carry it
    ("t<main id>" or "b<backend id>"), so the ERP receipt's description is `<ref>-P<transaction_id>`."""

    transaction_id: str
    amount: Decimal


@dataclass(frozen=True)
class StoreDocument:
    """One store order as the merchant's books see it. `status` is the pair mapping's name for the
    payment status; `ready_for_erp` is the mapping's rule (the same one transform applies), i.e.
    whether this order should be in the ERP at all. `payments` is None when not read (one call per
    order on X-Cart, so only on request)."""

    order_id: str
    number: str
    created_at: datetime                # UTC
    total: Decimal
    currency: str
    status: str
    ready_for_erp: bool
    payments: tuple[StorePayment, ...] | None = None


@dataclass(frozen=True)
class ErpDocument:
    """One ERP sales order carrying a pair's reference (prefix + store number)."""

    document_id: str
    reference: str
    total: Decimal
    customer: str


@dataclass(frozen=True)
class ErpReceipt:
    """One ERP receipt batch; `description` is `<ref>-P<transaction_id>` for the hub's receipts."""

    batch_id: str
    description: str
    amount: Decimal


@runtime_checkable
class StorefrontLedger(Protocol):
    kind: str

    def orders(self, start: datetime, end: datetime) -> Iterator[StoreDocument]:
        """Orders created in [start, end) (UTC), oldest first; each read once."""


@runtime_checkable
class ErpLedger(Protocol):
    """An ERP whose sink writes no receipts (Sage Pro: no A/R cash tables known) says so with a class
    attribute `keeps_receipts = False` (absent = True); `sagebridge reconcile --payments` then
    checks orders only instead of reporting every payment as missing."""

    kind: str

    def orders(self, reference_prefix: str) -> Iterator[ErpDocument]:
        """Every sales order whose reference starts with `reference_prefix`."""

    def receipts(self, reference_prefix: str) -> Iterator[ErpReceipt]:
        """Every receipt batch whose description starts with `reference_prefix`."""
