"""What changed in an order after it was written to the ERP.

Sage 300's Web API offers OE/OEOrders as GET and POST only (the Sage 300 Web API reference lists
no PATCH or DELETE for sales orders), so a store order that is cancelled, refunded or edited after
its ERP order exists cannot be followed up automatically. The writer remembers, per order, what it
wrote (keyed state on commerce.orders.v1, changelog sagebridge.erp_writer.orders.changelog.v1) and
names the difference of a later version: a `needs_attention` result for a person, a counter
`sagebridge_erp_needs_attention_total{change=status|total|lines}` and the SagebridgeErpNeedsAttention
alert. Nothing is posted again.
"""
from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Iterable

# Store statuses that undo an order the ERP already holds (a paid → partially_paid refund is a
# refund event's business, not an order change).
UNDOING_STATUSES = frozenset({"cancelled", "refunded", "declined"})
CHANGE_KINDS = ("status", "total", "lines")      # the counter's bounded label values


def _num(value) -> str:
    return format(Decimal(value).normalize(), "f")      # 2.0000 and 2 are the same quantity


def money(value) -> str:
    """30.0000 → "30.00": at least two places, no trailing zeros beyond them."""
    d = Decimal(value)
    cents = d.quantize(Decimal("0.01"))
    return format(cents if cents == d else d.normalize(), "f")


def lines_fingerprint(lines: Iterable[dict]) -> str:
    """Order-independent digest of what was ordered: item, quantity, unit price."""
    rows = sorted([line.get("item_number") or line["sku"], _num(line["quantity"]), _num(line["unit_price"])]
                  for line in lines)
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:20]


def snapshot(order: dict, document: str | None) -> dict:
    """What the writer remembers of an order it wrote (JSON-safe)."""
    return {"document": document, "status": order["status"], "total": str(order["total"]),
            "lines": lines_fingerprint(order["lines"]), "line_count": len(order["lines"]),
            "ready": bool(order.get("ready_for_erp"))}


def changes(written: dict, order: dict) -> list[tuple[str, str]]:
    """(kind, description) of each difference that needs a person, in CHANGE_KINDS order."""
    found: list[tuple[str, str]] = []
    if order["status"] != written["status"] and order["status"] in UNDOING_STATUSES:
        found.append(("status", f"status {written['status']} → {order['status']}"))
    if Decimal(written["total"]) != Decimal(order["total"]):
        found.append(("total", f"total {money(written['total'])} → {money(order['total'])}"))
    if lines_fingerprint(order["lines"]) != written["lines"]:
        count = len(order["lines"])
        found.append(("lines", f"lines changed ({written['line_count']} → {count} line{'s' if count != 1 else ''})"))
    return found
