"""Issue 9 end to end under faults, X-Cart -> Sage Intacct (pair `xcart-intacct`, one stack for the
module, all five services as processes on the session broker):

- every session expires while orders stream: the writer logs in again once, and every order is in
  Intacct exactly once;
- Intacct commits a sales order and answers 524 (the gateway's timeout page, no XML): the writer
  finds the order by its referenceno, still exactly one;
- erp-writer is SIGKILLed while orders stream (sales orders committed whose offsets are not): the
  restarted writer's repeats are refused by uniqueid (the same function control id) or found by
  referenceno, exactly one sales order each;
- three requests at once against a company limit of two: the third is answered 429 GW-0010 and
  retried by the gateway, nothing lost.
"""
from __future__ import annotations

import threading
from collections import Counter

import httpx
import pytest

from sagebridge_connectors.intacct.config import IntacctConfig
from sagebridge_connectors.intacct.envelope import element, fields
from sagebridge_connectors.intacct.gateway import IntacctGateway

from .conftest import wait_until
from .intacct_pair import PREFIX, new_email, running_pair

ITEM = [{"sku": "GADGET-2", "name": "Gadget", "price": "3.25", "amount": 1}]


@pytest.fixture(scope="module")
def pair(bootstrap, serde, tmp_path_factory):
    with running_pair(bootstrap, serde, tmp_path_factory.mktemp("intacct-faults"), first_order=72000) as p:
        yield p


def sales_orders(pair) -> Counter:
    return Counter(r["REFERENCENO"] for r in pair.intacct.objects("SODOCUMENT") if r.get("DOCPARID") == "Sales Order")


def writer_metric(pair, name: str) -> float:
    text = httpx.get(f"{pair.stack.ops_url('erp-writer')}/metrics", timeout=10).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name + "{") and f'pair="{pair.id}"' in line)


def place(pair, count: int, tag: str) -> list[str]:
    return [PREFIX + pair.store.order(email=new_email(f"{tag}{i}"), items=ITEM)["order_number"] for i in range(count)]


def test_sessions_expiring_mid_stream_cost_one_relogin_and_lose_nothing(pair):
    first = place(pair, 4, "early")
    wait_until(lambda: set(first) <= set(sales_orders(pair)), timeout=60, message="the first orders")
    before = writer_metric(pair, "sagebridge_intacct_relogins_total")
    pair.intacct.expire_sessions()
    later = place(pair, 6, "late")
    wait_until(lambda: set(later) <= set(sales_orders(pair)), timeout=60, message="the orders after the expiry")
    refs = sales_orders(pair)
    assert [refs[r] for r in first + later] == [1] * 10
    assert writer_metric(pair, "sagebridge_intacct_relogins_total") - before == 1


def test_a_524_after_intacct_committed_leaves_one_sales_order(pair):
    """A known customer's order, only authorised (no payment yet), once every earlier order and
    payment is written: its one write is the sales order, so the 524 falls on it."""
    email = new_email("Kim.Known")
    first = pair.store.order(email=email, items=ITEM)
    pair.in_intacct(first)
    wait_until(lambda: all(pair.intacct.payments(m["order_number"]) for m in pair.store.placed), timeout=90,
               message="every earlier order's payment")
    pair.intacct.faults(commit_then_524_count=1)
    ref = PREFIX + pair.store.order(email=email, items=ITEM, payment_type="auth")["order_number"]
    wait_until(lambda: [v for v in pair.erp_results(ref) if v["outcome"] in ("created", "already_present")],
               timeout=60, message="the order's result")
    assert sales_orders(pair)[ref] == 1
    outcomes = [v["outcome"] for v in pair.erp_results(ref)]
    assert "already_present" in outcomes and "failed" not in outcomes, outcomes   # the 524 was answered: found


def test_sigkill_of_erp_writer_mid_stream_gives_exactly_one_sales_order_each(pair):
    pair.intacct.faults(latency_ms=150)              # orders in flight when the kill comes
    try:
        refs = place(pair, 24, "kill")
        wait_until(lambda: len(set(refs) & set(sales_orders(pair))) >= 4, timeout=60, message="the flow to start")
        pair.stack.services["erp-writer"].kill()
        pair.stack.start_service("erp-writer")
        wait_until(lambda: set(refs) <= set(sales_orders(pair)), timeout=90, message="every order after the restart")
    finally:
        pair.intacct.faults(latency_ms=0)
    counts = sales_orders(pair)
    assert {r: counts[r] for r in refs} == {r: 1 for r in refs}
    for ref in refs:
        wait_until(lambda: pair.erp_results(ref), timeout=30, message=f"a result for {ref}")


class CountingTransport(httpx.HTTPTransport):
    """Counts the HTTP statuses the gateway received."""

    def __init__(self) -> None:
        super().__init__()
        self.statuses: Counter = Counter()
        self._lock = threading.Lock()

    def handle_request(self, request):
        response = super().handle_request(request)
        with self._lock:
            self.statuses[response.status_code] += 1
        return response


def test_three_concurrent_requests_against_a_limit_of_two_are_retried_and_none_lost(pair):
    erp = pair.stack.erp
    cfg = IntacctConfig(kind="intacct", endpoint_url=erp.gateway_url, sender_id=erp.sender_id,
                        sender_password=erp.sender_password, company_id=erp.company_id, user_id=erp.user_id,
                        user_password=erp.user_password, max_concurrency=3, request_tries=10, retry_backoff_s=0.05)
    transport = CountingTransport()
    gateway = IntacctGateway(cfg, pair_id="it-concurrency", transport=transport)
    gateway.ping()                                          # the session first: three writes at once, not logins
    pair.intacct.faults(concurrency_limit=2, latency_ms=400)
    ids = [f"CONC{i}{new_email('c')[-20:-12].upper()}" for i in range(3)]
    done: dict[str, str] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def create(customer_id: str) -> None:
        try:
            start.wait()
            fn = element("create", None, fields("CUSTOMER", {"CUSTOMERID": customer_id, "NAME": customer_id,
                                                            "DISPLAYCONTACT": {"PRINTAS": customer_id}}))
            result = gateway.execute(fn, controlid=f"it-{customer_id}", write=True, purpose="test")
            done[customer_id] = result.records()[0]["CUSTOMERID"]
        except BaseException as e:          # reported below
            errors.append(e)

    try:
        threads = [threading.Thread(target=create, args=(c,)) for c in ids]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        pair.intacct.faults(latency_ms=0)
        gateway.close()
    assert errors == [] and done == {c: c for c in ids}
    assert transport.statuses[429] >= 1, transport.statuses       # the third was refused GW-0010 ...
    held = Counter(c["CUSTOMERID"] for c in pair.intacct.objects("CUSTOMER"))
    assert [held[c] for c in ids] == [1, 1, 1]                     # ... retried, and each written once
