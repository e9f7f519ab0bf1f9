"""The X-Cart <-> Sage Intacct pair's whole system for the integration tests: a `Stack` of pair
`xcart-intacct` (the X-Cart simulator, the Intacct XML gateway simulator, all five services as
processes on the session broker) and thin drivers for the two simulators' admin surfaces.

Stacks of this pair in one session share the pair's consumer groups and state topics (as two runs
of a deployment would), so each stack gets its own store `instance` and X-Cart order ids and
numbers from its own range (the X-Cart simulator continues after the number its state file holds):
nothing one stack leaves behind can land on, or stand in for, another's order.
"""
from __future__ import annotations

import base64
import hashlib
import json
import uuid
from decimal import Decimal
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import httpx

from sagebridge_common.topics import ERP_RESULTS, STOREFRONT_RESULTS
from sagebridge_devstack.processes import wait_until
from sagebridge_devstack.stack import SERVICE_MODULES, Stack, StackConfig

from .threedcart_pair import TopicReader, dlq_topics

PAIR = "xcart-intacct"
PREFIX = "XI1-"                                  # the shipped pair file's reference_prefix
FAST = {"RETRY_MAX_S": "2", "RETRY_INITIAL_S": "0.1", "INTACCT_TIMEOUT_S": "10"}


def start_stack(bootstrap: str, work: Path, *, first_order: int,
                extra_env: dict[str, dict[str, str]] | None = None, services: tuple[str, ...] | None = None) -> Stack:
    """A started stack whose X-Cart orders are numbered from `first_order` + 1."""
    env = {s: dict(FAST) for s in SERVICE_MODULES}
    instance = f"it-{uuid.uuid4().hex[:6]}"
    for service in SERVICE_MODULES:
        env[service]["STORE_INSTANCE"] = instance
    for service, more in (extra_env or {}).items():
        env[service] |= more
    cfg = StackConfig(work_dir=work, bootstrap=bootstrap, pair=PAIR, partitions=4, poll_interval_s=0.5,
                      cdc_poll_interval_s=0.5, webhook_push=True, keep_state=True, service_env=env,
                      **({"services": services} if services else {}))
    stack = Stack(cfg)
    work.mkdir(parents=True, exist_ok=True)
    stack.xcart_state.write_text(json.dumps({"last_order_id": first_order, "last_order_number": first_order}) + "\n")
    try:
        return stack.start()
    except BaseException:
        stack.stop()
        raise


def new_email(name: str) -> str:
    return f"{name}.{uuid.uuid4().hex[:8]}@example.com"


def customer_number(email: str) -> str:
    """The pair's rule (customers.number_rule hash, prefix W, 12 characters), written out
    independently of the code under test."""
    key = email.strip().lower()
    return ("W" + base64.b32encode(hashlib.sha256(key.encode()).digest()).decode().rstrip("="))[:12]


def flat(record: dict, prefix: str = "") -> dict[str, Any]:
    """A record with nested groups (DISPLAYCONTACT{MAILADDRESS{..}}) as dotted keys."""
    out: dict[str, Any] = {}
    for k, v in record.items():
        if isinstance(v, dict):
            out |= flat(v, f"{prefix}{k}.")
        else:
            out[f"{prefix}{k}"] = v
    return out


class Intacct:
    """The Intacct simulator's admin surface (`/_sim/*`: never faulted, never counted)."""

    def __init__(self, stack: Stack) -> None:
        self.url = stack.intacct_url
        self.http = httpx.Client(timeout=30)

    def _post(self, path: str, body: dict | None = None) -> Any:
        r = self.http.post(f"{self.url}/_sim/{path}", json=body or {})
        assert r.status_code < 300, f"{path}: {r.status_code} {r.text}"
        return r.json() if r.content else None

    def state(self) -> dict:
        r = self.http.get(f"{self.url}/_sim/state")
        r.raise_for_status()
        return r.json()

    def objects(self, obj: str) -> list[dict]:
        return [flat(r) for r in self.state()["objects"].get(obj, [])]

    def documents(self) -> dict[str, dict]:
        return self.state()["documents"]

    def transactions(self) -> dict:
        r = self.http.get(f"{self.url}/_sim/transactions")
        r.raise_for_status()
        return r.json()

    def faults(self, **plan) -> None:
        self._post("faults", plan)

    def expire_sessions(self) -> None:
        self._post("expire_sessions")

    def stock(self, item: str, warehouse: str, on_hand: str, on_hold: str = "0") -> Any:
        return self._post("stock", {"ITEMID": item, "WAREHOUSEID": warehouse, "QTYONHAND": on_hand,
                                    "QTYONHOLD": on_hold})

    def item(self, item: str, **fields) -> Any:
        return self._post("items", {"ITEMID": item, **fields})

    def ship(self, **body) -> Any:
        return self._post("ship", body)

    def invoice(self, referenceno: str) -> Any:
        return self._post("invoice", {"referenceno": referenceno})

    def seed_customer(self, **fields) -> Any:
        return self._post("customers", fields)

    # -- views ------------------------------------------------------------------------------
    def orders(self, number: str, definition: str = "Sales Order") -> list[dict]:
        """The SODOCUMENTs of the definition whose REFERENCENO is the store order's reference."""
        return [r for r in self.objects("SODOCUMENT")
                if r.get("REFERENCENO") == PREFIX + number and r.get("DOCPARID") == definition]

    def document(self, docid: str) -> dict:
        return self.documents()[docid]

    def customers_with(self, email: str) -> list[dict]:
        key = email.strip().lower()
        return [c for c in self.objects("CUSTOMER")
                if (c.get("DISPLAYCONTACT.EMAIL1") or "").strip().lower() == key]

    def customer(self, customer_id: str) -> dict | None:
        return next((c for c in self.objects("CUSTOMER") if c["CUSTOMERID"] == customer_id), None)

    def payments(self, number: str) -> list[dict]:
        return [p for p in self.objects("ARPYMT") if str(p.get("DOCNUMBER", "")).startswith(PREFIX + number + "-P")]


class XCart:
    """The X-Cart simulator: orders placed through its admin surface, read back through the REST API."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.url = stack.xcart_url
        self.http = httpx.Client(timeout=30)
        self.headers = {"X-Auth-Token": stack.xcart_read_token, "Accept": "application/json"}
        self._ids: dict[str, int] = {}
        self.placed: list[dict] = []

    def order(self, **spec) -> dict:
        body = {"guest": False, "email": new_email("ann"), "first_name": "Ann", "last_name": "Lee",
                "payment_code": "P", "shipping_method": "UPS Ground",
                "items": [{"sku": "WIDGET-1", "name": "Widget", "price": "12.50", "amount": 2}]} | spec
        r = self.http.post(f"{self.url}/_sim/orders", json=body)
        r.raise_for_status()
        self.placed.append(r.json())
        return self.placed[-1]

    def api_order(self, order_id: int) -> dict:
        r = self.http.get(f"{self.url}/api/orders/{order_id}", headers=self.headers)
        r.raise_for_status()
        return r.json()

    def product(self, sku: str) -> dict:
        if sku not in self._ids:
            r = self.http.get(f"{self.url}/api/products", params={"itemsPerPage": 200}, headers=self.headers)
            r.raise_for_status()
            self._ids |= {p["sku"]: p["id"] for p in r.json()}
        r = self.http.get(f"{self.url}/api/products/{self._ids[sku]}", headers=self.headers)
        r.raise_for_status()
        return r.json()

    def product_becomes(self, sku: str, message: str, timeout: float = 45, **fields) -> dict:
        def matches():
            record = self.product(sku)
            return record if all(record[k] == v for k, v in fields.items()) else None
        return wait_until(matches, timeout=timeout, message=f"{sku}: {message}")


class Pair:
    """One running xcart-intacct stack, its drivers and a reader of results and DLQs."""

    def __init__(self, stack: Stack, bootstrap: str, serde) -> None:
        self.stack, self.id = stack, stack.pair_id
        self.intacct = Intacct(stack)
        self.store = XCart(stack)
        self.topics = TopicReader(bootstrap, serde, [ERP_RESULTS, STOREFRONT_RESULTS, *dlq_topics()])

    def in_intacct(self, made: dict, timeout: float = 60) -> dict:
        [order] = wait_until(lambda: self.intacct.orders(made["order_number"]), timeout=timeout,
                             message=f"Intacct sales order {PREFIX}{made['order_number']}")
        return order

    def erp_results(self, reference: str) -> list[dict]:
        return [v for v in self.topics.of_pair(self.id, ERP_RESULTS) if v.get("reference") == reference]

    def dead_letters(self) -> list[dict]:
        return [v for t, _k, v in self.topics.read() if t.endswith(".dlq")
                and (v.get("metadata") or {}).get("pair_id") == self.id]

    def close(self) -> None:
        self.topics.close()


def D(text: str | int | float) -> Decimal:
    return Decimal(str(text))


@contextmanager
def running_pair(bootstrap: str, serde, work: Path, *, first_order: int) -> Iterator[Pair]:
    """A test module's whole xcart-intacct stack (store orders numbered from `first_order`, so
    modules never share references), stopped whatever the tests did."""
    stack = start_stack(bootstrap, work, first_order=first_order)
    pair = Pair(stack, bootstrap, serde)
    try:
        yield pair
    finally:
        pair.close()
        stack.stop()
