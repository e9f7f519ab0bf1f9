"""OE/OEOrders POST: validate, optionally commit late (fault), check duplicate POs and insert atomically.

Duplicate PO numbers: the customer option CheckForDuplicatePOs (ARCUS.SWCHKDUPPO, Sage AOM: 0 None,
1 Warning, 2 Error). At 2 a second order with a PO number the customer already used is refused; at 1
it is accepted (desktop O/E shows a warning, the Web API has no channel for one); at 0 accepted.
Sage documents neither the code nor the text of the refusal. RecordDuplicate is documented for an
insert with an existing *key*, and a PO number is no key of OEORDH, so the refusal is the
business-rule code: 400 `RecordInvalid`, "Purchase order number <po> has already been used for
customer <id>." The check runs at commit time, atomically with the insert, so two concurrent POSTs
cannot both pass it.

Fault `commit_late_ms` (faults.py): an order POST is validated, held, then committed and answered;
a client that timed out meanwhile never learns the order exists.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import Response

from .oe_order_build import build_order, check_duplicate_po
from .queries import created
from .resources import Resource

if TYPE_CHECKING:
    from .state import SimState


def post_order(sim: SimState, request: Request, resource: Resource, payload: Any, received_ms: int) -> Response:
    """Insert one order (no dedup: every POST makes a new order) and return the whole entry."""
    with sim.lock:
        sim.order_posts += 1
    header, header1, details = build_order(sim.db, payload, sim.strict_tax)
    sim.hold_commit(request.method)
    with sim.commit_lock:
        check_duplicate_po(sim.db, header)
        orduniq = sim.db.create_order(header, header1, details, user=sim.user)
    with sim.lock:
        sim.received_ms[orduniq] = received_ms
    return created(sim, request, resource, orduniq, str(orduniq))
