"""`sagebridge dlq list` / `dlq show` on the real broker: rows, JSON, decoding, redaction, and no
consumer group left behind."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from click.testing import CliRunner
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from sagebridge_common import cli
from sagebridge_common.dead_letter import FailureContext, dead_letter_headers
from sagebridge_common.errors import PermanentError
from sagebridge_common.events import new_metadata

from .conftest import create_topics, unique

T0 = datetime(2026, 11, 30, 9, 30, 0, 125000, tzinfo=timezone.utc)
FIRST_FAILURE_MS = 1_796_117_400_000          # 2026-12-01T09:30:00.000Z
CARD = "4111 1111 1111 1111"


def order(order_id: str) -> dict:
    line = {"line_id": "1", "sku": "TEA-EG-250", "name": "Earl Grey", "quantity": Decimal("3"),
            "unit_price": Decimal("19.9900"), "discount": Decimal("0"), "line_total": Decimal("59.9700"),
            "location_code": None}
    return {
        "metadata": new_metadata("order.created", source_system="xcart", source_instance="x1",
                                 source_entity_id=order_id, pair_id="xcart-sage300", occurred_at=T0),
        "order_id": order_id, "order_number": f"W-{order_id}", "status": "P", "fulfilment_status": "N",
        "ready_for_erp": True, "ordered_at": T0, "updated_at": T0, "currency": "USD",
        "customer": {"storefront_customer_id": None, "email": "grace@example.com", "first_name": "Grace",
                     "last_name": "Hopper", "phone": None, "erp_customer_id": "WEBGUEST"},
        "billing_address": None, "shipping_address": None, "lines": [line],
        "subtotal": Decimal("59.9700"), "discount_total": Decimal("0"), "shipping_total": Decimal("5.0000"),
        "tax_total": Decimal("3.5982"), "total": Decimal("68.5682"), "tax_included": False,
        "shipping_method": None, "ship_via_code": None, "payment_method": "Visa", "payment_method_code": None,
        "notes": f"customer phoned: card {CARD}, exp 12/29",
    }


@pytest.fixture(scope="module")
def dlq(bootstrap, serde):
    """Shared by the read-only tests."""
    return make_dlq(bootstrap, serde)


def make_dlq(bootstrap, serde) -> tuple[str, str]:
    """A two-partition DLQ with three records on partition 0 (partition 1 stays empty)."""
    src = unique("commerce.orders")
    name = src + ".dlq"
    create_topics(bootstrap, [src, name], partitions=2)
    records = [
        ("1001", serde.serialize("sagebridge.v2.Order", order("1001")), "unknown_sku",
         PermanentError(f"no item TEA-EG-250; customer gave card {CARD.replace(' ', '')}")),
        ("1002", serde.serialize("sagebridge.v2.Order", order("1002")), "invalid_value", PermanentError("currency XXX")),
        ("1003", b'{"order": 1003, "api_key": "k-123"}', "malformed_payload", PermanentError("not Avro")),
    ]
    p = Producer({"bootstrap.servers": bootstrap})
    for i, (key, value, reason, exc) in enumerate(records):
        ctx = FailureContext(topic=src, partition=1, offset=40 + i, group="sagebridge.erp-writer.xcart-sage300",
                             service="erp-writer", stage="write", attempts=i + 1, first_failure_ms=FIRST_FAILURE_MS)
        headers = dead_letter_headers([("traceparent", b"00-abc-def-01"), ("authorization", b"Bearer s3cr3t")],
                                      ctx, exc, reason)
        p.produce(name, key=key.encode(), value=value, headers=headers, partition=0)
    assert p.flush(10) == 0
    return src, name


def run(bootstrap: str, *args: str, **env: str):
    return CliRunner().invoke(cli.main, ["dlq", *args], env={"KAFKA_BOOTSTRAP_SERVERS": bootstrap, **env},
                              catch_exceptions=False)


def browse_groups(bootstrap: str) -> list[str]:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    return [g.group_id for g in admin.list_consumer_groups().result().valid if "dlq-browse" in g.group_id]


def test_list_prints_one_row_per_record(bootstrap, dlq):
    src, name = dlq
    r = run(bootstrap, "list", name)
    assert r.exit_code == 0, r.output
    header, *lines = r.output.splitlines()
    assert header.split("\t") == list(cli.LIST_COLUMNS)
    rows = [line.split("\t") for line in lines]
    assert [(row[0], row[1], row[2], row[3]) for row in rows] == [
        ("0", "0", "1001", "unknown_sku"), ("0", "1", "1002", "invalid_value"), ("0", "2", "1003", "malformed_payload")]
    assert {row[5] for row in rows} == {src}
    assert {row[6] for row in rows} == {"2026-12-01T09:30:00.000Z"}
    assert [row[7] for row in rows] == ["1", "2", "3"] and {row[8] for row in rows} == {"0"}
    assert {row[9] for row in rows} == {"yes"}
    assert "[card-redacted]" in rows[0][4] and "4111" not in r.output


def test_list_json_filters_and_the_table(bootstrap, dlq, monkeypatch):
    _src, name = dlq
    by_reason = json.loads(run(bootstrap, "list", name, "--json", "--reason", "invalid_value").output)
    assert [(row["offset"], row["key"], row["attempts"], row["waiting"]) for row in by_reason] == [(1, "1002", 2, True)]
    assert by_reason[0]["message"] == "currency XXX"
    assert len(json.loads(run(bootstrap, "list", name, "--json", "--limit", "2").output)) == 2

    monkeypatch.setattr(cli, "_is_terminal", lambda: True)
    table = run(bootstrap, "list", name, COLUMNS="200").output      # rich sizes the table to the terminal
    assert f"{name}: 3 records" in table and "unknown_sku" in table and "4111" not in table
    assert "┃ partition ┃ offset ┃" in table
    assert browse_groups(bootstrap) == []


def test_list_shows_what_a_redrive_already_sent_back(bootstrap, serde):
    _src, name = make_dlq(bootstrap, serde)
    r = CliRunner().invoke(cli.main, ["dlq", "redrive", name, "--reason", "invalid_value"],
                           env={"KAFKA_BOOTSTRAP_SERVERS": bootstrap}, catch_exceptions=False)
    assert json.loads(r.output)["examined"] == 3
    rows = json.loads(run(bootstrap, "list", name, "--json").output)
    assert [row["waiting"] for row in rows] == [True, False, True]


def test_show_decodes_the_payload_and_redacts(bootstrap, dlq):
    src, name = dlq
    r = run(bootstrap, "show", name, "--partition", "0", "--offset", "0")
    assert r.exit_code == 0, r.output
    shown = json.loads(r.output)
    assert (shown["partition"], shown["offset"], shown["key"], shown["replay_count"]) == (0, 0, "1001", 0)
    err = shown["error"]
    assert (err["topic"], err["partition"], err["offset"], err["reason"]) == (src, "1", "40", "unknown_sku")
    assert err["first.failure"] == "2026-12-01T09:30:00.000Z" and err["exception.class"].endswith("PermanentError")
    assert "PermanentError: no item TEA-EG-250" in err["exception.stacktrace"]
    assert shown["headers"] == {"traceparent": "00-abc-def-01", "authorization": "[redacted]"}
    payload = shown["payload"]
    assert payload["schema"] == "sagebridge.v2.Order"
    value = payload["value"]
    assert value["total"] == "68.5682" and value["lines"][0]["quantity"] == "3.0000"
    assert value["ordered_at"] == "2026-11-30T09:30:00.125Z"
    assert value["customer"]["email"] == "grace@example.com"      # not a secret by the log rules
    assert value["notes"] == "customer phoned: card [card-redacted], exp 12/29"
    assert "4111" not in r.output and "s3cr3t" not in r.output
    assert browse_groups(bootstrap) == []


def test_show_falls_back_to_raw_bytes_and_says_why(bootstrap, dlq):
    _src, name = dlq
    shown = json.loads(run(bootstrap, "show", name, "--partition", "0", "--offset", "2").output)
    payload = shown["payload"]
    assert payload["schema"] is None and "MalformedPayloadError" in payload["undecodable"]
    assert "single-object" in payload["undecodable"]
    assert payload["utf8"].startswith('{"order": 1003')


def test_show_a_missing_record_is_a_clear_error(bootstrap, dlq):
    _src, name = dlq
    r = run(bootstrap, "show", name, "--partition", "1", "--offset", "0")
    assert r.exit_code == 2 and "no record at partition 1 offset 0" in r.output
    r = run(bootstrap, "show", name, "--partition", "7", "--offset", "0")
    assert r.exit_code == 2 and "no partition 7" in r.output
    r = run(bootstrap, "list", unique("nothing"))
    assert r.exit_code == 2 and "no topic" in r.output
