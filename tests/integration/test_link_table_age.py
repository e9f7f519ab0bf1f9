"""A link table with an age limit, on the real broker: the order-trace table must not keep one entry
per order forever. Age is the record's own timestamp, not when this instance happened to read it,
so a restarted transform does not bring a year of orders back into memory; a table without an age
(the customer links) keeps every link however old."""
from __future__ import annotations

import time

from confluent_kafka import Producer

from sagebridge_common import topics
from sagebridge_common.app import Application
from sagebridge_common.kafka_clients import make_admin
from sagebridge_common.link_table import LinkTable
from sagebridge_common.settings import Settings

from .conftest import create_topics, unique, wait_until

DAY = 24 * 3600


def settings(bootstrap: str) -> Settings:
    return Settings(kafka_bootstrap_servers=bootstrap, service_name="link-age-test", ops_port=0)


def produce_at(bootstrap: str, topic: str, records: dict[str, float]) -> None:
    """Each key's record with the given wall-clock timestamp (seconds), as a producer back then wrote it."""
    p = Producer({"bootstrap.servers": bootstrap})
    for key, at in records.items():
        p.produce(topic, key=key.encode(), value=b'{"traceparent":"00-%s-01"}' % key[-4:].encode(),
                  timestamp=int(at * 1000))
    assert p.flush(30) == 0


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_links_older_than_the_age_are_not_read_back_by_a_new_instance_but_kept_without_an_age(bootstrap):
    topic = unique("traces")
    create_topics(bootstrap, [topic], partitions=3)
    now = time.time()
    old = {f"p|old{i:04d}": now - 40 * DAY + i for i in range(20)}
    fresh = {f"p|new{i:04d}": now - 2 * DAY + i for i in range(20)}
    produce_at(bootstrap, topic, {**old, **fresh})
    aged = LinkTable(settings(bootstrap), "order_traces", topic, get_wait_s=30, max_age_s=30 * DAY).start()
    ageless = LinkTable(settings(bootstrap), "customer_links", topic, get_wait_s=30).start()
    try:
        assert aged.wait_ready(30) and ageless.wait_ready(30)
        assert len(aged) == 20, f"{len(aged)} links in memory, expected the 20 fresh ones"
        assert all(aged.get(k) is None for k in old)
        assert all(aged.get(k) == {"traceparent": f"00-{k[-4:]}-01"} for k in fresh)
        assert len(ageless) == 40 and ageless.get("p|old0000") == {"traceparent": "00-0000-01"}
    finally:
        aged.stop()
        ageless.stop()


def test_a_link_that_ages_while_the_service_runs_reads_absent_at_once_and_leaves_memory(bootstrap):
    topic = unique("traces")
    create_topics(bootstrap, [topic], partitions=3)
    clock = Clock()
    produce_at(bootstrap, topic, {f"p|a{i:04d}": clock.now - 10 * DAY for i in range(10)})
    table = LinkTable(settings(bootstrap), "order_traces", topic, get_wait_s=30, max_age_s=30 * DAY, clock=clock)
    table.prune_every_s = 0.2          # the shipped minute would make this test wait a minute
    app = Application(settings(bootstrap), configure_logging=False)
    table.start()
    try:
        assert table.wait_ready(30) and len(table) == 10
        clock.now += 15 * DAY
        app.publish_sync([table.put("p|b0000", {"traceparent": "00-b0000-01"})])   # written "today"
        wait_until(lambda: table.unconfirmed_output("p|b0000") is None, 30, message="own link read back")
        clock.now += 10 * DAY          # the ten are 35 days old now, the new one 10
        assert table.get("p|a0003") is None, "an expired link must read absent before any prune"
        assert table.get("p|b0000") == {"traceparent": "00-b0000-01"}
        wait_until(lambda: len(table) == 1, 30, message="the expired links dropped from memory")
        clock.now += 21 * DAY
        assert table.get("p|b0000") is None
        wait_until(lambda: len(table) == 0, 30, message="the last link dropped")
    finally:
        table.stop()
        app.close()


def test_the_order_trace_topic_is_compacted_and_expires_with_the_same_age_and_the_broker_takes_it(bootstrap):
    spec = next(t for t in topics.catalogue() if t.name == topics.TRANSFORM_ORDER_TRACES)
    assert spec.configs == {"cleanup.policy": "compact,delete",
                            "retention.ms": str(topics.ORDER_TRACES_MAX_AGE_S * 1000)}
    links = next(t for t in topics.catalogue() if t.name == topics.ERP_WRITER_CUSTOMER_LINKS)
    assert links.configs == {"cleanup.policy": "compact"}, "a customer link must never expire"
    admin = make_admin(Settings(kafka_bootstrap_servers=bootstrap))
    name = unique("order-traces")
    created = topics.apply(admin, [topics.TopicSpec(name, 3, dict(spec.configs), consumed=False)])
    assert created.created == [name]
    again = topics.apply(admin, [topics.TopicSpec(name, 3, dict(spec.configs), consumed=False)])
    assert again.configs_updated == [name]     # an existing deployment's topic gets the expiry too
