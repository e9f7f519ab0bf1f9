"""Wire formats: Avro single-object encoding (checked against an independent CRC-64-AVRO) and
Confluent framing against the registry simulator over real HTTP."""
from __future__ import annotations

import struct
from datetime import datetime, timezone
from decimal import Decimal

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sagebridge_common.avro_serde import (
    ConfluentSerde, MalformedPayloadError, SingleObjectSerde, UnknownSchemaError, UnknownWriterSchemaError,
    make_serde,
)
from sagebridge_common.errors import PermanentError, TransientError, classify
from sagebridge_common.schema_registry import SchemaRegistryClient
from sagebridge_common.schemas import SchemaCatalog
from sagebridge_sim.schema_registry import create_app
from sagebridge_sim.serve import BackgroundServer, free_port

T0 = datetime(2025, 1, 15, 9, 30, 0, 125000, tzinfo=timezone.utc)
CATALOG = SchemaCatalog.load()

# ---------------------------------------------------------------- CRC-64-AVRO, straight from the spec

EMPTY = 0xC15D213AA4D7A795


def _fp_table() -> list[int]:
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (EMPTY & -(fp & 1))
        table.append(fp)
    return table


FP_TABLE = _fp_table()


def rabin64(data: bytes) -> int:
    fp = EMPTY
    for byte in data:
        fp = (fp >> 8) ^ FP_TABLE[(fp ^ byte) & 0xFF]
    return fp


# ---------------------------------------------------------------- values

def order(**amounts: Decimal) -> dict:
    line = {"line_id": "1", "sku": "TEA-EG-250", "name": "Earl Grey", "quantity": Decimal("3"),
            "unit_price": Decimal("19.9900"), "discount": Decimal("0"), "line_total": Decimal("59.9700"),
            "location_code": None, "item_number": "TEA-EG-250"}
    value = {
        "metadata": {"event_id": "0b6a2f4e-1c3d-4e5f-8a9b-0c1d2e3f4a5b", "event_type": "order.created",
                     "occurred_at": T0, "recorded_at": T0, "source_system": "shift4shop",
                     "source_instance": "s4s-us", "source_entity_id": "5001", "pair_id": "s4s-us__sage300",
                     "correlation_id": "corr-1"},
        "order_id": "5001", "order_number": "S-5001", "status": "1", "fulfilment_status": "unshipped",
        "ready_for_erp": True, "ordered_at": T0, "updated_at": T0, "currency": "USD",
        "customer": {"storefront_customer_id": None, "email": "guest@example.com", "email_key": "guest@example.com",
                     "first_name": "Grace", "last_name": "Hopper", "phone": None, "is_guest": True,
                     "erp_customer_id": "WEBGUEST", "new_customer_number": None},
        "billing_address": None,
        "shipping_address": {"name": "Grace Hopper", "company": None, "line1": "1 Navy Way", "line2": None,
                             "city": "Arlington", "region": "VA", "postal_code": "22201", "country": "US",
                             "phone": None, "email": None, "region_code": "VA", "erp_country": "US"},
        "lines": [line], "subtotal": Decimal("59.9700"), "discount_total": Decimal("0"),
        "shipping_total": Decimal("5.0000"), "tax_total": Decimal("3.5982"), "total": Decimal("68.5682"),
        "tax_included": False, "shipping_method": None, "ship_via_code": None, "payment_method": None,
        "payment_method_code": None, "notes": None, "source_version": "",
        "charges": [{"kind": "shipping", "code": "FRT", "placement": "line", "amount": Decimal("5.0000"),
                     "description": "Shipping"}],
        "tax_mode": "store", "rate_type": None, "coupon_codes": [],
    }
    for key, amount in amounts.items():
        if key in line:
            line[key] = amount
        else:
            value[key] = amount
    return value


@pytest.fixture
def registry():
    """A fresh registry simulator on a real port; yields (url, app state)."""
    app = create_app()
    server = BackgroundServer(app).start()
    try:
        yield server.url, app.state.registry, app.state.faults
    finally:
        server.stop()


# ---------------------------------------------------------------- single-object encoding

def test_single_object_header_and_fingerprint():
    data = SingleObjectSerde(CATALOG).serialize("Order", order())
    assert data[:2] == b"\xc3\x01"
    canonical = CATALOG.get("Order").canonical_form
    assert '"logicalType"' not in canonical and canonical.startswith('{"name":"sagebridge.v3.Order"')
    assert data[2:10] == struct.pack("<Q", rabin64(canonical.encode()))
    assert CATALOG.get("Order").fingerprint == data[2:10]


def test_rabin_reference_implementation_is_the_spec_one():
    assert rabin64(b"") == EMPTY
    assert rabin64(b'"int"') != rabin64(b'"long"')


def test_single_object_round_trip_returns_name_and_plain_values():
    serde = SingleObjectSerde(CATALOG)
    name, value = serde.deserialize(serde.serialize("sagebridge.v3.Order", order()))
    assert name == "sagebridge.v3.Order"
    assert value == order()
    assert isinstance(value["metadata"]["event_id"], str)
    assert value["ordered_at"].tzinfo is not None and isinstance(value["total"], Decimal)


def test_naive_datetimes_and_epoch_millis_are_encoded_as_utc():
    serde = SingleObjectSerde(CATALOG)
    v = order()
    v["ordered_at"] = T0.replace(tzinfo=None)
    v["updated_at"] = int(T0.timestamp() * 1000)
    _, out = serde.deserialize(serde.serialize("Order", v))
    assert out["ordered_at"] == T0 and out["updated_at"] == T0


def test_unknown_fingerprint_is_retried_under_the_unknown_schema_budget():
    """A newer producer during a rolling upgrade: retried for a while, not dead-lettered at once."""
    data = SingleObjectSerde(CATALOG).serialize("Order", order())
    forged = data[:2] + bytes.fromhex("0123456789abcdef") + data[10:]
    with pytest.raises(UnknownWriterSchemaError, match="0123456789abcdef") as e:
        SingleObjectSerde(CATALOG).deserialize(forged)
    assert classify(e.value) == "budgeted" and e.value.budget == "unknown_schema"
    assert e.value.reason == "unknown_schema"


@pytest.mark.parametrize("cut", [1, 5, 20])
def test_truncated_payload_is_malformed(cut):
    data = SingleObjectSerde(CATALOG).serialize("Order", order())
    with pytest.raises(MalformedPayloadError):
        SingleObjectSerde(CATALOG).deserialize(data[:-cut])


@pytest.mark.parametrize("data", [b"", b"\xc3", b"\xc3\x01\x00", b"\xc3\x02" + b"\x00" * 20, b"{\"json\": 1}"])
def test_bad_marker_or_short_header_is_malformed(data):
    with pytest.raises(MalformedPayloadError):
        SingleObjectSerde(CATALOG).deserialize(data)


def test_trailing_garbage_is_malformed():
    data = SingleObjectSerde(CATALOG).serialize("Order", order())
    with pytest.raises(MalformedPayloadError, match="trailing"):
        SingleObjectSerde(CATALOG).deserialize(data + b"\x00")


def test_value_not_matching_schema_is_permanent_with_field_path():
    bad = order()
    bad["lines"][0]["quantity"] = 3.0
    with pytest.raises(PermanentError, match="quantity"):
        SingleObjectSerde(CATALOG).serialize("Order", bad)
    with pytest.raises(PermanentError, match="order_id"):
        SingleObjectSerde(CATALOG).serialize("Order", {**order(), "order_id": None})


def test_unknown_record_name_on_serialize():
    with pytest.raises(UnknownSchemaError):
        SingleObjectSerde(CATALOG).serialize("NoSuchThing", {})


def test_strict_mode_validates_before_writing():
    """Truthy non-bools are silently accepted by the fast path; validate=True catches them."""
    bad = {**order(), "ready_for_erp": "yes"}
    SingleObjectSerde(CATALOG).serialize("Order", bad)
    with pytest.raises(PermanentError, match="ready_for_erp"):
        SingleObjectSerde(CATALOG, validate=True).serialize("Order", bad)


# ---------------------------------------------------------------- Confluent framing

def test_confluent_framing_round_trip_and_subject(registry):
    url, state, _ = registry
    serde = ConfluentSerde(CATALOG, SchemaRegistryClient(url))
    data = serde.serialize("Order", order())
    (schema_id,) = state.ids_by_schema.values()
    assert data[0] == 0 and data[1:5] == struct.pack(">I", schema_id)
    assert serde.deserialize(data) == ("sagebridge.v3.Order", order())
    assert SchemaRegistryClient(url).subjects() == ["sagebridge.v3.Order"]


def test_ids_are_cached_both_ways(registry):
    url, state, _ = registry
    producer = ConfluentSerde(CATALOG, SchemaRegistryClient(url))
    frames = [producer.serialize("Order", order()) for _ in range(5)]
    assert producer.deserialize(frames[0])[0] == "sagebridge.v3.Order"
    assert state.hits["register"] == 1 and state.hits["get_schema"] == 0

    consumer = ConfluentSerde(CATALOG, SchemaRegistryClient(url))
    for frame in frames:
        assert consumer.deserialize(frame)[1] == order()
    assert state.hits["get_schema"] == 1
    assert httpx.get(f"{url}/_sim/stats").json()["get_schema"] == 1


def test_same_schema_same_id_different_schema_new_id(registry):
    url, _, _ = registry
    client = SchemaRegistryClient(url)
    order_json = CATALOG.get("Order").schema_json
    first = client.register("sagebridge.v3.Order", order_json)
    assert client.register("sagebridge.v3.Order", order_json) == first
    assert client.register("sagebridge.v1.Payment", CATALOG.get("Payment").schema_json) != first
    assert client.get_schema(first) == order_json


def test_unknown_schema_id_is_retried_under_the_unknown_schema_budget(registry):
    url, _, _ = registry
    serde = ConfluentSerde(CATALOG, SchemaRegistryClient(url))
    body = SingleObjectSerde(CATALOG).serialize("Order", order())[10:]
    with pytest.raises(UnknownWriterSchemaError, match="999") as e:
        serde.deserialize(b"\x00" + struct.pack(">I", 999) + body)
    assert classify(e.value) == "budgeted" and e.value.budget == "unknown_schema"


def test_registry_unreachable_is_transient():
    url = f"http://127.0.0.1:{free_port()}"
    serde = ConfluentSerde(CATALOG, SchemaRegistryClient(url, timeout=2))
    with pytest.raises(TransientError):
        serde.serialize("Order", order())
    with pytest.raises(TransientError):
        serde.deserialize(b"\x00\x00\x00\x00\x01\x00")


def test_registry_5xx_is_transient_with_retry_after(registry):
    url, _, faults = registry
    faults.configure(error_status=503, error_count=1, retry_after_s=2)
    serde = ConfluentSerde(CATALOG, SchemaRegistryClient(url))
    with pytest.raises(TransientError) as e:
        serde.serialize("Order", order())
    assert e.value.retry_after == 2
    assert serde.deserialize(serde.serialize("Order", order()))[1] == order()  # recovers


def test_registry_stopping_after_caching_does_not_matter():
    app = create_app()
    server = BackgroundServer(app).start()
    serde = ConfluentSerde(CATALOG, SchemaRegistryClient(server.url))
    data = serde.serialize("Order", order())
    server.stop()
    assert serde.deserialize(serde.serialize("Order", order()))[1] == order()
    with pytest.raises(TransientError):
        ConfluentSerde(CATALOG, SchemaRegistryClient(server.url)).deserialize(data)


def test_confluent_serde_reads_single_object_and_vice_versa_hints(registry):
    url, _, _ = registry
    confluent = ConfluentSerde(CATALOG, SchemaRegistryClient(url))
    single = SingleObjectSerde(CATALOG)
    assert confluent.deserialize(single.serialize("Order", order()))[1] == order()
    with pytest.raises(MalformedPayloadError, match="Confluent"):
        single.deserialize(confluent.serialize("Order", order()))
    with pytest.raises(MalformedPayloadError):
        confluent.deserialize(b"\x07\x00")


def test_make_serde_picks_by_registry_url(registry):
    url, _, _ = registry
    assert isinstance(make_serde(CATALOG, None), SingleObjectSerde)
    serde = make_serde(CATALOG, url, auth=("key", "secret"))
    assert isinstance(serde, ConfluentSerde)
    assert serde.deserialize(serde.serialize("Payment", {
        "metadata": order()["metadata"], "order_id": "5001", "transaction_id": "t1", "method": "card",
        "method_code": None, "amount": Decimal("68.5682"), "currency": "USD", "captured_at": T0,
        "bank_account": None, "gl_account": None}))[1]["amount"] == Decimal("68.5682")


# ---------------------------------------------------------------- property: decimals are exact

def _amounts():
    return st.integers(0, 4).flatmap(
        lambda scale: st.integers(-(10 ** (14 + scale)) + 1, 10 ** (14 + scale) - 1).map(
            lambda n: Decimal(n).scaleb(-scale)))


@settings(max_examples=300, deadline=None)
@given(total=_amounts(), unit_price=_amounts(), quantity=_amounts(), tax_total=_amounts())
def test_decimal_amounts_round_trip_exactly(total, unit_price, quantity, tax_total):
    serde = SingleObjectSerde(CATALOG)
    _, out = serde.deserialize(serde.serialize("Order", order(
        total=total, unit_price=unit_price, quantity=quantity, tax_total=tax_total)))
    for got, want in ((out["total"], total), (out["lines"][0]["unit_price"], unit_price),
                      (out["lines"][0]["quantity"], quantity), (out["tax_total"], tax_total)):
        assert isinstance(got, Decimal) and got == want and got.as_tuple().exponent == -4
