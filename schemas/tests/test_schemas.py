"""Shipped Avro schemas: realistic values round-trip, money is never float, and every version is
readable by the next (writer old, reader new), with the harness itself proven on a derived v2."""
from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

import fastavro
import pytest
from fastavro.read import SchemaResolutionError

from sagebridge_common.avro_serde import SingleObjectSerde
from sagebridge_common.schemas import SchemaCatalog, SchemaCatalogError

V1_DIR = Path(__file__).resolve().parents[1] / "avro" / "v1"
T0 = datetime(2024, 11, 29, 14, 3, 7, 250000, tzinfo=timezone.utc)
EVENTS = {"RawStorefrontEvent", "Order", "WriteResult", "Customer", "Payment", "Refund",
          "InventoryLevel", "Product", "Shipment", "OrderStatus", "RawErpChange", "StorefrontNotification"}
CATALOG = SchemaCatalog.load()


@pytest.fixture(scope="module")
def catalog() -> SchemaCatalog:
    return SchemaCatalog.load()


# ---------------------------------------------------------------- realistic example values

def metadata(event_type: str, source: str = "xcart", entity: str = "10042") -> dict:
    return {
        "event_id": "3f1c2b7e-9a4d-4e0b-8c55-2d7f1a9e6b01", "event_type": event_type,
        "occurred_at": T0, "recorded_at": T0 + timedelta(seconds=2), "source_system": source,
        "source_instance": "shop-eu-1", "source_entity_id": entity, "pair_id": "xcart-eu__sage300-main",
        "correlation_id": "c0rr-5e1d-42",
    }


def address(**over: Any) -> dict:
    base = {"name": "Ada Lovelace", "company": "Analytical Engines Ltd", "line1": "12 St James's Square",
            "line2": None, "city": "London", "region": None, "postal_code": "SW1Y 4JH", "country": "GB",
            "phone": "+44 20 7946 0000", "email": "ada@example.co.uk"}
    return {**base, **over}


def order_v2() -> dict:
    """An order as sagebridge.v2.Order holds it (v1 is the same without `source_version`)."""
    lines = [
        {"line_id": "1", "sku": "TEA-EG-250", "name": "Earl Grey 250g", "quantity": Decimal("2.0000"),
         "unit_price": Decimal("19.9900"), "discount": Decimal("2.0000"), "line_total": Decimal("37.9800"),
         "location_code": "LON"},
        {"line_id": "2", "sku": "MUG-BLU", "name": "Mug, blue", "quantity": Decimal("1.0000"),
         "unit_price": Decimal("8.5000"), "discount": Decimal("0.0000"), "line_total": Decimal("8.5000"),
         "location_code": None},
    ]
    return {
        "metadata": metadata("order.created"), "order_id": "10042", "order_number": "XC-10042",
        "status": "P", "fulfilment_status": "N", "ready_for_erp": True, "ordered_at": T0,
        "updated_at": T0 + timedelta(minutes=5), "currency": "GBP",
        "customer": {"storefront_customer_id": "771", "email": "ada@example.co.uk", "first_name": "Ada",
                     "last_name": "Lovelace", "phone": None, "erp_customer_id": "ADA001"},
        "billing_address": address(), "shipping_address": address(company=None, line2="Flat 3"),
        "lines": lines, "subtotal": Decimal("46.4800"), "discount_total": Decimal("2.0000"),
        "shipping_total": Decimal("4.9500"), "tax_total": Decimal("8.2867"), "total": Decimal("59.7167"),
        "tax_included": False, "shipping_method": "Royal Mail 1st Class", "ship_via_code": "RM1",
        "payment_method": "Credit card", "payment_method_code": "CC", "notes": "Leave with porter",
        "source_version": "20241129140307-9f1c2b7e",
    }


def address_v2(**over: Any) -> dict:
    return {**address(**over), "region_code": None, "erp_country": "GB"}


def order_customer(**over: Any) -> dict:
    base = {"storefront_customer_id": "771", "email": "Ada@Example.co.uk ", "email_key": "ada@example.co.uk",
            "first_name": "Ada", "last_name": "Lovelace", "phone": None, "is_guest": False,
            "erp_customer_id": None, "new_customer_number": "WQ7K2M4XP9AB"}
    return {**base, **over}


def order() -> dict:
    """sagebridge.v3.Order: customer, addresses and lines of their v2, charges, tax mode, rate type, coupons."""
    v2 = order_v2()
    return {
        **v2, "customer": order_customer(),
        "billing_address": address_v2(), "shipping_address": address_v2(company=None, line2="Flat 3"),
        "lines": [{**line, "item_number": line["sku"]} for line in v2["lines"]],
        "charges": [
            {"kind": "shipping", "code": "FRT", "placement": "line", "amount": Decimal("4.9500"),
             "description": "Royal Mail 1st Class"},
            {"kind": "discount", "code": None, "placement": "header", "amount": Decimal("2.0000"),
             "description": "Coupon discount"}],
        "tax_mode": "store", "rate_type": "SP", "coupon_codes": ["SPRING10"],
    }


def examples() -> dict[str, dict]:
    return {
        "RawStorefrontEvent": {
            "metadata": metadata("storefront.order.fetched"), "storefront": "xcart", "entity_type": "order",
            "entity_id": "10042", "trigger": "webhook", "payload": json.dumps({"orderid": 10042, "total": "59.72"}),
            "fetched_at": T0, "source_version": "001730821330-9f86d081884c7d65"},
        "Order": order(),
        "WriteResult": {
            "metadata": metadata("erp.write.result", "sage300"), "target_system": "sage300",
            "entity_type": "order", "source_entity_id": "10042", "reference": "XC-10042",
            "outcome": "created", "target_document_id": "ORD000123", "message": None, "attempts": 1},
        "Customer": {
            "metadata": metadata("customer.updated", entity="771"), "customer_id": "771",
            "email": "Ada@Example.co.uk", "email_key": "ada@example.co.uk", "first_name": "Ada",
            "last_name": "Lovelace", "company": "Analytical Engines Ltd", "phone": None, "is_guest": False,
            "billing_address": address_v2(), "shipping_address": address_v2(city="Bath"),
            "erp_customer_id": None, "new_customer_number": "WQ7K2M4XP9AB",
            "created_at": T0 - timedelta(days=400), "updated_at": T0, "source_version": "001732888987-ab12"},
        "Payment": {
            "metadata": metadata("payment.captured"), "order_id": "10042", "order_number": "XC-10042",
            "transaction_id": "b88", "customer": order_customer(), "method": "Credit card", "method_code": "CC",
            "amount": Decimal("59.7167"), "currency": "GBP", "captured_at": T0, "bank_code": "SEATAC",
            "receipt_type": "Prepayment", "fee_amount": Decimal("2.0300"), "fee_expense_account": "6100",
            "fee_clearing_account": "1020"},
        "Refund": {
            "metadata": metadata("refund.created"), "order_id": "10042", "order_number": "XC-10042",
            "refund_id": "b91", "payment_transaction_id": "t87", "customer": order_customer(),
            "amount": Decimal("19.9900"), "currency": "GBP", "paid_total": Decimal("59.7167"),
            "refunded_total": Decimal("19.9900"),
            "lines": [{"sku": "TEA-EG-250", "quantity": Decimal("1"), "amount": Decimal("19.9900")}],
            "reason": "damaged in transit", "refunded_at": T0 + timedelta(days=3), "gl_account": "4030",
            "distribution_code": None},
        "InventoryLevel": {
            "metadata": metadata("inventory.level", "sage300", "TEA-EG-250@LON"), "sku": "TEA-EG-250",
            "location": "LON", "on_hand": Decimal("120.0000"), "committed": Decimal("7.5000"),
            "available": Decimal("112.5000"), "as_of": T0, "quantity": Decimal("112.5000"), "erp_item": "TEAEG250",
            "erp_locations": ["LON", "LON2"], "source_version": "2026120112300045|TEAEG250|LON"},
        "Product": {
            "metadata": metadata("product.updated", "sage300", "TEA-EG-250"), "sku": "TEA-EG-250",
            "name": "Earl Grey 250g", "description": None, "price": Decimal("19.9900"), "currency": "GBP",
            "active": True, "weight": Decimal("0.2750"), "categories": ["Tea", "Black tea"], "erp_item": "TEAEG250",
            "erp_category": "TEA", "create_missing_categories": False, "deleted": False,
            "source_version": "2026120112300045|TEAEG250"},
        "Shipment": {
            "metadata": metadata("shipment.created", "sage300"), "order_id": "10042",
            "order_number": "XC-10042", "shipment_id": "SHP-881", "carrier": "Royal Mail", "service": None,
            "tracking_number": "RM123456785GB", "shipped_at": T0 + timedelta(days=1),
            "lines": [{"sku": "TEA-EG-250", "quantity": Decimal("2.0000")}], "reference": "XC1-10042",
            "deleted": False, "source_version": "2026120209150000|12"},
        "OrderStatus": {
            "metadata": metadata("order.status", "sage300"), "order_id": "10042", "order_number": "XC-10042",
            "status": "complete", "fulfilment_status": "shipped", "changed_at": T0 + timedelta(days=1),
            "shipping_status": "S", "payment_status": None, "order_status": None, "hold_reason": None,
            "reference": "XC1-10042", "source_version": "2026120209150000|7"},
        "StorefrontNotification": {
            "metadata": metadata("storefront.notification"), "storefront": "shift4shop", "entity_type": "order",
            "entity_id": "10042", "event": "order.created", "received_at": T0},
        "RawErpChange": {
            "metadata": metadata("erp.change", "sage300", "ORD000123"), "erp": "sage300", "table": "OEORDH",
            "op": "u", "key": "ORD000123", "before": json.dumps({"ORDNUMBER": "ORD000123", "COMPLETE": 1}),
            "after": json.dumps({"ORDNUMBER": "ORD000123", "COMPLETE": 3}), "position": "00000027:000001a8:0003"},
    }


def roundtrip(schema: dict, value: dict, reader: dict | None = None) -> dict:
    buf = BytesIO()
    fastavro.schemaless_writer(buf, schema, value)
    buf.seek(0)
    return fastavro.schemaless_reader(buf, schema, reader)


def plain(value: Any) -> Any:
    """fastavro decodes `uuid` strings to UUID objects; compare as text."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return str(value) if type(value).__name__ == "UUID" else value


# ---------------------------------------------------------------- the catalogue

def test_event_names(catalog):
    assert EVENTS <= set(catalog.names())
    assert set(examples()) == EVENTS


@pytest.mark.parametrize("name,fields", [
    ("Metadata", ["event_id", "event_type", "occurred_at", "recorded_at", "source_system", "source_instance",
                  "source_entity_id", "pair_id", "correlation_id"]),
    ("Address", ["name", "company", "line1", "line2", "city", "region", "postal_code", "country", "phone", "email",
                 "region_code", "erp_country"]),
    ("RawStorefrontEvent", ["metadata", "storefront", "entity_type", "entity_id", "trigger", "payload", "fetched_at",
                            "source_version"]),
    ("OrderCustomer", ["storefront_customer_id", "email", "email_key", "first_name", "last_name", "phone", "is_guest",
                       "erp_customer_id", "new_customer_number"]),
    ("OrderLine", ["line_id", "sku", "name", "quantity", "unit_price", "discount", "line_total", "location_code",
                   "item_number"]),
    ("OrderCharge", ["kind", "code", "placement", "amount", "description"]),
    ("Order", ["metadata", "order_id", "order_number", "status", "fulfilment_status", "ready_for_erp",
               "ordered_at", "updated_at", "currency", "customer", "billing_address", "shipping_address", "lines",
               "subtotal", "discount_total", "shipping_total", "tax_total", "total", "tax_included",
               "shipping_method", "ship_via_code", "payment_method", "payment_method_code", "notes",
               "source_version", "charges", "tax_mode", "rate_type", "coupon_codes"]),
    ("Customer", ["metadata", "customer_id", "email", "email_key", "first_name", "last_name", "company", "phone",
                  "is_guest", "billing_address", "shipping_address", "erp_customer_id", "new_customer_number",
                  "created_at", "updated_at", "source_version"]),
    ("Payment", ["metadata", "order_id", "order_number", "transaction_id", "customer", "method", "method_code",
                 "amount", "currency", "captured_at", "bank_code", "receipt_type", "fee_amount",
                 "fee_expense_account", "fee_clearing_account"]),
    ("Refund", ["metadata", "order_id", "order_number", "refund_id", "payment_transaction_id", "customer", "amount",
                "currency", "paid_total", "refunded_total", "lines", "reason", "refunded_at", "gl_account",
                "distribution_code"]),
    ("OrderStatus", ["metadata", "order_id", "order_number", "status", "fulfilment_status", "changed_at",
                     "shipping_status", "payment_status", "order_status", "hold_reason", "reference",
                     "source_version"]),
    ("WriteResult", ["metadata", "target_system", "entity_type", "source_entity_id", "reference", "outcome",
                     "target_document_id", "message", "attempts"]),
])
def test_contract_fields(catalog, name, fields):
    """Other components are coded against these exact field names."""
    assert [f["name"] for f in catalog.latest(name)["fields"]] == fields


def test_full_and_unversioned_names(catalog):
    assert catalog.latest("Order") is catalog.latest("sagebridge.v3.Order")
    assert catalog.get("Order").full_name == "sagebridge.v3.Order"
    for name in ("sagebridge.v1.Order", "sagebridge.v2.Order"):    # still shipped: old records read
        assert catalog.get(name).full_name == name
    for name in ("Customer", "Payment", "Refund"):
        assert catalog.get(name).full_name == f"sagebridge.v2.{name}"


def test_every_event_has_metadata_first(catalog):
    for name in catalog.names():
        first = catalog.latest(name)["fields"][0]
        assert first["name"] == "metadata"
        assert first["type"]["name"] == "sagebridge.v1.Metadata"


def test_one_named_type_per_file_in_its_version_namespace():
    for path in V1_DIR.parent.glob("v*/*.avsc"):
        schema = json.loads(path.read_text())
        assert schema["namespace"] == f"sagebridge.{path.parent.name}"
        assert schema["name"] == path.stem


def _walk(schema: Any):
    yield schema
    if isinstance(schema, list):
        for s in schema:
            yield from _walk(s)
    elif isinstance(schema, dict):
        for key in ("type", "items", "values"):
            if key in schema and not isinstance(schema[key], str):
                yield from _walk(schema[key])
        for field in schema.get("fields", []):
            yield from _walk(field["type"])


def test_money_is_decimal_19_4_and_never_float(catalog):
    decimals = 0
    for entry in catalog.entries():
        for node in _walk(json.loads(entry.schema_json)):
            assert node not in ("float", "double") and not (isinstance(node, dict) and node.get("type") in ("float", "double"))
            if isinstance(node, dict) and node.get("logicalType") == "decimal":
                decimals += 1
                assert (node["type"], node["precision"], node["scale"]) == ("bytes", 19, 4)
    assert decimals > 10


def test_nullable_fields_default_to_null(catalog):
    for entry in catalog.entries():
        for field in entry.schema.get("fields", []):
            if isinstance(field["type"], list):
                assert field["type"][0] == "null" and "default" in field and field["default"] is None, (
                    entry.full_name, field["name"])


# ---------------------------------------------------------------- round trips

@pytest.mark.parametrize("name", CATALOG.names())
def test_realistic_example_round_trips(catalog, name):
    """Every event in the catalogue; a record added without a hand-written example above still gets
    a generated one (add a realistic example when adding a schema)."""
    schema = catalog.latest(name)
    value = examples().get(name) or sample_for(schema)
    decoded = plain(roundtrip(schema, value))
    assert decoded == value
    assert decoded["metadata"]["occurred_at"].tzinfo is not None


def test_decimals_come_back_as_decimal_with_scale_4(catalog):
    decoded = roundtrip(catalog.latest("Order"), order())
    assert isinstance(decoded["total"], Decimal) and decoded["total"] == Decimal("59.7167")
    assert decoded["lines"][0]["unit_price"].as_tuple().exponent == -4
    assert isinstance(roundtrip(catalog.latest("Refund"), examples()["Refund"])["lines"][0]["quantity"], Decimal)


def test_float_for_a_decimal_field_is_rejected(catalog):
    bad = {**examples()["Payment"], "amount": 59.72}
    with pytest.raises(TypeError):
        roundtrip(catalog.latest("Payment"), bad)
    with pytest.raises(Exception, match="amount"):
        SingleObjectSerde(catalog).serialize("Payment", bad)


def test_more_than_four_decimal_places_is_rejected(catalog):
    with pytest.raises(ValueError):
        roundtrip(catalog.latest("Payment"), {**examples()["Payment"], "amount": Decimal("1.23456")})


# ---------------------------------------------------------------- evolution harness

def sample_for(schema: Any, named: dict | None = None) -> Any:
    """A value matching any (parsed) schema: used for versions we have no hand-written example of."""
    named = schema.get("__named_schemas", {}) if named is None and isinstance(schema, dict) else (named or {})
    if isinstance(schema, str):
        if schema in named:
            return sample_for(named[schema], named)
        return {"null": None, "boolean": True, "int": 7, "long": 7, "float": 1.5, "double": 1.5,
                "bytes": b"\x01", "string": "s"}[schema]
    if isinstance(schema, list):
        return sample_for(next((b for b in schema if b != "null"), "null"), named)
    logical = schema.get("logicalType")
    if logical == "decimal":
        return Decimal("12.3456")
    if logical == "timestamp-millis":
        return T0
    if logical == "uuid":
        return "3f1c2b7e-9a4d-4e0b-8c55-2d7f1a9e6b01"
    kind = schema["type"]
    if kind in ("record", "error"):
        return {f["name"]: sample_for(f["type"], named) for f in schema["fields"]}
    if kind == "array":
        return [sample_for(schema["items"], named)]
    if kind == "map":
        return {"k": sample_for(schema["values"], named)}
    if kind == "enum":
        return schema["symbols"][0]
    if kind == "fixed":
        return b"\x00" * schema["size"]
    return sample_for(kind, named)


def check_readable(old_schema: dict, new_schema: dict, sample: dict) -> dict:
    """Write `sample` with `old_schema`, read it with `new_schema` as reader; returns the decoded
    value, or fails with AssertionError saying why the new version cannot read the old one."""
    buf = BytesIO()
    fastavro.schemaless_writer(buf, old_schema, sample)
    buf.seek(0)
    try:
        return fastavro.schemaless_reader(buf, old_schema, new_schema)
    except SchemaResolutionError as e:
        raise AssertionError(f"{new_schema.get('name')} cannot read {old_schema.get('name')}: {e}") from e


def check_catalog_evolution(catalog: SchemaCatalog) -> int:
    """Every shipped version of every record is readable by the next; returns pairs checked."""
    pairs = 0
    for entry in catalog.entries():
        versions = catalog.versions(entry.name)
        if entry is not versions[0]:
            continue
        for old, new in zip(versions, versions[1:]):
            check_readable(old.schema, new.schema, sample_for(old.schema))
            pairs += 1
    return pairs


def test_shipped_versions_are_readable_by_the_next(catalog):
    # v1 → v2 of Order, RawStorefrontEvent, Address, OrderCustomer, OrderLine, Customer, Payment, Refund; v2 → v3
    # of Order; harness proven below
    assert check_catalog_evolution(catalog) >= 9


@pytest.mark.parametrize("name", ["RawStorefrontEvent", "Order"])
def test_records_written_before_source_version_are_read_with_it_empty(catalog, name):
    """`source_version` came with v2: bytes written with v1 (a producer from before a rolling
    upgrade) resolve into v2 with the default."""
    value = {k: v for k, v in (order_v2() if name == "Order" else examples()[name]).items() if k != "source_version"}
    decoded = check_readable(catalog.latest(f"sagebridge.v1.{name}"), catalog.latest(f"sagebridge.v2.{name}"), value)
    assert decoded["source_version"] == "" and plain(decoded) == {**value, "source_version": ""}


def test_v2_orders_are_read_as_v3_with_the_new_fields_defaulted(catalog):
    """Orders in the topic from before the upgrade decode with the v3 reader: an empty charge list,
    tax mode store, no rate type, empty item numbers and e-mail keys (the writer derives them)."""
    decoded = plain(check_readable(catalog.latest("sagebridge.v2.Order"), catalog.latest("Order"), order_v2()))
    assert (decoded["charges"], decoded["tax_mode"], decoded["rate_type"], decoded["coupon_codes"]) == (
        [], "store", None, [])
    assert decoded["customer"]["erp_customer_id"] == "ADA001" and decoded["customer"]["email_key"] == ""
    assert decoded["customer"]["is_guest"] is False and decoded["customer"]["new_customer_number"] is None
    assert decoded["lines"][0]["item_number"] == "" and decoded["lines"][0]["sku"] == "TEA-EG-250"
    assert decoded["shipping_address"]["region_code"] is None and decoded["shipping_address"]["line2"] == "Flat 3"
    assert decoded["total"] == Decimal("59.7167")


def test_v2_order_statuses_are_read_as_v3_with_no_store_order_status(catalog):
    """Statuses in the topic from before the upgrade (X-Cart codes only) decode with the v3 reader."""
    assert catalog.get("OrderStatus").full_name == "sagebridge.v3.OrderStatus"
    v2 = {k: v for k, v in examples()["OrderStatus"].items() if k != "order_status"}
    decoded = plain(check_readable(catalog.latest("sagebridge.v2.OrderStatus"), catalog.latest("OrderStatus"), v2))
    assert decoded == {**v2, "order_status": None}


def test_sample_for_matches_every_shipped_schema(catalog):
    for entry in catalog.entries():
        assert plain(roundtrip(entry.schema, sample_for(entry.schema))) == sample_for(entry.schema)


def _derive_v2(tmp_path: Path, new_field: dict, into: str = "Order") -> Path:
    """Copy v1 as v2 (namespace renamed) and add `new_field` to one record."""
    root = tmp_path / "avro"
    shutil.copytree(V1_DIR, root / "v1")
    (root / "v2").mkdir()
    for path in V1_DIR.glob("*.avsc"):
        schema = json.loads(path.read_text().replace("sagebridge.v1", "sagebridge.v2"))
        if schema["name"] == into:
            schema["fields"].append(new_field)
        (root / "v2" / path.name).write_text(json.dumps(schema, indent=2))
    return root


NULLABLE_FIELD = {"name": "gift_message", "type": ["null", "string"], "default": None}
REQUIRED_FIELD = {"name": "warehouse", "type": "string"}


def test_harness_accepts_a_nullable_field_with_default(tmp_path):
    cat = SchemaCatalog.load(_derive_v2(tmp_path, NULLABLE_FIELD))
    decoded = check_readable(cat.latest("sagebridge.v1.Order"), cat.latest("Order"), order_v2())
    assert decoded["gift_message"] is None
    assert check_catalog_evolution(cat) == len(list(V1_DIR.glob("*.avsc")))


def test_harness_detects_a_required_field_without_default(tmp_path):
    cat = SchemaCatalog.load(_derive_v2(tmp_path, REQUIRED_FIELD))
    with pytest.raises(AssertionError, match="warehouse"):
        check_readable(cat.latest("sagebridge.v1.Order"), cat.latest("Order"), order_v2())
    with pytest.raises(AssertionError, match="cannot read"):
        check_catalog_evolution(cat)


def test_catalog_decodes_v1_bytes_into_the_v2_reader(tmp_path):
    cat = SchemaCatalog.load(_derive_v2(tmp_path, NULLABLE_FIELD))
    assert cat.get("Order").full_name == "sagebridge.v2.Order"
    assert cat.reader_for("sagebridge.v1.Order") is cat.latest("sagebridge.v2.Order")
    serde = SingleObjectSerde(cat)
    v1_bytes = serde.serialize("sagebridge.v1.Order", order_v2())
    assert cat.by_fingerprint(v1_bytes[2:10])[0] == "sagebridge.v1.Order"
    name, value = serde.deserialize(v1_bytes)
    assert name == "sagebridge.v1.Order"
    assert value["gift_message"] is None
    assert value["shipping_address"]["line2"] == "Flat 3" and value["total"] == Decimal("59.7167")
    v1_shape = {k: v for k, v in order_v2().items() if k != "source_version"}    # v1 has no source_version
    assert {k: v for k, v in value.items() if k != "gift_message"} == v1_shape


def test_copying_a_version_without_renaming_the_namespace_is_refused(tmp_path):
    root = tmp_path / "avro"
    shutil.copytree(V1_DIR, root / "v1")
    shutil.copytree(V1_DIR, root / "v2")
    with pytest.raises(SchemaCatalogError, match="namespace sagebridge.v2"):
        SchemaCatalog.load(root)


def test_unknown_reference_is_refused(tmp_path):
    root = tmp_path / "avro"
    (root / "v1").mkdir(parents=True)
    (root / "v1" / "X.avsc").write_text(json.dumps({
        "type": "record", "name": "X", "namespace": "sagebridge.v1",
        "fields": [{"name": "metadata", "type": "sagebridge.v1.Nope"}]}))
    with pytest.raises(SchemaCatalogError, match="Nope"):
        SchemaCatalog.load(root)


def test_env_var_selects_the_schemas_dir(tmp_path, monkeypatch):
    root = _derive_v2(tmp_path, NULLABLE_FIELD)
    monkeypatch.setenv("SAGEBRIDGE_SCHEMAS_DIR", str(root))
    assert SchemaCatalog.load().get("Order").version == 2
