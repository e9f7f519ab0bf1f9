"""The 3dcart pairs' whole system for the integration tests: a `Stack` per pair (Shift4Shop REST or
3dcart SOAP simulator, the Sage 300 simulator with its SQLite database read through the real
ODBC driver, all five services as processes on the session broker) and uniform drivers for the
two store simulators, so one test body runs against both.

Stacks of the same pair in one session share the per-pair consumer groups and state topics (as
two runs of a deployment would), so each stack gets its own `instance` (the ingest cursor's key),
its own invoice numbers and (Shift4Shop) OrderIDs, the keys of the hub's keyed state: nothing one
stack leaves behind can land on, or stand in for, another's order.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from confluent_kafka import Consumer, TopicPartition

from sagebridge_devstack.stack import SERVICE_MODULES, Stack, StackConfig
from sagebridge_common.topics import catalogue

REST, SOAP = "3dcart-sage300", "3dcartsoap-sage300"
PREFIXES = {REST: "3D1-", SOAP: "3DS-"}         # the shipped pair files' reference_prefix
ZONE_NAME = "America/Los_Angeles"               # 8 hours behind UTC in winter
ZONE = ZoneInfo(ZONE_NAME)
FAST = {"RETRY_MAX_S": "2", "RETRY_INITIAL_S": "0.1"}


def start_stack(pair: str, bootstrap: str, work: Path, *, first_invoice: int, webhook_push: bool = False,
                webhook_format: str = "JSON", extra_env: dict[str, dict[str, str]] | None = None) -> Stack:
    env = {s: dict(FAST) for s in SERVICE_MODULES}
    instance = f"it-{uuid.uuid4().hex[:6]}"
    for service in ("ingest", "storefront-writer", "transform", "erp-writer", "erp-cdc"):
        env[service]["STORE_INSTANCE"] = instance
    env["ingest"]["WEBHOOK_MAX_BODY_BYTES"] = str(64 * 1024)
    for service, more in (extra_env or {}).items():
        env[service] |= more
    cfg = StackConfig(work_dir=work, bootstrap=bootstrap, pair=pair, partitions=4, poll_interval_s=0.5,
                      cdc_poll_interval_s=0.5, webhook_push=webhook_push, webhook_format=webhook_format,
                      store_time_zone=ZONE_NAME,
                      service_env=env)
    stack = Stack(cfg)
    stack.first_invoice_number = first_invoice
    stack.first_order_id = first_invoice * 10 + 1      # order ids are the hub's keys: never two stacks' alike
    try:
        return stack.start()
    except BaseException:
        stack.stop()
        raise


@dataclass
class Placed:
    order_id: str            # the store's OrderID (raw events' entity_id)
    number: str              # the full invoice number, "AB-1000"
    date_local: str          # the order's store-local date, YYYY-MM-DD
    total: Decimal


class StoreDriver:
    """What the tests do to and read from a store simulator, the same for both kinds."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.url = stack.store.url
        self.http = httpx.Client(timeout=30)
        self.placed: list[Placed] = []          # every order the tests placed in this store

    def faults(self, **plan) -> None:
        self.http.post(f"{self.url}/_sim/faults", json=plan).raise_for_status()


class RestStore(StoreDriver):
    def __init__(self, stack: Stack) -> None:
        super().__init__(stack)
        self.api = httpx.Client(base_url=stack.store.api_url, headers=stack.store.headers, timeout=30)

    def place(self, *, items: list[dict], email: str, first: str = "Ann", last: str = "Lee",
              registered: bool = True, shipping: str = "0.00", tax: str = "0.00", discount: str = "0.00",
              payment_method: str = "Credit Card", status_id: int = 1, local: str | None = None) -> Placed:
        """`items`: {sku, quantity, unit_price?, option_price?}."""
        body: dict[str, Any] = {
            "items": items, "email": email, "shipping": shipping, "tax": tax, "discount": discount,
            "payment_method": payment_method, "status_id": status_id, "paid": True,
            "billing": {"first_name": first, "last_name": last, "address": "9 Elm St", "city": "Albany",
                        "state": "NY", "zip": "12207", "country": "US", "phone": "518-555-0101"},
            "register_customer": registered}
        if local:
            body["order_date_local"] = local
        r = self.http.post(f"{self.url}/_sim/orders", json=body)
        assert r.status_code == 201, r.text
        o = r.json()
        self.placed.append(Placed(str(o["OrderID"]), f"{o['InvoiceNumberPrefix']}{o['InvoiceNumber']}",
                                  o["OrderDate"][:10], Decimal(str(o["OrderAmount"]))))
        return self.placed[-1]

    def order(self, placed: Placed) -> dict:
        r = self.api.get(f"/Orders/{placed.order_id}")
        r.raise_for_status()
        return json.loads(r.content, parse_float=Decimal)[0]

    def product(self, sku: str) -> dict:
        r = self.api.get("/Products", params={"sku": sku})
        r.raise_for_status()
        return json.loads(r.content, parse_float=Decimal)[0]

    def stock(self, sku: str) -> Decimal | None:
        """None while the API refuses (a test's fault plan covers the whole API, its reads too)."""
        try:
            return Decimal(str(self.product(sku)["SKUInfo"]["Stock"]))
        except httpx.HTTPStatusError as e:
            if e.response.status_code in (429, 503):
                return None
            raise

    def price(self, sku: str) -> Decimal:
        return Decimal(str(self.product(sku)["SKUInfo"]["Price"]))

    def status(self, placed: Placed) -> int:
        return int(self.order(placed)["OrderStatusID"])

    def tracking(self, placed: Placed) -> list[str]:
        return [s["ShipmentTrackingCode"].strip() for s in self.order(placed)["ShipmentList"]
                if s.get("ShipmentTrackingCode", "").strip()]

    def writes(self, since: int = 0) -> list[dict]:
        r = self.http.get(f"{self.url}/_sim/writes", params={"since": since})
        r.raise_for_status()
        return r.json()["writes"]

    def last_write(self) -> int:
        r = self.http.get(f"{self.url}/_sim/writes/summary")
        r.raise_for_status()
        return r.json()["last_seq"]

    def refused_statuses(self, since: int = 0) -> set[int]:
        return {w["status"] for w in self.writes(since) if not w["ok"]}

    def stock_writes(self, skus: list[str], since: int = 0) -> dict[str, list[Decimal]]:
        """Every stock the store accepted for each SKU after `since`, in the order written
        (`PUT /Products` batch items and `PUT /Products/{id}`)."""
        ids = {int(self.product(sku)["SKUInfo"]["CatalogID"]): sku for sku in skus}
        out: dict[str, list[Decimal]] = {sku: [] for sku in skus}
        for w in self.writes(since):
            if not w["ok"] or w["kind"] not in ("product", "products_batch"):
                continue
            for item in (w["body"] if isinstance(w["body"], list) else [w["body"]]):
                info = (item or {}).get("SKUInfo") or {}
                cid = info.get("CatalogID")
                if cid is None and w["kind"] == "product":          # PUT /Products/{catalogid}
                    cid = int(w["path"].rsplit("/", 1)[-1])
                if cid in ids and "Stock" in info:
                    out[ids[cid]].append(Decimal(str(info["Stock"])))
        return out


class SoapStore(StoreDriver):
    def place(self, *, items: list[dict], email: str, first: str = "Ann", last: str = "Lee",
              registered: bool = True, shipping: str = "0.00", tax: str = "0.00", discount: str = "0.00",
              payment_method: str = "Online Credit Card", status_id: int = 1,
              created_utc: datetime | None = None, **_ignored) -> Placed:
        if registered:
            self.http.post(f"{self.url}/_sim/customers", json={"email": email, "first_name": first,
                                                               "last_name": last}).raise_for_status()
        body: dict[str, Any] = {
            "email": email, "first_name": first, "last_name": last, "shipping": shipping, "tax": tax,
            "discount": discount, "payment_method": payment_method, "status_id": status_id,
            "items": [{"sku": i["sku"], "name": i.get("name", i["sku"]), "quantity": str(i["quantity"]),
                       "unit_price": i["unit_price"], "option_price": i.get("option_price", "0.00")} for i in items]}
        if created_utc:
            body["created_at"] = created_utc.isoformat()
        r = self.http.post(f"{self.url}/_sim/orders", json=body)
        assert r.status_code < 300, r.text
        o = r.json()
        created = datetime.fromisoformat(o["created_at"])
        self.placed.append(Placed(str(o["order_id"]), o["invoice"], created.astimezone(ZONE).date().isoformat(),
                                  Decimal(o["total"])))
        return self.placed[-1]

    def state(self) -> dict:
        r = self.http.get(f"{self.url}/_sim/state")
        r.raise_for_status()
        return r.json()

    def _order(self, placed: Placed) -> dict:
        return next(o for o in self.state()["orders"] if o["invoice"] == placed.number)

    def stock(self, sku: str) -> Decimal:
        return Decimal(str(next(p for p in self.state()["products"] if p["sku"] == sku)["stock"]))

    def price(self, sku: str) -> Decimal:
        return Decimal(str(next(p for p in self.state()["products"] if p["sku"] == sku)["price"]))

    def status(self, placed: Placed) -> int:
        return int(self._order(placed)["status_id"])

    def tracking(self, placed: Placed) -> list[str]:
        return [s["tracking"] for s in self._order(placed)["shipments"] if s.get("tracking")]

    def writes(self, since: int = 0) -> list[dict]:
        r = self.http.get(f"{self.url}/_sim/writes")
        r.raise_for_status()
        return [w for w in r.json() if w["seq"] > since]

    def refused_statuses(self, since: int = 0) -> set[int]:
        return {w["status"] for w in self.writes(since) if not w["ok"]}

    def stock_writes(self, skus: list[str], since: int = 0) -> dict[str, list[Decimal]]:
        out: dict[str, list[Decimal]] = {sku: [] for sku in skus}
        for w in self.writes(since):
            if w["ok"] and w["op"] == "updateProductInventory" and w["key"] in out:
                out[w["key"]].append(Decimal(w["params"]["quantity"]))
        return out

    def last_write(self) -> int:
        return max((w["seq"] for w in self.writes()), default=0)


def store_driver(stack: Stack) -> RestStore | SoapStore:
    return RestStore(stack) if stack.store.kind == "shift4shop" else SoapStore(stack)


class Sage:
    """The Sage 300 simulator's admin views and its ERP-side driver (`/_sim/erp/*`)."""

    def __init__(self, stack: Stack, prefix: str) -> None:
        self.url, self.prefix = stack.sage_url, prefix
        self.http = httpx.Client(timeout=30)

    def _get(self, what: str, **params) -> Any:
        r = self.http.get(f"{self.url}/_sim/{what}", params=params)
        r.raise_for_status()
        return json.loads(r.content, parse_float=Decimal)

    def orders(self, *numbers: str) -> list[dict]:
        refs = {self.prefix + n for n in numbers}
        return [o for o in self._get("orders", reference=sorted(refs)) if o["OrderReference"] in refs]

    def customers_with(self, email: str) -> list[dict]:
        key = email.strip().lower()
        return [c for c in self._get("customers") if (c.get("Email") or "").strip().lower() == key]

    def receipts(self, number: str) -> list[tuple[dict, dict]]:
        ref = self.prefix + number
        return [(b, e) for b in self._get("receipts", reference=ref) if b["BatchRecordType"] == "CA"
                for e in b["ReceiptsAdjustments"] if e["EntryReference"] == ref]

    def change(self, route: str, **body) -> dict:
        r = self.http.post(f"{self.url}/_sim/erp/{route}", json=body)
        assert r.status_code < 300, r.text
        return r.json()

    def rows(self, table: str, **params) -> list[dict]:
        return self._get(f"erp/rows/{table}", **params)


class TopicReader:
    """Records of topics from the beginning, then only what is new on each call (no group commits)."""

    def __init__(self, bootstrap: str, serde, topics: list[str]) -> None:
        self.serde = serde
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"it-3dcart-{uuid.uuid4().hex}",
                                  "enable.auto.commit": False, "fetch.wait.max.ms": 10})
        md = self.consumer.list_topics(timeout=10).topics
        self.consumer.assign([TopicPartition(t, p, 0) for t in topics if t in md for p in md[t].partitions])
        self.records: list[tuple[str, bytes | None, dict]] = []
        self.positions: list[tuple[int, int]] = []         # (partition, offset) of each record

    def read(self) -> list[tuple[str, bytes | None, dict]]:
        while (msg := self.consumer.poll(0.2)) is not None:
            if msg.error():
                continue
            try:
                value = self.serde.deserialize(msg.value())[1]
            except Exception:           # a dead letter of undecodable bytes still counts as one
                value = {"undecodable": msg.value()}
            self.records.append((msg.topic(), msg.key(), value))
            self.positions.append((msg.partition(), msg.offset()))
        return self.records

    def where(self, predicate) -> list[tuple[str, int, int, dict]]:
        """(topic, partition, offset, value) of the records read so far that match."""
        return [(t, p, o, v) for (t, _k, v), (p, o) in zip(self.read(), self.positions) if predicate(t, v)]

    def of_pair(self, pair: str, topic: str | None = None) -> list[dict]:
        return [v for t, _k, v in self.read() if (topic is None or t == topic)
                and (v.get("metadata") or {}).get("pair_id") == pair]

    def close(self) -> None:
        self.consumer.close()


def dlq_topics() -> list[str]:
    return sorted(s.name for s in catalogue() if s.name.endswith(".dlq"))
