"""Issue 6's store flows end to end on the running system: the X-Cart simulator → ingest (poll and
push) → transform → erp_writer → the Sage 300 simulator (its data in SQL tables through ODBC), on
the session's real broker. Every test uses its own e-mails and orders, so they share the stack, and
each waits for a positive signal (a result on erp.results.v1, a row in the simulator) before it
checks that nothing else happened."""
from __future__ import annotations

import base64
import hashlib
import uuid
from collections import Counter
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from confluent_kafka import Consumer, TopicPartition

from sagebridge_common.dead_letter import ERROR_PREFIX, header_dict
from sagebridge_common.topics import ERP_RESULTS, ORDERS, PAYMENTS, REFUNDS

from .conftest import read_all, wait_until

PREFIX = "XC1-"                          # the shipped pair's reference_prefix
STORE_ZONE = ZoneInfo("America/New_York")  # the shipped pair's store_time_zone default


def new_email(name: str) -> str:
    return f"{name}.{uuid.uuid4().hex[:8]}@example.com"


def customer_number(email: str) -> str:
    """The shipped pair's rule (customers.number_rule hash, prefix W, 12 characters), written out
    independently of the code under test: prefix + base32 of sha256(e-mail key), cut."""
    key = email.strip().lower()
    return ("W" + base64.b32encode(hashlib.sha256(key.encode()).digest()).decode().rstrip("="))[:12]


def results(rs: "Results", **match) -> list[dict]:
    return rs.matching(**match)


def sage_orders_of(sims, *numbers: str) -> list[dict]:
    refs = {PREFIX + n for n in numbers}
    return [o for o in sims._sage("orders", reference=sorted(refs)) if o["OrderReference"] in refs]


def customers_with(sims, email: str) -> list[dict]:
    key = email.strip().lower()
    return [c for c in sims.sage_customers() if (c.get("Email") or "").strip().lower() == key]


def entries_for(sims, reference: str, record_type: str) -> list[tuple[dict, dict]]:
    """(batch, entry) of every receipt ("CA") or adjustment ("AD") entry referencing the order."""
    return [(b, e) for b in sims.sage_receipts(reference) if b["BatchRecordType"] == record_type
            for e in b["ReceiptsAdjustments"] if e["EntryReference"] == reference]


class Results:
    """erp.results.v1 read once from the beginning, then only what is new on each call. Late in a
    suite the topic holds tens of thousands of results; reading it whole on every poll of a wait
    would outlast the wait."""

    def __init__(self, serde, bootstrap) -> None:
        self._serde = serde
        self._consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"store-flows-{uuid.uuid4().hex}",
                                   "enable.auto.commit": False, "fetch.wait.max.ms": 10})
        md = self._consumer.list_topics(ERP_RESULTS, timeout=10).topics[ERP_RESULTS]
        self._consumer.assign([TopicPartition(ERP_RESULTS, p, 0) for p in md.partitions])
        self._values: list[dict] = []

    def matching(self, **match) -> list[dict]:
        while (msg := self._consumer.poll(0.3)) is not None:
            if not msg.error():
                self._values.append(self._serde.deserialize(msg.value())[1])
        return [v for v in self._values if all(v.get(k) == want for k, want in match.items())]

    def close(self) -> None:
        self._consumer.close()


_READERS: dict[int, Results] = {}


@pytest.fixture(scope="module", autouse=True)
def _close_readers():
    yield
    while _READERS:
        _READERS.popitem()[1].close()


def _rs(serde, bootstrap) -> Results:
    """One reader for the module (the session's serde is one object)."""
    if id(serde) not in _READERS:
        _READERS[id(serde)] = Results(serde, bootstrap)
    return _READERS[id(serde)]


ADDRESS = {"street": "  9 Elm St  ", "city": "Albany", "zipcode": "12207", "country_code": "us",
           "state_name": "New York", "phone": "518-555-0101"}


def test_new_customers_order_creates_one_customer_and_its_order_field_by_field(sims, bootstrap, serde):
    email = new_email("Nora.Quinn")
    made = sims.order(guest=False, email=email, first_name="Nora", last_name="Quinn", address=ADDRESS,
                      items=[{"sku": "WIDGET-1", "name": "Widget", "price": "11.75", "amount": 2}],
                      shipping="6.50", tax="1.88", discount="2.00", coupon="SAVE2", shipping_method="UPS Ground")
    number, ref = made["order_number"], PREFIX + made["order_number"]
    [sage] = wait_until(lambda: sage_orders_of(sims, number), message="the Sage 300 order")
    want_customer = customer_number(email)

    [customer] = wait_until(lambda: customers_with(sims, email), message="the ARCUS row")
    assert customer["CustomerNumber"] == want_customer
    assert customer["Email"] == email.lower()                 # stored as the e-mail key (contract §5)
    assert customer["CustomerName"] == "Nora Quinn"
    assert customer["AddressLine1"] == "9 Elm St" and customer["City"] == "Albany"
    assert customer["StateProvince"] == "NY" and customer["ZipPostalCode"] == "12207"
    assert customer["Country"] == "US"
    assert customer["CheckForDuplicatePOs"] == "Error"

    assert sage["CustomerNumber"] == want_customer
    assert sage["OrderReference"] == ref and sage["PurchaseOrderNumber"] == ref
    for side in ("BillTo", "ShipTo"):
        assert sage[f"{side}Name"] == "Nora Quinn"
        assert sage[f"{side}AddressLine1"] == "9 Elm St" and sage[f"{side}City"] == "Albany"
        assert sage[f"{side}StateProvince"] == "NY" and sage[f"{side}ZipPostalCode"] == "12207"
        assert sage[f"{side}Country"] == "US"
    assert sage["ShipViaCode"] == "UPSGRD"
    items = [d for d in sage["OrderDetails"] if d["LineType"] == "Item"]
    misc = [d for d in sage["OrderDetails"] if d["LineType"] == "Miscellaneous"]
    assert [(d["Item"], d["Location"], d["QuantityOrdered"], d["OrderUnitPrice"], d["PriceOverride"])
            for d in items] == [("WIDGET-1", "1", Decimal("2"), Decimal("11.75"), True)]
    assert [(d["MiscellaneousChargesCode"], d["ExtendedAmount"]) for d in misc] == [("FRT", Decimal("6.5"))]
    assert sage["OrderDiscountAmount"] == Decimal("2")       # discount: header
    assert sage["TaxAmount1"] == Decimal("1.88")              # tax: store → the store's amount kept
    assert sage["OrderTotal"] == Decimal("23.50") + Decimal("6.50") - 2 + Decimal("1.88")
    placed = sims.xcart_order(made["id"])["last_renew"]      # = the order's date at creation
    assert str(sage["OrderDate"])[:10] == datetime.fromtimestamp(placed, STORE_ZONE).date().isoformat()

    rs = _rs(serde, bootstrap)
    created = wait_until(lambda: results(rs, reference=ref, entity_type="order", outcome="created"),
                         message="the order's created result")
    assert created[0]["target_document_id"] == sage["OrderNumber"]
    # the checkout's sale transaction is a payment too: its receipt is the later signal that the
    # order and customer are settled; then still one customer and one order
    [(_b, receipt)] = wait_until(lambda: entries_for(sims, ref, "CA"), message="the checkout payment's receipt")
    assert receipt["CustomerNumber"] == want_customer and receipt["CustomerReceiptAmount"] == sage["OrderTotal"]
    assert len(customers_with(sims, email)) == 1
    assert len(sage_orders_of(sims, number)) == 1


def test_three_orders_of_one_new_email_together_give_one_customer(sims, bootstrap, serde):
    email = new_email("Tom.Reyes")
    variants = [email, email.upper(), "  " + email.title() + " "]
    # placed as guests of the same person (no store profile to serialise them) in one burst, and a
    # registered order of the same e-mail in another case
    made = [sims.order(guest=True, email=e, first_name="Tom", last_name="Reyes") for e in variants]
    numbers = [m["order_number"] for m in made]
    orders = wait_until(lambda: (lambda os: os if len(os) == 3 else None)(sage_orders_of(sims, *numbers)),
                        message="the three Sage orders")
    # the shipped pair sends guests to the web customer; this is checked, then registered orders
    assert {o["CustomerNumber"] for o in orders} == {"WEBCUST"}

    registered = [sims.order(guest=False, email=e, first_name="Tom", last_name="Reyes")
                  for e in (email.upper(), email, email.capitalize())]
    reg_numbers = [m["order_number"] for m in registered]
    reg = wait_until(lambda: (lambda os: os if len(os) == 3 else None)(sage_orders_of(sims, *reg_numbers)),
                     message="the three registered orders")
    want = customer_number(email)
    assert {o["CustomerNumber"] for o in reg} == {want}
    [customer] = customers_with(sims, email)
    assert customer["CustomerNumber"] == want
    rs = _rs(serde, bootstrap)
    for n in reg_numbers:
        wait_until(lambda: results(rs, reference=PREFIX + n, entity_type="order", outcome="created"),
                   message=f"order {n}'s result")
    assert len(customers_with(sims, email)) == 1
    # the customer is created by whichever write gets there first: a customer event (a "created"
    # result) or an order's resolution (no customer result: results are one per input event)
    customer_results = Counter(v["outcome"] for v in results(rs, entity_type="customer", target_document_id=want))
    assert customer_results["created"] <= 1, customer_results
    assert Counter(o["OrderReference"] for o in sage_orders_of(sims, *reg_numbers)) == Counter(
        {PREFIX + n: 1 for n in reg_numbers})


def _main_txn(sims, order_id: int) -> dict:
    txns = wait_until(lambda: sims.transactions(order_id), message="the order's transactions")
    return txns[0]


def test_payment_gives_one_receipt_and_refund_one_adjustment(sims, bootstrap, serde):
    email = new_email("Pia.Holm")
    made = sims.order(guest=False, email=email, first_name="Pia", last_name="Holm", payment_method="PayPal",
                      items=[{"sku": "WIDGET-1", "name": "Widget", "price": "20.00", "amount": 1}])
    ref = PREFIX + made["order_number"]
    txn = _main_txn(sims, made["id"])
    assert Decimal(str(txn["value"])) == Decimal("20.00")
    [(batch, entry)] = wait_until(lambda: entries_for(sims, ref, "CA"), message="the receipt")
    assert batch["BankCode"] == "PAYPAL"                     # payment_methods PayPal → PAYPAL → its bank
    assert entry["CustomerNumber"] == customer_number(email)
    assert entry["BankReceiptAmount"] == Decimal("20") and entry["CustomerReceiptAmount"] == Decimal("20")
    assert entry["ReceiptTransactionType"] == "Prepayment"

    sims.backend(made["id"], txn["id"], type="refundPart", value="7.25", payment_status="PP")
    [(adj_batch, adj)] = wait_until(lambda: entries_for(sims, ref, "AD"), message="the adjustment")
    assert adj["CustomerNumber"] == customer_number(email)
    dists = [d for line in adj["AppliedReceiptsAdjustments"] for d in line["AdjustmentGLDistributions"]]
    assert sum(abs(d["DistributionAmount"]) for d in dists) == Decimal("7.25")
    assert {d["DistributionGLAccount"] for d in dists} == {"4030"}
    rs = _rs(serde, bootstrap)
    [refund] = wait_until(lambda: [v for v in results(rs, entity_type="refund") if v["reference"].startswith(ref + "-R")],
                          message="the refund's result")
    assert refund["outcome"] == "created"
    assert refund["target_document_id"] == f"AD{adj_batch['BatchNumber']}-{adj['EntryNumber']}"
    [payment] = [v for v in results(rs, entity_type="payment") if v["reference"].startswith(ref + "-P")]
    assert payment["outcome"] == "created"
    assert payment["target_document_id"] == f"CA{batch['BatchNumber']}-{entry['EntryNumber']}"
    assert len(entries_for(sims, ref, "CA")) == 1 and len(entries_for(sims, ref, "AD")) == 1


def test_over_refund_goes_to_dlq_with_its_reason_and_a_later_refund_flows(sims, bootstrap, serde):
    over = sims.order(guest=False, email=new_email("Ola.Berg"), first_name="Ola", last_name="Berg",
                      items=[{"sku": "WIDGET-1", "name": "Widget", "price": "10.00", "amount": 1}])
    over_ref = PREFIX + over["order_number"]
    txn = _main_txn(sims, over["id"])
    wait_until(lambda: entries_for(sims, over_ref, "CA"), message="the over-refunded order's receipt")
    sims.backend(over["id"], txn["id"], type="refund", value="15.00", payment_status="R")

    later = sims.order(guest=False, email=new_email("Eva.Lind"), first_name="Eva", last_name="Lind",
                       items=[{"sku": "WIDGET-1", "name": "Widget", "price": "10.00", "amount": 1}])
    later_ref = PREFIX + later["order_number"]
    later_txn = _main_txn(sims, later["id"])
    wait_until(lambda: entries_for(sims, later_ref, "CA"), message="the later order's receipt")
    sims.backend(later["id"], later_txn["id"], type="refundPart", value="4.00", payment_status="PP")

    dlq = wait_until(lambda: [m for m in read_all(bootstrap, REFUNDS + ".dlq", idle=0.5)
                              if m.key() == str(over["id"]).encode()], message="the over-refund's DLQ record")
    h = header_dict(dlq[0].headers())
    assert h[ERROR_PREFIX + "reason"] == "refund_exceeds_payment"
    _n, refund = serde.deserialize(dlq[0].value())            # the refund itself, intact
    assert refund["amount"] == Decimal("15") and refund["paid_total"] == Decimal("10")
    wait_until(lambda: entries_for(sims, later_ref, "AD"), message="the later refund's adjustment")
    assert entries_for(sims, over_ref, "AD") == []
    assert len(dlq) == 1


def needs_attention_count(sims) -> float:
    text = sims.http.get(f"{sims.stack.ops_url('erp-writer')}/metrics").text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("sagebridge_erp_needs_attention_total{") and 'change="status"' in line)


def test_order_cancelled_after_creation_is_needs_attention_and_not_posted_twice(sims, bootstrap, serde):
    made = sims.order(guest=False, email=new_email("Cy.Moss"), first_name="Cy", last_name="Moss")
    number, ref = made["order_number"], PREFIX + made["order_number"]
    rs = _rs(serde, bootstrap)
    wait_until(lambda: results(rs, reference=ref, entity_type="order", outcome="created"), message="the order")
    before = needs_attention_count(sims)
    sims.payment_status(made["id"], "C")
    [attention] = wait_until(lambda: results(rs, reference=ref, entity_type="order", outcome="needs_attention"),
                             message="the needs_attention result")
    assert "cancelled" in attention["message"]
    assert needs_attention_count(sims) > before
    [sage] = sage_orders_of(sims, number)
    assert attention["target_document_id"] == sage["OrderNumber"]


def test_registered_then_changed_profile_updates_its_one_customer(sims, bootstrap, serde):
    email = new_email("Lea.Vogt")
    record = sims.profile(login=email, first_name="Lea", last_name="Vogt", address=ADDRESS)
    pid = record["profile"]["id"]
    want = customer_number(email)
    [before] = wait_until(lambda: customers_with(sims, email), message="the registered customer's ARCUS row")
    assert before["CustomerNumber"] == want and before["City"] == "Albany"

    sims._post(f"/_sim/profiles/{pid}", {"last_name": "Vogt-Berg", "address": {"city": "Troy", "phone": "518-555-0199"}},
               method="PATCH")
    rs = _rs(serde, bootstrap)
    wait_until(lambda: results(rs, entity_type="customer", target_document_id=want, outcome="updated"),
               message="the customer's updated result")
    [after] = customers_with(sims, email)
    assert after["CustomerNumber"] == want
    assert after["CustomerName"] == "Lea Vogt-Berg" and after["City"] == "Troy"
    assert after["PhoneNumber"] == "518-555-0199"
    assert after["AddressLine1"] == "9 Elm St"                # not sent, not changed


def test_order_and_payment_in_a_currency_sage_lacks_go_to_the_dlq_with_that_reason(sims, bootstrap, serde):
    made = sims.order(guest=False, email=new_email("Yui.Sato"), currency="JPY",
                      items=[{"sku": "WIDGET-1", "name": "Widget", "price": "1500", "amount": 1}])
    key = str(made["id"]).encode()

    def dead(topic):
        return [header_dict(m.headers()) for m in read_all(bootstrap, topic, idle=0.5) if m.key() == key]

    [order_dlq] = wait_until(lambda: dead(ORDERS + ".dlq"), message="the order's DLQ record")
    [payment_dlq] = wait_until(lambda: dead(PAYMENTS + ".dlq"), message="the payment's DLQ record")
    assert order_dlq[ERROR_PREFIX + "reason"] == payment_dlq[ERROR_PREFIX + "reason"] == "currency_not_in_sage"
    assert "JPY" in payment_dlq[ERROR_PREFIX + "exception.message"]
    # not 1500 home-currency units in the bank
    assert entries_for(sims, PREFIX + made["order_number"], "CA") == []
