"""The customer link table on the real broker: every instance reads the whole compacted topic, so two
instances see each other's links, a restarted instance has them back, and readiness means the table
is complete (not merely started)."""
from __future__ import annotations

import time

from confluent_kafka import Producer

from sagebridge_common.app import Application
from sagebridge_common.errors import classify
from sagebridge_common.link_table import LinkTable
from sagebridge_common.settings import Settings

from .conftest import create_topics, unique, wait_until


def settings(bootstrap: str) -> Settings:
    return Settings(kafka_bootstrap_servers=bootstrap, service_name="links-test", ops_port=0)


def table(bootstrap: str, topic: str) -> LinkTable:
    return LinkTable(settings(bootstrap), "customer_links", topic, get_wait_s=30).start()


def link(number: str) -> dict:
    return {"erp_customer_id": number, "storefront_customer_id": None, "at": "2026-12-01T00:00:00Z"}


def test_two_instances_see_each_others_links_and_a_restart_restores_them(bootstrap):
    topic = unique("links")
    create_topics(bootstrap, [topic], partitions=3)
    app = Application(settings(bootstrap), configure_logging=False)
    a, b = table(bootstrap, topic), table(bootstrap, topic)
    try:
        assert a.wait_ready(30) and b.wait_ready(30), (a.ready(), b.ready())
        keys = [f"p|shopper{i}@example.com" for i in range(12)]       # spread over the 3 partitions
        app.publish_sync([a.put(k, link(f"WA{i}")) for i, k in enumerate(keys[:6])])
        app.publish_sync([b.put(k, link(f"WB{i}")) for i, k in enumerate(keys[6:])])
        wait_until(lambda: all(b.get(k) for k in keys[:6]) and all(a.get(k) for k in keys[6:]), 30,
                   message="links crossing instances")
        assert a.get(keys[7])["erp_customer_id"] == "WB1" and b.get(keys[0])["erp_customer_id"] == "WA0"
        wait_until(lambda: a.unconfirmed_output(keys[0]) is None, 30, message="own link read back")
        app.publish_sync([a.put(keys[0], link("WA0-new"))])       # a later value of a key wins
        wait_until(lambda: b.get(keys[0])["erp_customer_id"] == "WA0-new", 30, message="update seen")
    finally:
        a.stop()
        b.stop()
        app.close()
    restarted = table(bootstrap, topic)
    try:
        assert restarted.wait_ready(30)
        assert {k: restarted.get(k)["erp_customer_id"] for k in keys} == {
            **{k: f"WA{i}" for i, k in enumerate(keys[:6])}, keys[0]: "WA0-new",
            **{k: f"WB{i}" for i, k in enumerate(keys[6:])}}
    finally:
        restarted.stop()


def test_ready_only_once_every_link_written_before_start_is_read(bootstrap):
    topic = unique("links")
    create_topics(bootstrap, [topic], partitions=3)
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    for i in range(3000):
        p.produce(topic, key=f"p|s{i}@example.com".encode(), value=b'{"erp_customer_id":"W%d"}' % i)
        if i % 500 == 0:
            p.poll(0)
    assert p.flush(30) == 0
    t = LinkTable(settings(bootstrap), "customer_links", topic, get_wait_s=0.01).start()
    try:
        while not t.ready()[0]:            # the first moment readiness flips, the table must be whole
            time.sleep(0.001)
        assert len(t) == 3000, f"ready with {len(t)} of 3000 links"
        assert t.get("p|s2999@example.com") == {"erp_customer_id": "W2999"}
    finally:
        t.stop()


def test_get_before_the_catch_up_raises_a_transient_error_not_a_miss(bootstrap):
    topic = unique("links-missing")        # the topic does not exist yet: the table waits for it
    t = LinkTable(settings(bootstrap), "customer_links", topic, get_wait_s=0.2).start()
    try:
        # the tail has looked for the topic and not found it (before that it says "not started")
        wait_until(lambda: "does not exist yet" in t.ready()[1], 30, message="the tail found no topic")
        try:
            t.get("p|x@example.com")
        except Exception as e:
            assert classify(e) == "transient" and "does not exist yet" in str(e)
        else:
            raise AssertionError("a get before the catch-up answered")
        assert t.ready() == (False, f"topic {topic} does not exist yet")
        create_topics(bootstrap, [topic], partitions=2)
        assert t.wait_ready(30)
        assert t.get("p|x@example.com") is None
    finally:
        t.stop()
