"""Transform of erp.raw.v1 on the real broker: Sage 300 rows as erp_cdc writes them in, canonical
erp.inventory.v1 / erp.products.v1 / erp.shipments.v1 / erp.order_status.v1 / erp.customers.v1
out; across a restart the rows kept per entity are restored from the changelog (a location sum,
an order's header, an item's formatted number), and an older row position is still dropped."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from sagebridge_common import topics
from sagebridge_common.events import new_metadata
from sagebridge_common.kafka_clients import make_admin
from sagebridge_common.settings import Settings
from sagebridge_common.topics import ERP_CUSTOMERS, ERP_RAW, INVENTORY, ORDER_STATUS, PRODUCTS, SHIPMENTS
from sagebridge_transform.config import TransformSettings
from sagebridge_transform.main import build

from .conftest import RunsInThread, unique, wait_until

SHIPPED_PAIR = Path(__file__).resolve().parents[2] / "pairs" / "xcart-sage300.yaml"
DAY = 20261201


@pytest.fixture
def pair(bootstrap, tmp_path):
    """A pair of its own (Sage locations 1 and 2 summed into the store's stock) and its file."""
    topics.apply(make_admin(Settings(kafka_bootstrap_servers=bootstrap)), topics.catalogue(4))
    pair_id = unique("erp")
    text = SHIPPED_PAIR.read_text().replace("pair: xcart-sage300", f"pair: {pair_id}")
    text = text.replace('locations: {"1": default}', 'locations: {"1": default, "2": default}')
    assert '"2": default' in text
    (tmp_path / "pair.yaml").write_text(text)
    return pair_id, tmp_path


class Transform(RunsInThread):
    def __init__(self, bootstrap: str, pairs_dir: Path, pair_id: str, group: str) -> None:
        self.app = build(TransformSettings(kafka_bootstrap_servers=bootstrap, pairs_path=str(pairs_dir),
                                           pair_id=pair_id, kafka_group_id=group, ops_port=0))


class Canonical:
    """The pair's canonical events on one topic, read from the beginning as they arrive."""

    def __init__(self, bootstrap: str, serde, pair_id: str, topic: str) -> None:
        self.serde, self.pair_id = serde, pair_id
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("erp-reader"),
                                  "enable.auto.commit": False, "fetch.wait.max.ms": 10})
        parts = self.consumer.list_topics(topic, timeout=10).topics[topic].partitions
        self.consumer.assign([TopicPartition(topic, p, 0) for p in parts])
        self.seen: list[tuple[bytes, str, dict]] = []

    def poll(self) -> list[tuple[bytes, str, dict]]:
        for msg in self.consumer.consume(500, timeout=0.2):
            if not msg.error():
                name, value = self.serde.deserialize(msg.value())
                if value["metadata"]["pair_id"] == self.pair_id:
                    self.seen.append((msg.key(), name, value))
        return self.seen

    def wait(self, predicate, what: str) -> list[dict]:
        return wait_until(lambda: (got := [v for _k, _n, v in self.poll()]) and predicate(got) and got, 60,
                          message=what)

    def close(self) -> None:
        self.consumer.close()


@pytest.fixture
def readers(bootstrap, serde, pair):
    opened = {t: Canonical(bootstrap, serde, pair[0], t) for t in (INVENTORY, PRODUCTS, SHIPMENTS, ORDER_STATUS,
                                                                     ERP_CUSTOMERS)}
    yield opened
    for reader in opened.values():
        reader.close()


class Cdc:
    """Writes erp.raw.v1 records as erp_cdc does (contract issue 7 §1)."""

    def __init__(self, bootstrap: str, serde, pair_id: str) -> None:
        self.serde, self.pair_id = serde, pair_id
        self.producer = Producer({"bootstrap.servers": bootstrap})

    def row(self, table: str, entity: str, key: str, after: dict | None, second: int, user: str = "ADMIN") -> None:
        time = (10 * 3600 + second) // 3600 * 1000000 + (10 * 3600 + second) // 60 % 60 * 10000 + second % 60 * 100
        if after is not None:
            after = {**after, "AUDTDATE": DAY, "AUDTTIME": time, "AUDTUSER": user}
        at = datetime(2026, 12, 1, 10, tzinfo=timezone.utc).timestamp() + second
        value = {"metadata": new_metadata("erp.row.delete" if after is None else "erp.row.upsert",
                                          source_system="sage300", source_instance="SAMINC", source_entity_id=entity,
                                          pair_id=self.pair_id, occurred_at=datetime.fromtimestamp(at, timezone.utc)),
                 "erp": "sage300", "table": table, "op": "delete" if after is None else "upsert", "key": key,
                 "before": None, "after": None if after is None else json.dumps(after),
                 "position": f"{DAY * 100000000 + time:016d}|{key}"}
        self.producer.produce(ERP_RAW, key=entity.encode(), value=self.serde.serialize("RawErpChange", value))
        assert self.producer.flush(10) == 0


def iciloc(location: str, on_hand: str) -> dict:
    return {"ITEMNO": "WIDGET1", "LOCATION": location, "QTYONHAND": on_hand, "QTYRENOCST": "0.0000",
            "QTYADNOCST": "0.0000", "QTYSHNOCST": "0.0000", "QTYCOMMIT": "1.0000", "QTYSALORDR": "0.0000",
            "ACTIVE": 1}


ICITEM = {"ITEMNO": "WIDGET1", "FMTITEMNO": "WIDGET-1", "DESC": "Widget, standard", "INACTIVE": 0, "ALLOWONWEB": 1,
          "CATEGORY": "WIDG", "UNITWGT": "0.5000", "STOCKUNIT": "EA", "DEFPRICLST": "WEB"}
PRICE = {"CURRENCY": "USD", "ITEMNO": "WIDGET1", "PRICELIST": "WEB", "DPRICETYPE": 1, "QTYUNIT": "EA",
         "WEIGHTUNIT": "", "UNITPRICE": "12.500000", "SALESTART": 0, "SALEEND": 0}
OEORDH = {"ORDUNIQ": "12", "ORDNUMBER": "ORD000000000012", "CUSTOMER": "WEBCUST", "REFERENCE": "XC1-1051",
          "PONUMBER": "1051", "TYPE": 1, "ONHOLD": 0, "COMPLETE": 1, "LASTINVNUM": "", "ORDDATE": DAY,
          "SHIPVIA": "UPSGRD", "VIADESC": "UPS Ground"}
OEORDH1 = {"ORDUNIQ": "12", "SHIPTRACK": "", "NUMSHPMENT": 1, "LASTSHINUM": "SH7", "HOLDREASON": ""}
OESHIH = {"SHIUNIQ": "7", "SHINUMBER": "SH7", "ORDUNIQ": "12", "ORDNUMBER": "ORD000000000012", "CUSTOMER": "WEBCUST",
          "PONUMBER": "1051", "REFERENCE": "XC1-1051", "SHIDATE": DAY, "SHIPVIA": "UPSGRD", "VIADESC": "UPS Ground",
          "SHIPTRACK": "1Z999AA10123456784", "COMPLETE": 3}
OESHID = {"SHIUNIQ": "7", "LINENUM": 32, "ITEM": "WIDGET-1", "LOCATION": "1", "QTYSHIPPED": "2.0000", "SHIUNIT": "EA",
          "ORDNUMBER": "ORD000000000012", "SHIPTRACK": "1Z999AA10123456784"}
ARCUS = {"IDCUST": "1200", "NAMECUST": "Ronald Black", "TEXTSTRE1": "2 Elm Street", "NAMECITY": "Portland",
         "CODESTTE": "OR", "CODEPSTL": "97201", "CODECTRY": "US", "NAMECTAC": "Ronald Black", "TEXTPHON1": "5035550100",
         "EMAIL1": "", "EMAIL2": "ron@example.com", "SWACTV": 1, "SWHOLD": 0}


def distinct(values: list) -> list:
    return [v for i, v in enumerate(values) if i == 0 or values[i - 1] != v]


def test_sage_rows_become_canonical_events_and_the_state_survives_a_restart(bootstrap, serde, pair, readers):
    pair_id, pairs_dir = pair
    cdc, group = Cdc(bootstrap, serde, pair_id), unique("transform")
    stock, products = readers[INVENTORY], readers[PRODUCTS]
    statuses, shipments, customers = readers[ORDER_STATUS], readers[SHIPMENTS], readers[ERP_CUSTOMERS]
    with Transform(bootstrap, pairs_dir, pair_id, group):
        cdc.row("ICILOC", "WIDGET1", "WIDGET1|1", iciloc("1", "10.0000"), 1)     # before ICITEM: SKU unknown yet
        cdc.row("ICITEM", "WIDGET1", "WIDGET1", ICITEM, 2)
        cdc.row("OEORDH", "12", "12", OEORDH, 3)
        cdc.row("ARCUS", "1200", "1200", ARCUS, 4, user="WEBAPI")             # the hub's own write: no echo
        cdc.row("ARCUS", "1200", "1200", {**ARCUS, "TEXTPHON1": "5035550199"}, 5)
        stock.wait(lambda got: got[-1]["quantity"] == Decimal("9"), "the first stock level")
        statuses.wait(lambda got: got[-1]["status"] == "open", "the open order")
        [customer] = customers.wait(lambda got: True, "the customer")
        assert customer["phone"] == "5035550199" and customer["email_key"] == "ron@example.com"
    with Transform(bootstrap, pairs_dir, pair_id, group):                     # keyed state restored
        cdc.row("ICILOC", "WIDGET1", "WIDGET1|1", iciloc("1", "3.0000"), 1)      # the CDC overlap re-read: older
        cdc.row("ICILOC", "WIDGET1", "WIDGET1|2", iciloc("2", "4.0000"), 6)      # summed with location 1's 10
        cdc.row("ICPRICP", "WIDGET1", "USD|WIDGET1|WEB|1|EA|", PRICE, 7)         # priced item from ICITEM kept
        cdc.row("OEORDH1", "12", "12", OEORDH1, 8)                               # header kept: partially shipped
        cdc.row("OESHID", "7", "7|32", OESHID, 9)
        cdc.row("OESHIH", "7", "7", OESHIH, 10)
        cdc.row("OEORDH", "12", "12", {**OEORDH, "COMPLETE": 3}, 11)
        seen = stock.wait(lambda got: got[-1]["quantity"] == Decimal("12"), "the summed stock level")
        product = products.wait(lambda got: got[-1]["price"] is not None, "the priced product")[-1]
        shipment = shipments.wait(lambda got: got[-1]["tracking_number"] and got[-1]["lines"], "the shipment")[-1]
        got = statuses.wait(lambda got: got[-1]["status"] == "complete", "the completed order")
    # at-least-once: a record may reach a topic twice, so levels are compared as they changed
    assert distinct([(v["quantity"], v["erp_locations"]) for v in seen]) == [
        (Decimal("9"), ["1"]), (Decimal("12"), ["1", "2"])]
    assert {k for k, _n, _v in stock.seen} == {b"WIDGET-1|default"}
    assert seen[-1]["source_version"].partition("#")[0] == f"{DAY * 100000000 + 10000600:016d}|WIDGET1|2"
    assert (product["sku"], product["price"], product["name"], product["active"]) == (
        "WIDGET-1", Decimal("12.5"), "Widget, standard", True)
    assert products.seen[-1][1] == "sagebridge.v2.Product" and products.seen[-1][0] == b"WIDGET-1"
    assert (shipment["order_id"], shipment["shipment_id"], shipment["carrier"]) == ("1051", "SH7", "UPS Ground")
    assert shipment["lines"] == [{"sku": "WIDGET-1", "quantity": Decimal("2")}]
    assert distinct([(s["status"], s["shipping_status"]) for s in got]) == [
        ("open", None), ("partially_shipped", "P"), ("complete", "S")]
    assert {k for k, _n, _v in statuses.seen} == {b"1051"} and got[-1]["order_number"] == "ORD000000000012"
