"""Transform's handler: raw storefront event → canonical events, with the mapping of the event's pair.

Routes by topic: `erp.raw.v1` records go by their `erp` to that ERP's mapping (`sage300.handler`
for Sage 300 rows, `intacct.handler` for Intacct records, `sagepro.handler` for Sage Pro rows; all
keep their rows in the one ERP keyed state, keyed by pair and entity); storefront records
by the raw record's storefront kind (xcart, shift4shop, threedcart: each kind's mapping modules) and
entity_type: an `order` gives the order (commerce.orders.v1), the customer it implies
(commerce.customers.v1, when new or changed), and its payments and refunds not emitted before
(commerce.payments.v1 / commerce.refunds.v1); a customer record (X-Cart `profile`, 3dcart and
Shift4Shop `customer`) gives a customer. Other entity types (3dcart/Shift4Shop `product`: the store
catalogue is Sage's to own, nothing downstream consumes store products) are logged and skipped.
Pure apart from the keyed state (version gate and emitted memory): no I/O, so a failure here is the
record's fault (permanent) and replaying it gives the same result.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import Callable

from sagebridge_common.errors import PermanentError
from sagebridge_common.events import Event, Output, derived_metadata
from sagebridge_common.keyed_state import KeyedState
from sagebridge_common.pairs import PairConfig
from sagebridge_common.topics import CUSTOMERS, ERP_RAW, ORDERS, PAYMENTS, REFUNDS

from .emitted import EmittedMemory
from .intacct.handler import IntacctTransform
from .sage300.handler import Sage300Transform
from .sagepro.handler import SageProTransform
from .versions import VersionGate
from .shift4shop import customer as shift4shop_customer
from .shift4shop import order as shift4shop_order
from .shift4shop import payments as shift4shop_payments
from .threedcart import customer as threedcart_customer
from .order_traces import OrderTraces
from .threedcart import order as threedcart_order
from .threedcart import payments as threedcart_payments
from .xcart import customer as xcart_customer
from .xcart import order as xcart_order
from .xcart import payments as xcart_payments

log = logging.getLogger(__name__)
ORDER_SCHEMA = "sagebridge.v3.Order"
CUSTOMER_SCHEMA = "sagebridge.v2.Customer"
PAYMENT_SCHEMA = "sagebridge.v2.Payment"
REFUND_SCHEMA = "sagebridge.v2.Refund"
# storefront kind → its order mapping (parse_payload, to_canonical) and payment mapping (payments_and_refunds)
ORDER_MAPPERS: dict[str, ModuleType] = {"xcart": xcart_order, "shift4shop": shift4shop_order,
                                        "threedcart": threedcart_order}
# erp.raw.v1 `erp` -> its transform (constructed with the pairs and the ERP keyed state)
ERP_TRANSFORMS = {"sage300": Sage300Transform, "intacct": IntacctTransform, "sagepro": SageProTransform}
PAYMENT_MAPPERS: dict[str, ModuleType] = {"xcart": xcart_payments, "shift4shop": shift4shop_payments,
                                          "threedcart": threedcart_payments}


@dataclass(frozen=True)
class CustomerRecords:
    """A kind's customer raw records: their entity_type, payload parser and mapping (None: not a customer)."""
    entity_type: str
    parse: Callable[[str], dict]
    to_customer: Callable[[dict, PairConfig, dict, str, datetime], dict | None]


CUSTOMER_MAPPERS: dict[str, CustomerRecords] = {
    "xcart": CustomerRecords("profile", xcart_customer.parse_profile_payload, xcart_customer.customer_from_profile),
    "shift4shop": CustomerRecords("customer", shift4shop_customer.parse_payload,
                                  shift4shop_customer.customer_from_record),
    "threedcart": CustomerRecords("customer", threedcart_customer.parse_payload,
                                  threedcart_customer.customer_from_record),
}


def _pair_of(raw: dict, pairs: dict[str, PairConfig]) -> PairConfig:
    pair_id = raw["metadata"]["pair_id"]
    pair = pairs.get(pair_id)
    if pair is None:
        raise PermanentError(f"no pair file defines pair {pair_id!r} (served: {', '.join(sorted(pairs))})",
                             reason="unknown_pair")
    if raw["storefront"] != pair.storefront.kind:
        raise PermanentError(f"event from storefront {raw['storefront']!r}, but pair {pair_id!r} is a "
                             f"{pair.storefront.kind} pair", reason="storefront_mismatch")
    return pair


def _customer_output(customer: dict) -> Output:
    return Output(CUSTOMERS, customer["email_key"], CUSTOMER_SCHEMA, customer)


class Transform:
    def __init__(self, pairs: dict[str, PairConfig], state: KeyedState, erp_state: KeyedState | None = None,
                 traces: OrderTraces | None = None) -> None:
        self.pairs = pairs
        self.traces = traces or OrderTraces(None)
        self.gate = VersionGate(state)
        self.emitted = EmittedMemory(state)
        self.erp = ({erp: cls(pairs, erp_state) for erp, cls in ERP_TRANSFORMS.items()}
                    if erp_state is not None else None)

    def __call__(self, event: Event) -> list[Output]:
        if event.topic == ERP_RAW:
            if self.erp is None:
                raise PermanentError("this transform has no ERP state (erp.raw.v1 not served)",
                                     reason="unexpected_topic")
            return self.traces.link(self._erp_route(event)(event))
        raw = event.value
        if not event.schema.endswith(".RawStorefrontEvent"):
            raise PermanentError(f"transform cannot handle {event.schema}", reason="unexpected_schema")
        if raw["storefront"] not in ORDER_MAPPERS:
            raise PermanentError(f"no mapping for storefront kind {raw['storefront']!r} (transform maps: "
                                 f"{', '.join(sorted(ORDER_MAPPERS))})", reason="unsupported_storefront")
        pair = _pair_of(raw, self.pairs)
        kind = raw["storefront"]
        if raw["entity_type"] not in ("order", CUSTOMER_MAPPERS[kind].entity_type):
            log.info("entity type not mapped; skipped", extra={"entity_type": raw["entity_type"],
                                                               "storefront": kind, "entity_id": raw["entity_id"]})
            return []
        if not self.gate.admit(event):
            return []
        route = self._order if raw["entity_type"] == "order" else self._customer_record
        outputs = route(event, pair)
        outputs += self.traces.remember(outputs)
        return outputs + [self.gate.remember(event)]     # state writes last: nothing after them can raise

    def _erp_route(self, event: Event):
        if not event.schema.endswith(".RawErpChange"):
            raise PermanentError(f"transform cannot handle {event.schema} on {event.topic}", reason="unexpected_schema")
        erp = event.value.get("erp")
        route = self.erp.get(erp) if isinstance(erp, str) else None
        if route is None:
            raise PermanentError(f"no mapping for ERP {erp!r} (transform maps: {', '.join(sorted(self.erp))})",
                                 reason="unsupported_erp")
        return route

    def _metadata_for(self, raw: dict):
        return lambda event_type: derived_metadata(raw["metadata"], event_type)

    def _order(self, event: Event, pair: PairConfig) -> list[Output]:
        raw = event.value
        mapper = ORDER_MAPPERS[raw["storefront"]]
        doc = mapper.parse_payload(raw["payload"])
        meta = self._metadata_for(raw)
        order = mapper.to_canonical(doc, pair, meta(raw["metadata"]["event_type"]), raw.get("source_version") or "")
        payments, refunds = PAYMENT_MAPPERS[raw["storefront"]].payments_and_refunds(doc, order, pair, meta)
        # reads only the canonical order, so it serves every storefront kind
        customer = xcart_customer.customer_from_order(order, pair, meta("customer.updated"))
        known = self.emitted.known(event)
        new_payments = [p for p in payments if p["transaction_id"] not in known.payments]
        new_refunds = [r for r in refunds if r["refund_id"] not in known.refunds]
        fingerprint = xcart_customer.fingerprint(customer) if customer else known.customer
        outputs = [Output(ORDERS, order["order_id"], ORDER_SCHEMA, order)]
        if customer is not None and fingerprint != known.customer:
            outputs.append(_customer_output(customer))
        outputs += [Output(PAYMENTS, order["order_id"], PAYMENT_SCHEMA, p) for p in new_payments]
        outputs += [Output(REFUNDS, order["order_id"], REFUND_SCHEMA, r) for r in new_refunds]
        memory = self.emitted.remember(event, known, [p["transaction_id"] for p in new_payments],
                                       [r["refund_id"] for r in new_refunds], fingerprint)
        return outputs + ([memory] if memory is not None else [])

    def _customer_record(self, event: Event, pair: PairConfig) -> list[Output]:
        raw = event.value
        records = CUSTOMER_MAPPERS[raw["storefront"]]
        doc = records.parse(raw["payload"])
        customer = records.to_customer(
            doc, pair, derived_metadata(raw["metadata"], "customer.updated"), raw.get("source_version") or "",
            raw["metadata"]["occurred_at"])
        if customer is None:
            log.info("administrator profile: not a customer; skipped", extra={"entity_id": raw["entity_id"]})
            return []
        return [_customer_output(customer)]


def make_handler(pairs: dict[str, PairConfig], state: KeyedState, erp_state: KeyedState | None = None,
                 traces: OrderTraces | None = None) -> Transform:
    """`state` keys storefront records (STOREFRONT_RAW), `erp_state` ERP rows (ERP_RAW, every ERP),
    `traces` the orders' traces for the way back's span links (order_traces.py)."""
    return Transform(pairs, state, erp_state, traces)
