"""What every Shift4Shop route module needs: the shared context, ids from the path, commit-late."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

from fastapi import Request

from ..faults import FaultInjector
from .emitter import WebhookEmitter
from .store import Shift4ShopStore
from .webhooks import WebhookRegistry
from .wire import ApiError, Paging


@dataclass
class Context:
    """`max_batch`: most records one batch PUT may carry. ASSUMPTION: the reference documents no
    limit; SkuVault sends 100 per call (shift4shop.md §1.4), so 100 is what is known to work and
    more is refused (400) rather than silently accepted."""
    store: Shift4ShopStore
    paging: Paging
    injector: FaultInjector
    webhooks: WebhookRegistry
    emitter: WebhookEmitter
    max_batch: int = 100


def batch_limit(ctx: Context) -> int:
    return ctx.max_batch


def path_id(raw: str, key: str) -> int:
    """An integer id from the path; anything else finds nothing (404), as a route constraint would."""
    try:
        return int(raw)
    except ValueError:
        raise ApiError(404, f"{key} not found", key, raw) from None


async def commit_late(ctx: Context, request: Request) -> None:
    """The shared fault plan's commit-late: the write waits, then commits, then answers
    (`faults.FaultPlan.commit_late_ms`), so a client that timed out sees no answer for a write
    that lands anyway."""
    delay = ctx.injector.commit_delay(request.method)
    if delay:
        await asyncio.sleep(delay)
