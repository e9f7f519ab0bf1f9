"""Ingest's polling on the real broker: the runtime's source runner driving the X-Cart source
against the X-Cart simulator over HTTP. Orders survive a moving store, bad rows, an outage and
a replica taking over."""
from __future__ import annotations

import json
import threading
import time
from collections import Counter

import pytest
from confluent_kafka import Consumer, TopicPartition

from sagebridge_common import topics
from sagebridge_common.app import Application
from sagebridge_common.kafka_clients import make_admin
from sagebridge_common.settings import Settings
from sagebridge_common.dead_letter import ERROR_PREFIX, header_dict
from sagebridge_common.source_runner import SourceRunner
from sagebridge_common.topics import INGEST_NOTIFICATIONS, STOREFRONT_RAW
from sagebridge_connectors.xcart import XCartSource, XCartStorefrontConfig
from sagebridge_connectors.xcart.feed import version_of
from sagebridge_ingest.config import IngestSettings
from sagebridge_ingest.poller import dead_letter_notification, poll_outputs
from sagebridge_sim.faults import FaultInjector
from sagebridge_sim.serve import BackgroundServer
from sagebridge_sim.xcart import XCartStore, create_app

from .conftest import create_topics, unique, wait_until

ITEM = {"sku": "WIDGET-1", "name": "Widget", "price": "12.50", "amount": 1}
NOTIFY_DLQ = f"{INGEST_NOTIFICATIONS}.dlq"


class Tail:
    """Keeps reading a topic from the beginning; order records of one pair only (the source polls
    profiles too; test_ingest_profiles.py covers those)."""

    def __init__(self, bootstrap, serde, topic, pair_id):
        self.serde, self.pair_id = serde, pair_id
        self.c = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("tail"), "fetch.wait.max.ms": 10,
                           "enable.auto.commit": False})
        md = self.c.list_topics(topic, timeout=10).topics[topic]
        self.c.assign([TopicPartition(topic, p, 0) for p in md.partitions])
        self.records: list[tuple[dict, dict]] = []

    def poll(self) -> list[tuple[dict, dict]]:
        while (msg := self.c.poll(0.05)) is not None:
            if msg.error():
                continue
            _n, v = self.serde.deserialize(msg.value())
            if v["metadata"]["pair_id"] == self.pair_id and v["entity_type"] == "order":
                self.records.append((v, header_dict(msg.headers())))
        return self.records

    def ids(self) -> set[str]:
        return {v["entity_id"] for v, _h in self.poll()}

    def versions(self) -> Counter:
        return Counter((v["entity_id"], v["source_version"]) for v, _h in self.poll())

    def close(self):
        self.c.close()


class Store:
    def __init__(self, first_id: int) -> None:
        self.store, self.injector = XCartStore(first_order_id=first_id), FaultInjector()
        app = create_app(self.store, token_read="r", token_all="w", injector=self.injector)
        self.listing = app.state.listing
        self.server = BackgroundServer(app).start()

    def order(self, **spec) -> str:
        return str(self.store.create_order({"items": [ITEM], **spec})["id"])

    def source(self, **block) -> XCartSource:
        return XCartSource(XCartStorefrontConfig(kind="xcart", base_url=self.server.url, token="r", **block))


class Poller:
    """A runner as ingest's main builds it, in its own Application (one per replica)."""

    def __init__(self, bootstrap, store: Store, pair_id: str, state_topic: str, **block):
        settings = IngestSettings(kafka_bootstrap_servers=bootstrap, ops_port=0, retry_initial_s=0.05,
                                  retry_max_s=0.5, pair_id=pair_id)
        self.app = Application(settings, configure_logging=False)
        ids = {"storefront": "xcart", "instance": "default", "pair_id": pair_id}
        self.runner: SourceRunner = self.app.source(
            store.source(**block), pair_id=pair_id, name="default", interval_s=0.2,
            page_size=block.get("page_size", 100), max_record_attempts=3, outputs=poll_outputs(**ids),
            dead_letter=dead_letter_notification(**ids), state_topic=state_topic)
        self.thread = threading.Thread(target=self.runner.run, daemon=True)
        self.thread.start()

    def owns(self) -> bool:
        return self.runner.ownership.generation() is not None

    def close(self):
        self.runner.stop()
        self.thread.join(15)
        self.app.close()


@pytest.fixture
def env(bootstrap, serde):
    # the shared topics exactly as the `stack` fixture creates them (catalogue, 4 partitions)
    topics.apply(make_admin(Settings(kafka_bootstrap_servers=bootstrap)), topics.catalogue(4))
    state = unique("state")
    create_topics(bootstrap, [state], partitions=1)
    pair = unique("pair")
    opened: list = []

    def poller(store, **block):
        p = Poller(bootstrap, store, pair, state, **block)
        opened.append(p)
        return p

    raw, dlq = Tail(bootstrap, serde, STOREFRONT_RAW, pair), Tail(bootstrap, serde, NOTIFY_DLQ, pair)
    yield poller, raw, dlq
    for p in opened:
        p.close()
    raw.close()
    dlq.close()


def test_a_moving_store_loses_no_order_and_repeats_no_version(env):
    """Slow list calls (2.5 s of store time each), old orders edited and new ones placed between
    page calls: every order reaches storefront.raw.v1, each (id, version) exactly once."""
    poller, raw, _dlq = env
    store = Store(1_000_000)
    base, made = 1_950_000_000, []
    for s in range(4):
        store.store.clock_offset = base + s + 0.1 - time.time()
        made += [store.order() for _ in range(50)]
    store.store.clock_offset = base + 100 - time.time()
    store.listing.configure({"clock_step_s": 2.5, "edit_returned": 5, "create_per_call": 2, "calls": 8})
    poller(store, page_size=50)
    wait_until(lambda: len(store.listing.snapshot()["calls"]) > 8, timeout=60, message="the faulted walk")
    sentinel = store.order()                                 # delivered after everything before it
    wait_until(lambda: sentinel in raw.ids(), timeout=60, message="the sentinel order")
    everything = set(made) | {str(i) for i in store.listing.snapshot()["created"]} | {sentinel}
    versions = raw.versions()
    assert {oid for oid, _v in versions} == everything
    assert max(versions.values()) == 1, [k for k, n in versions.items() if n > 1][:3]
    latest = {(oid, version_of(store.store.get_order(int(oid)))) for oid in everything}
    assert latest <= set(versions)


def test_declined_then_paid_in_one_second_is_exported_and_every_filter_was_applied(env):
    poller, raw, _dlq = env
    store = Store(1_500_000)
    second = 1_960_000_000
    store.store.clock_offset = second + 0.1 - time.time()
    oid = store.order(payment_code="D")
    p = poller(store)
    wait_until(lambda: oid in raw.ids(), timeout=60, message="the declined order")
    pages = p.runner.pages
    wait_until(lambda: p.runner.pages > pages, timeout=30, message="a poll after it")   # cursor now in that second
    store.store.clock_offset = second + 0.1 - time.time()
    store.store.set_status(int(oid), "payment", "P")                  # same second, new state
    wait_until(lambda: len([k for k in raw.versions() if k[0] == oid]) == 2, timeout=60, message="the paid state")
    states = [json.loads(v["payload"])["order"]["payment_status"]["code"] for v, _h in raw.poll()]
    assert states == ["D", "P"] and {v["trigger"] for v, _h in raw.poll()} == {"poll"}
    calls = store.listing.snapshot()["calls"]
    assert calls and all(c["filters_applied"] and not c["filters_ignored"] for c in calls)


def test_a_record_that_keeps_failing_goes_to_the_dlq_and_polling_moves_on(env):
    poller, raw, dlq = env
    store = Store(2_000_000)
    bad = store.order()
    store.listing.configure({"transactions_status": {bad: 500}})   # this order's transactions: 500 forever
    store.store.clock_offset += 2
    later = store.order()
    p = poller(store)
    wait_until(lambda: later in raw.ids(), timeout=60, message="the order after the bad one")
    assert bad not in raw.ids()
    [(note, headers)] = dlq.poll()
    assert note["entity_id"] == bad and note["event"] == "order.updated"
    assert headers[ERROR_PREFIX + "attempts"] == "3" and headers[ERROR_PREFIX + "reason"] == "xcart_500"
    assert headers[ERROR_PREFIX + "topic"] == INGEST_NOTIFICATIONS      # redrive hands it to the fetcher
    assert p.runner.readiness_check()[0]


def test_a_store_outage_is_retried_and_reported_not_dead_lettered(env):
    poller, raw, dlq = env
    store = Store(3_000_000)
    first = store.order()
    p = poller(store)
    wait_until(lambda: first in raw.ids(), timeout=60, message="first order")
    store.injector.configure(outage_seconds=600)
    during = store.order()
    check = f"source:{p.runner.name}"
    wait_until(lambda: not p.app.health.ready()[0], timeout=30, message="/readyz to report the outage")
    assert "503" in p.app.health.ready()[1][check]["detail"]
    store.injector.configure(reset=True)
    wait_until(lambda: during in raw.ids(), timeout=60, message="the order placed during the outage")
    # the cycle that emitted the order reports its success when it ends, a moment after the record
    # can already be read back (seen on a loaded machine): the positive signal is waited for
    wait_until(lambda: p.app.health.ready()[1][check]["ok"], timeout=10, message="/readyz to recover")
    assert dlq.poll() == []


def test_two_replicas_one_poller_and_a_takeover_from_the_saved_cursor(env):
    poller, raw, _dlq = env
    store = Store(4_000_000)
    a, b = poller(store), poller(store)
    wait_until(lambda: a.owns() != b.owns(), timeout=60, message="one owner")
    first = [store.order() for _ in range(20)]
    wait_until(lambda: set(first) <= raw.ids(), timeout=60, message="first orders")
    wait_until(lambda: a.owns() != b.owns(), timeout=60, message="a settled group")
    owner, standby = (a, b) if a.owns() else (b, a)
    before = (owner.runner.pages, standby.runner.pages)
    more = [store.order() for _ in range(5)]
    wait_until(lambda: set(more) <= raw.ids(), timeout=60, message="more orders")
    assert standby.runner.pages == before[1] and owner.runner.pages > before[0]   # only the owner polls
    assert standby.runner.readiness_check() == (True, "standby")
    owner.close()                                           # leaves the group: the standby takes over
    during = [store.order() for _ in range(10)]
    wait_until(standby.owns, timeout=60, message="takeover")
    wait_until(lambda: set(during) <= raw.ids(), timeout=60, message="orders after the takeover")
    assert standby.runner.pages > before[1]
    versions = raw.versions()
    assert {oid for oid, _v in versions} == set(first + more + during)
    assert max(versions.values()) == 1, "the new owner did not resume from the saved cursor"
