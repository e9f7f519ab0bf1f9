"""The trace an order was created in, so the way back (its shipments, its status) can link to it.

An ERP change about an order (a shipment, a status) is caused by someone in the office, not by the
record that carried the order, so it starts its own trace at erp-cdc; OpenTelemetry's messaging
conventions model such asynchronous causality with a span *link* rather than a shared parent.
Transform serves both directions, so it keeps the link: when it maps a store order it remembers
the order's `traceparent` (the first one, the trace that created the ERP order) in a link table
(`TRANSFORM_ORDER_TRACES`, compacted, read whole by every instance, because the ERP rows that
come back are keyed and partitioned by ERP keys, not by the store order; a link expires after
`ORDER_TRACES_MAX_AGE_S`, so the table holds the last month of orders, not all of them); when it emits a shipment
or an order status for that order, it puts the traceparent in `tracing.LINK_HEADER`, and every
`process` span of that record (storefront-writer's store write included) links to the order's trace.

A link is a convenience for the person reading traces, never a condition of delivery: if the table
is still loading, the event goes without the link rather than wait.
"""
from __future__ import annotations

from dataclasses import replace

from sagebridge_common import tracing
from sagebridge_common.events import Output
from sagebridge_common.link_table import LinkTable
from sagebridge_common.topics import ORDER_STATUS, ORDERS, SHIPMENTS

LINKED_TOPICS = (SHIPMENTS, ORDER_STATUS)


def _key(output: Output) -> str | None:
    """`<pair>|<store order number>`: the ERP knows the store order by its number (the reference
    it was written with), so the way back names the order by `order_id` = that number, while the
    canonical order has it as `order_number` (its `order_id` is the store's internal id)."""
    value = output.value if isinstance(output.value, dict) else {}
    pair = (value.get("metadata") or {}).get("pair_id")
    number = value.get("order_number") if output.topic == ORDERS else value.get("order_id")
    return f"{pair}|{number}" if pair and number else None


class OrderTraces:
    def __init__(self, table: LinkTable | None) -> None:
        self.table = table

    def _ready(self) -> bool:
        return self.table is not None and self.table.ready()[0]

    def remember(self, outputs: list[Output]) -> list[Output]:
        """The link records for the store orders among `outputs` (none for an order already known)."""
        if not self._ready():
            return []
        traceparent = tracing.current_traceparent()
        records = []
        for output in outputs:
            key = _key(output) if output.topic == ORDERS else None
            if key is None or traceparent is None:
                continue
            if self.table.get(key):
                again = self.table.unconfirmed_output(key)
                records += [again] if again else []
            else:
                records.append(self.table.put(key, {"traceparent": traceparent}))
        return records

    def link(self, outputs: list[Output]) -> list[Output]:
        """`outputs` with the order's traceparent in LINK_HEADER on shipments and statuses."""
        if not self._ready():
            return outputs
        linked = []
        for output in outputs:
            key = _key(output) if output.topic in LINKED_TOPICS else None
            known = self.table.get(key) if key else None
            if known and known.get("traceparent"):
                headers = [h for h in output.headers if h[0] != tracing.LINK_HEADER]
                output = replace(output, headers=headers + [(tracing.LINK_HEADER, known["traceparent"].encode())])
            linked.append(output)
        return linked
