"""Issue 6's crash test: erp-writer, a real process on the real broker writing to the Sage 300
simulator over HTTP, is SIGKILLed at random instants while 300 orders of ~100 new shoppers and
their 300 payments flow, part of the time with Sage committing after the writer has given up on
the answer (commit-late). Afterwards Sage holds exactly one A/R customer per e-mail key (a shopper
writes the e-mail in several cases, on orders that land on different partitions), every store order
once and for its shopper's customer, and every payment as exactly one receipt batch for it.

The records are what transform makes of X-Cart orders: its own mapping functions
(`sagebridge_transform.xcart.order.to_canonical`, `...payments.payments_and_refunds`) applied to
X-Cart 5.5 order documents with one completed `sale` transaction each, under the rig's pair file.
Kills come at random instants after random progress (seeded); one comes right after 12 POSTs were
sent that Sage commits only 16 s later (settle_delay_s 17 s, longer than Sage takes, as the setting
requires), so the restarted writer looks for documents that are not there yet.
"""
from __future__ import annotations

import random
import time
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timezone

import httpx
from confluent_kafka import Producer

from sagebridge_common.customers import email_key
from sagebridge_common.events import derived_metadata, new_metadata
from sagebridge_common.pairs import load_pairs
from sagebridge_common.topics import ERP_RESULTS, ORDERS, PAYMENTS
from sagebridge_transform.xcart import order as xcart_order
from sagebridge_transform.xcart import payments as xcart_payments

from .conftest import read_all, wait_until
from .test_erp_writer_exactly_once import FINAL, rig  # noqa: F401  (the fixture)

SEED = 20261201
ORDERS_N, SHOPPERS = 300, 100
ENDED = FINAL | {"failed", "needs_attention", "skipped"}
KILLS, LATE_KILL, LATENCY_MS, COMMIT_MS, COMMIT_LATE = 3, 1, 100, 16_000, 12


def shopper_email(i: int, variant: int) -> str:
    """Shopper i's e-mail as written on one order: as registered, lower case, or upper case."""
    email = f"Kill.Shopper{i:03d}@Example.com"
    return [email, email.lower(), email.upper()][variant % 3]


def xcart_doc(order_id: int, number: str, email: str, profile_id: int, txn_id: int, at: str) -> dict:
    """Ingest's record of one X-Cart 5.5 order (admin API order DTO) paid by one sale transaction."""
    addr = {"id": 1, "is_billing": True, "is_shipping": True, "is_work": False, "type": "R", "title": "",
            "firstname": "Kim", "lastname": f"Shopper{profile_id}", "phone": "555-0100", "street": "1 Main St",
            "zipcode": "10001", "city": "New York", "country_code": "US", "state": 12, "state_name": "New York",
            "custom_fields": []}
    order = {"id": order_id, "order_number": number, "create_date": at, "update_date": at, "total": 30.0,
             "sub_total": 25.0, "currency": "USD",
             "payment_status": {"id": 4, "code": "P", "name": "Paid", "customer_name": "Paid"},
             "shipping_status": {"id": 1, "code": "N", "name": "New", "customer_name": "New"},
             "email": email, "customer_id": profile_id, "order_profile_id": profile_id + 1_000_000,
             "billing_address": addr, "shipping_address": addr, "shipping_id": 3,
             "shipping_method_name": "UPS Ground", "notes": "", "admin_notes": "", "stock_status": "reduced",
             "items": [{"id": 1, "product_id": 5, "sku": "WIDGET-1", "update_date": at, "name": "Widget",
                        "price": 12.5, "item_net_price": 12.5, "discounted_subtotal": 25.0, "amount": 2,
                        "backordered_amount": 0, "surcharges": []}],
             "surcharges": [{"id": 1, "type": "shipping", "code": "SHIPPING", "class": "", "include": False,
                             "available": True, "value": 5.0, "name": "Shipping cost", "weight": 0}],
             "tracking_numbers": [], "used_coupons": []}
    sale = {"id": txn_id, "public_id": f"P{txn_id}", "public_txn_id": "", "method_id": 2, "type": "sale",
            "date": at, "status": "S", "name": "Credit Card", "local_name": "Credit Card", "currency": "USD",
            "value": 30.0, "note": "", "data": [], "backend_transactions": []}
    return {"order": order, "payment_transactions": [sale]}


def flow(pair) -> tuple[list[dict], list[dict]]:
    """300 v3 orders and their 300 v2 payments, as transform maps them; order i is shopper i % 100's."""
    rng = random.Random(SEED)
    base = uuid.uuid4().int % 10**9 * 1000
    now = datetime.now(timezone.utc)
    at = now.strftime("%Y-%m-%dT%H:%M:%S+0000")
    orders, payments = [], []
    for i in range(ORDERS_N):
        shopper = i % SHOPPERS
        doc = xcart_doc(base + i, str(base + i), shopper_email(shopper, rng.randrange(3)), 7000 + shopper,
                        base + 500_000 + i, at)
        meta = new_metadata("order.created", source_system="xcart", source_instance="default",
                            source_entity_id=str(base + i), pair_id=pair.pair, occurred_at=now)
        order = xcart_order.to_canonical(doc, pair, meta, source_version="1")
        [payment], [] = xcart_payments.payments_and_refunds(doc, order, pair,
                                                            lambda kind: derived_metadata(meta, kind))
        orders.append(order)
        payments.append(payment)
    return orders, payments


def produce(r, orders: list[dict], payments: list[dict]) -> None:
    producer = Producer({"bootstrap.servers": r.bootstrap, "acks": "all", "enable.idempotence": True,
                         "linger.ms": 5})
    for order, payment in zip(orders, payments):
        producer.produce(ORDERS, key=order["order_id"].encode(), value=r.serde.serialize("sagebridge.v3.Order", order))
        producer.produce(PAYMENTS, key=payment["order_id"].encode(),
                         value=r.serde.serialize("sagebridge.v2.Payment", payment))
        producer.poll(0)
    assert producer.flush(30) == 0


def results(r) -> dict[str, list[dict]]:
    by: dict[str, list[dict]] = defaultdict(list)
    for m in read_all(r.bootstrap, ERP_RESULTS, idle=0.5):
        _s, v = r.serde.deserialize(m.value())
        if v["metadata"]["pair_id"] == r.pair_id:
            by[v["reference"]].append(v)
    return by


def written(r, order_refs: set[str], receipt_refs: set[str]) -> int:
    """How many of the flow's documents Sage holds (orders, receipt batches): the flow's progress."""
    orders = {o["OrderReference"] for o in httpx.get(f"{r.server.url}/_sim/orders", timeout=30).json()}
    batches = {b["Description"] for b in httpx.get(f"{r.server.url}/_sim/receipts", timeout=30).json()}
    return len(orders & order_refs) + len(batches & receipt_refs)


def test_sigkill_while_new_customers_orders_and_payments_flow_gives_one_of_each(rig):  # noqa: F811
    r = rig(timeout_s=2, settle_delay_s=COMMIT_MS / 1000 + 1)
    r.injector.configure(latency_ms=LATENCY_MS)       # every Sage call takes a while: the flow lasts
    [pair] = load_pairs(str(r.work / "pairs"), r.pair_id).values()
    orders, payments = flow(pair)
    order_refs = {pair.reference(o["order_number"]) for o in orders}
    receipt_refs = {f"{pair.reference(p['order_number'])}-P{p['transaction_id']}" for p in payments}
    wanted = order_refs | receipt_refs
    seeded = {c["CustomerNumber"] for c in httpx.get(f"{r.server.url}/_sim/customers", timeout=30).json()}

    rng = random.Random(SEED)
    writer = r.start_writer()
    produce(r, orders, payments)
    for kill in range(KILLS):
        if kill == LATE_KILL:     # Sage commits 16 s after a POST, the writer gives up on the answer at 2 s:
            # killed then, the writer restarts well before those commits land (its settle memory lost)
            r.injector.configure(latency_ms=LATENCY_MS, commit_late_ms=COMMIT_MS, commit_late_count=COMMIT_LATE)
            wait_until(lambda: r.injector.snapshot()["injected"] >= COMMIT_LATE, timeout=60, interval=0.1,
                       message=f"{COMMIT_LATE} POSTs committing late")
        else:
            mark = written(r, order_refs, receipt_refs) + rng.randrange(20, 80)   # some progress, then kill
            wait_until(lambda: written(r, order_refs, receipt_refs) >= mark, timeout=60, interval=0.2,
                       message=f"{mark} documents in Sage")
        time.sleep(rng.uniform(0.0, 0.5))     # a random instant to kill at, not a wait for an outcome
        writer.kill()
        writer = r.start_writer()
    r.injector.configure(latency_ms=0, commit_late_ms=0)
    by_ref = wait_until(lambda: (lambda by: by if sum(1 for ref in wanted if any(
        v["outcome"] in ENDED for v in by.get(ref, []))) == len(wanted) else None)(results(r)),
        timeout=150, interval=1.0, message=f"results for all {len(wanted)} orders and payments")
    assert r.injector.snapshot()["injected"] >= 1, "no answer was lost while Sage committed"

    outcomes = Counter(v["outcome"] for ref in wanted for v in by_ref[ref])
    assert set(outcomes) <= FINAL, f"not every record was written: {outcomes}"

    customers = [c for c in httpx.get(f"{r.server.url}/_sim/customers", timeout=30).json()
                 if c["CustomerNumber"] not in seeded]
    per_key = Counter(email_key(c["Email"]) for c in customers)
    keys = {o["customer"]["email_key"] for o in orders}
    spellings = Counter(o["customer"]["email_key"] for o in {o["customer"]["email"]: o for o in orders}.values())
    assert max(spellings.values()) > 1, "no e-mail came in two cases"
    assert len(keys) == SHOPPERS and set(per_key) == keys, f"customers for {len(per_key)} of {len(keys)} e-mails"
    assert max(per_key.values()) == 1, f"twin customers: {[k for k, n in per_key.items() if n > 1][:5]}"
    number_of = {email_key(c["Email"]): c["CustomerNumber"] for c in customers}
    assert all(number_of[k] == pair.mapping.customer_number(k) for k in keys)

    sage_orders = [o for o in httpx.get(f"{r.server.url}/_sim/orders", timeout=30).json()
                   if o["OrderReference"] in order_refs]
    per_order = Counter(o["OrderReference"] for o in sage_orders)
    assert set(per_order) == order_refs, f"{len(order_refs - set(per_order))} store orders missing in Sage"
    assert max(per_order.values()) == 1, f"duplicate orders: {[x for x, n in per_order.items() if n > 1][:5]}"
    customer_of = {pair.reference(o["order_number"]): number_of[o["customer"]["email_key"]] for o in orders}
    wrong = [o["OrderReference"] for o in sage_orders if o["CustomerNumber"] != customer_of[o["OrderReference"]]]
    assert not wrong, f"orders for the wrong customer: {wrong[:5]}"

    batches = [b for b in httpx.get(f"{r.server.url}/_sim/receipts", timeout=30).json()
               if b["Description"] in receipt_refs]
    per_payment = Counter(b["Description"] for b in batches)
    assert set(per_payment) == receipt_refs, f"{len(receipt_refs - set(per_payment))} payments without a receipt"
    assert max(per_payment.values()) == 1, f"duplicate receipts: {[x for x, n in per_payment.items() if n > 1][:5]}"
    for b in batches:
        [entry] = b["ReceiptsAdjustments"]
        assert entry["CustomerNumber"] == customer_of[entry["EntryReference"]], b["Description"]
        assert float(entry["CustomerReceiptAmount"]) == 30.0 and b["BankCode"] == "SEATAC", b["Description"]
