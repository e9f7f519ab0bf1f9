"""Customer profiles through ingest as its main builds it (webhook server, fetcher, poller) on the real
broker against the X-Cart simulator over HTTP: a signed `customer.created` push becomes a raw
`profile` event on storefront.raw.v1 with the profile and its addresses; the poller finds new
profiles by `added`; an event the push module does not send is refused with 400 and produces
nothing."""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
import pytest
from confluent_kafka import Consumer, TopicPartition

from sagebridge_common import signing, topics
from sagebridge_common.kafka_clients import make_admin
from sagebridge_common.settings import Settings
from sagebridge_common.topics import INGEST_NOTIFICATIONS, STOREFRONT_RAW
from sagebridge_devstack.processes import free_port
from sagebridge_ingest.config import IngestSettings
from sagebridge_ingest.main import build
from sagebridge_sim.serve import BackgroundServer
from sagebridge_sim.xcart import XCartStore, create_app

from .conftest import RunsInThread, unique, wait_until

SHIPPED_PAIR = Path(__file__).resolve().parents[2] / "pairs" / "xcart-sage300.yaml"
SECRET = "profile-secret-" + "z" * 20


class Tail:
    """Records of one pair on `topic`, read from the beginning as they arrive."""

    def __init__(self, bootstrap: str, serde, topic: str, pair_id: str) -> None:
        self.serde, self.pair_id = serde, pair_id
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("tail"),
                                  "enable.auto.commit": False, "fetch.wait.max.ms": 10})
        parts = self.consumer.list_topics(topic, timeout=10).topics[topic].partitions
        self.partitions = [TopicPartition(topic, p, 0) for p in parts]
        self.consumer.assign(self.partitions)
        self.records: list[tuple[bytes, dict]] = []

    def to_end(self) -> list[tuple[bytes, dict]]:
        """Everything on the topic now: reads until each partition's position reaches the high
        watermark taken first (a positive signal that nothing more is there, not a sleep)."""
        ends = {tp.partition: self.consumer.get_watermark_offsets(tp, timeout=10)[1] for tp in self.partitions}

        def caught_up() -> bool:
            self.poll()
            at = {tp.partition: tp.offset for tp in self.consumer.position(self.partitions)}
            return all(ends[p] == 0 or at[p] >= ends[p] for p in ends)
        wait_until(caught_up, timeout=30, message="the end of the topic")
        return self.records

    def poll(self) -> list[tuple[bytes, dict]]:
        for msg in self.consumer.consume(500, timeout=0.2):
            if not msg.error():
                value = self.serde.deserialize(msg.value())[1]
                if value["metadata"]["pair_id"] == self.pair_id:
                    self.records.append((msg.key(), value))
        return self.records

    def close(self) -> None:
        self.consumer.close()


class Ingest(RunsInThread):
    def __init__(self, bootstrap: str, pairs_dir: Path, pair_id: str, port: int, *, poll: bool) -> None:
        self.app = build(IngestSettings(kafka_bootstrap_servers=bootstrap, pairs_path=str(pairs_dir), pair_id=pair_id,
                                        ops_port=0, http_host="127.0.0.1", http_port=port, poll_enabled=poll,
                                        kafka_group_id=unique("ingest")))


@pytest.fixture
def rig(bootstrap, serde, tmp_path):
    topics.apply(make_admin(Settings(kafka_bootstrap_servers=bootstrap)), topics.catalogue(4))
    store = XCartStore(first_order_id=7_000_000)
    server = BackgroundServer(create_app(store, token_read="r", token_all="w")).start()
    pair_id = unique("prof")
    text = SHIPPED_PAIR.read_text().replace("pair: xcart-sage300", f"pair: {pair_id}")
    for key, value in (("base_url", server.url), ("token", "r"), ("webhook_secret", SECRET), ("poll_interval_s", "0.2")):
        text, n = re.subn(rf"^(  {key}: ).*$", rf"\g<1>{value}", text, count=1, flags=re.M)
        assert n == 1, key
    (tmp_path / "pair.yaml").write_text(text)
    raw, notes = Tail(bootstrap, serde, STOREFRONT_RAW, pair_id), Tail(bootstrap, serde, INGEST_NOTIFICATIONS, pair_id)
    yield {"store": store, "pairs": tmp_path, "pair": pair_id, "raw": raw, "notes": notes}
    raw.close()
    notes.close()
    server.stop()


def push(port: int, pair_id: str, doc: dict) -> httpx.Response:
    body = json.dumps(doc).encode()
    ts = int(time.time())
    return httpx.post(f"http://127.0.0.1:{port}/webhooks/xcart/{pair_id}", content=body, timeout=30,
                      headers={"Content-Type": "application/json", signing.TIMESTAMP_HEADER: str(ts),
                               signing.SIGNATURE_HEADER: signing.sign(SECRET, ts, body)})


def profiles_of(tail: Tail, trigger: str) -> list[tuple[bytes, dict]]:
    return [(k, v) for k, v in tail.poll() if v["entity_type"] == "profile" and v["trigger"] == trigger]


def test_customer_created_push_becomes_a_raw_profile_event_and_a_bad_event_produces_nothing(rig, bootstrap):
    store, port = rig["store"], free_port()
    made = store.profiles.create({"login": "Ann.Lee@Example.com", "first_name": "Ann", "last_name": "Lee",
                                  "address": {"street": "5 Elm St", "city": "Austin", "zipcode": "73301",
                                              "state_name": "Texas", "phone": "+1 512 555 0101"}})
    pid = made["profile"]["id"]
    with Ingest(bootstrap, rig["pairs"], rig["pair"], port, poll=False):
        wait_until(lambda: _up(port), timeout=30, message="the webhook server")
        bad = push(port, rig["pair"], {"event": "customer.deleted", "profile_id": pid})
        assert bad.status_code == 400 and "unknown event" in bad.json()["error"]
        wrong_key = push(port, rig["pair"], {"event": "customer.created", "order_id": pid})
        assert wrong_key.status_code == 400 and "profile_id" in wrong_key.json()["error"]
        good = push(port, rig["pair"], {"event": "customer.created", "profile_id": pid, "login": "x",
                                        "occurred_at": "2026-12-01T00:00:00.000+00:00"})
        assert good.status_code == 202
        [(key, raw)] = wait_until(lambda: profiles_of(rig["raw"], "webhook"), timeout=60, message="the raw profile")
    assert key == f"profile:{pid}".encode() and raw["entity_id"] == str(pid)
    payload = json.loads(raw["payload"])
    assert payload["profile"]["login"] == "Ann.Lee@Example.com"
    [address] = payload["addresses"]
    assert (address["street"], address["state_name"], address["is_billing"], address["is_shipping"]) == \
        ("5 Elm St", "Texas", True, True)
    assert re.fullmatch(r"\d{12}-[0-9a-f]{16}", raw["source_version"])
    # the refusals came before the good push, whose notification and raw event are here; any
    # record of theirs would have been acknowledged before their answer, so it is within the ends
    notes = [v for _k, v in rig["notes"].to_end()]
    assert [(n["event"], n["entity_type"], n["entity_id"]) for n in notes] == [("customer.created", "profile", str(pid))]
    assert [v["entity_type"] for _k, v in rig["raw"].to_end()] == ["profile"]


def test_the_poller_finds_new_profiles_by_added(rig, bootstrap):
    store = rig["store"]
    first = store.profiles.create({"login": "first@example.com"})["profile"]["id"]
    guest = store.create_order({"email": "guest@example.com", "guest": True,
                                "items": [{"sku": "G-1", "price": "3.00", "amount": 1}]})["id"]
    with Ingest(bootstrap, rig["pairs"], rig["pair"], free_port(), poll=True):
        wait_until(lambda: profiles_of(rig["raw"], "poll"), timeout=60, message="the first profile")
        store.clock_offset += 5
        later = store.create_order({"email": "buyer@example.com",          # registers the customer
                                    "items": [{"sku": "B-1", "price": "4.00", "amount": 1}]})["id"]
        buyer = store.get_order(later)["customer_id"]
        wait_until(lambda: {v["entity_id"] for _k, v in profiles_of(rig["raw"], "poll")} == {str(first), str(buyer)},
                   timeout=60, message="the registered buyer's profile")
        orders = wait_until(lambda: {v["entity_id"] for _k, v in rig["raw"].poll() if v["entity_type"] == "order"}
                            >= {str(guest), str(later)} or None, timeout=60, message="both orders")
    assert orders
    polled = [v for _k, v in profiles_of(rig["raw"], "poll")]
    assert len(polled) == 2                                   # each profile once; the guest has none
    buyer_raw = next(v for v in polled if v["entity_id"] == str(buyer))
    assert json.loads(buyer_raw["payload"])["profile"]["login"] == "buyer@example.com"


def _up(port: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
        return True
    except httpx.HTTPError:
        return False
