"""Avro encoders/decoders for Kafka values: Confluent framing or Avro single-object encoding.

Why two formats (design.md, Events): with a Schema Registry configured, other Kafka tooling expects
Confluent framing (magic 0 + 4-byte big-endian schema id); without one, the Avro spec's
single-object encoding (C3 01 + 8-byte little-endian CRC-64-AVRO fingerprint) is self-describing
against the schemas shipped with the code. Either way, bytes are read with the writer's schema and
resolved into the newest shipped version of the record, so consumers only ever see the latest shape.

Values are plain dicts: `decimal.Decimal` for decimals, tz-aware UTC `datetime` for timestamps
(naive datetimes are encoded as UTC). `metadata.event_id` is decoded as `str` (fastavro would give
`uuid.UUID`) so it compares equal to what producers put in and serialises to JSON/log lines as is.

Decoding failures are PermanentError subclasses (the bytes will never get better); registry
outages are TransientError (the message is fine, the registry is not). An unknown writer schema
(a fingerprint not shipped with this code, an id the registry does not know) is the exception: in
a rolling upgrade a newer producer writes before every consumer runs the new code, so it is a
BudgetedError, retried for UNKNOWN_SCHEMA_RETRY_BUDGET_S before the record is dead-lettered.
"""
from __future__ import annotations

import struct
from io import BytesIO
from typing import Protocol
from uuid import UUID

import fastavro
from fastavro.validation import validate as _fastavro_validate

from .errors import BudgetedError, PermanentError
from .schema_registry import SchemaRegistryClient
from .schemas import SchemaCatalog, SchemaCatalogError, SchemaEntry, UnknownSchemaError, entry_from_json

__all__ = [
    "ConfluentSerde", "MalformedPayloadError", "Serde", "SingleObjectSerde", "UnknownSchemaError",
    "UnknownWriterSchemaError", "make_serde", "SINGLE_OBJECT_MARKER", "CONFLUENT_MAGIC",
]

SINGLE_OBJECT_MARKER = b"\xc3\x01"
SINGLE_OBJECT_HEADER = len(SINGLE_OBJECT_MARKER) + 8
CONFLUENT_MAGIC = 0
CONFLUENT_HEADER = 5
_DECODE_ERRORS = (EOFError, ValueError, TypeError, IndexError, KeyError, StopIteration,
                  UnicodeDecodeError, OverflowError, struct.error)
_ENCODE_ERRORS = (ValueError, TypeError, AttributeError, KeyError, OverflowError, struct.error)


class MalformedPayloadError(PermanentError):
    """The bytes are not a valid encoding (wrong marker, truncated, corrupt). Dead-letter them."""

    reason = "malformed_payload"


class UnknownWriterSchemaError(BudgetedError):
    """The bytes name a writer schema this process cannot find. Usually a producer already running
    a newer release; the record waits (holding its key) for the budget, then goes to the DLQ."""

    reason = "unknown_schema"

    def __init__(self, message: str) -> None:
        super().__init__(message, budget="unknown_schema", reason="unknown_schema")


class SchemaResolutionFailed(PermanentError):
    """Writer and reader versions are incompatible: a shipped-schema bug, not fixable by retry."""

    reason = "schema_resolution"


class Serde(Protocol):
    def serialize(self, name: str, value: dict) -> bytes: ...
    def deserialize(self, data: bytes) -> tuple[str, dict]: ...


def _write_body(buf: BytesIO, entry: SchemaEntry, value: dict, validate: bool) -> None:
    """Schemaless-encode `value`; on failure re-run fastavro's validator for a message with the
    field path (validation is only paid for on the error path unless `validate` is set)."""
    if validate:
        _raise_if_invalid(entry, value, None)
    try:
        fastavro.schemaless_writer(buf, entry.schema, value)
    except _ENCODE_ERRORS as e:
        _raise_if_invalid(entry, value, e)
        raise PermanentError(f"cannot encode {entry.full_name}: {e}", reason="invalid_value") from e


def _raise_if_invalid(entry: SchemaEntry, value: object, cause: Exception | None) -> None:
    try:
        _fastavro_validate(value, entry.schema, raise_errors=True)
    except Exception as e:  # ValidationError, or the validator itself choking on the value
        message = "; ".join(_describe(x) for x in (getattr(e, "errors", None) or [e]))
        raise PermanentError(f"invalid {entry.full_name}: {message}", reason="invalid_value") from (cause or e)


def _type_label(schema: object) -> str:
    if isinstance(schema, list):
        return " | ".join(_type_label(s) for s in schema)
    if isinstance(schema, dict):
        return str(schema.get("logicalType") or schema.get("name") or schema.get("type"))
    return str(schema)


def _describe(error: object) -> str:
    """`Order.lines.quantity is 1.5 (float), expected decimal`, not fastavro's whole-schema dump."""
    field = getattr(error, "field", None)
    if field is None:
        return str(error)
    datum = getattr(error, "datum", None)
    return f"{field} is {datum!r:.80} ({type(datum).__name__}), expected {_type_label(getattr(error, 'schema', None))}"


def _read_body(data: bytes, offset: int, writer: SchemaEntry, reader: SchemaEntry) -> dict:
    """Decode with schema resolution; any trailing byte means the payload is corrupt."""
    buf = BytesIO(data)
    buf.seek(offset)
    reader_schema = None if reader is writer else reader.schema
    try:
        value = fastavro.schemaless_reader(buf, writer.schema, reader_schema)
    except fastavro.read.SchemaResolutionError as e:
        raise SchemaResolutionFailed(
            f"cannot read {writer.full_name} as {reader.full_name}: {e}") from e
    except _DECODE_ERRORS as e:
        raise MalformedPayloadError(f"corrupt or truncated {writer.full_name} payload: {e!r}") from e
    if buf.tell() != len(data):
        raise MalformedPayloadError(
            f"{len(data) - buf.tell()} trailing bytes after {writer.full_name} payload")
    return _normalise(value)


def _normalise(value: dict) -> dict:
    metadata = value.get("metadata") if isinstance(value, dict) else None
    if isinstance(metadata, dict) and isinstance(metadata.get("event_id"), UUID):
        metadata["event_id"] = str(metadata["event_id"])
    return value


class SingleObjectSerde:
    """Avro single-object encoding against the shipped catalogue (no registry needed)."""

    def __init__(self, catalog: SchemaCatalog, *, validate: bool = False) -> None:
        self.catalog = catalog
        self.validate = validate

    def serialize(self, name: str, value: dict) -> bytes:
        """`C3 01` + fingerprint + body, using the newest version for unversioned `name`."""
        entry = self.catalog.get(name)
        buf = BytesIO()
        buf.write(SINGLE_OBJECT_MARKER)
        buf.write(entry.fingerprint)
        _write_body(buf, entry, value, self.validate)
        return buf.getvalue()

    def deserialize(self, data: bytes) -> tuple[str, dict]:
        """(writer record full name, value resolved into the newest version of that record)."""
        if len(data) < SINGLE_OBJECT_HEADER or data[:2] != SINGLE_OBJECT_MARKER:
            raise MalformedPayloadError(_bad_marker(data))
        try:
            writer = self.catalog.entry_by_fingerprint(data[2:SINGLE_OBJECT_HEADER])
        except UnknownSchemaError as e:
            raise UnknownWriterSchemaError(str(e)) from None
        reader = self.catalog.reader_entry_for(writer.full_name)
        return writer.full_name, _read_body(data, SINGLE_OBJECT_HEADER, writer, reader)


def _bad_marker(data: bytes) -> str:
    head = bytes(data[:SINGLE_OBJECT_HEADER]).hex()
    if data[:1] == bytes([CONFLUENT_MAGIC]) and len(data) >= CONFLUENT_HEADER:
        return (f"not Avro single-object encoding (starts {head}); looks like Confluent framing: "
                "is schema_registry_url configured on the producer but not here?")
    return f"not Avro single-object encoding: expected C3 01 + 8-byte fingerprint, got {head!r} ({len(data)} bytes)"


class ConfluentSerde:
    """Confluent wire format; subject = RecordNameStrategy (the record's full name).
    Ids are cached both ways, so the registry is called once per schema per process."""

    def __init__(self, catalog: SchemaCatalog, registry: SchemaRegistryClient, *,
                 validate: bool = False) -> None:
        self.catalog = catalog
        self.registry = registry
        self.validate = validate
        self._id_by_name: dict[str, int] = {}
        self._writer_by_id: dict[int, SchemaEntry] = {}
        self._single_object = SingleObjectSerde(catalog)

    def serialize(self, name: str, value: dict) -> bytes:
        entry = self.catalog.get(name)
        buf = BytesIO()
        buf.write(struct.pack(">bI", CONFLUENT_MAGIC, self._schema_id(entry)))
        _write_body(buf, entry, value, self.validate)
        return buf.getvalue()

    def deserialize(self, data: bytes) -> tuple[str, dict]:
        """Also accepts single-object bytes, so topics survive switching a registry on."""
        if data[:2] == SINGLE_OBJECT_MARKER:
            return self._single_object.deserialize(data)
        if len(data) < CONFLUENT_HEADER or data[0] != CONFLUENT_MAGIC:
            raise MalformedPayloadError(
                f"not Confluent framing: expected magic 0 + 4-byte id, got {bytes(data[:5]).hex()!r}")
        (schema_id,) = struct.unpack_from(">I", data, 1)
        writer = self._writer(schema_id)
        reader = self._reader_for(writer)
        return writer.full_name, _read_body(data, CONFLUENT_HEADER, writer, reader)

    def _schema_id(self, entry: SchemaEntry) -> int:
        schema_id = self._id_by_name.get(entry.full_name)
        if schema_id is None:
            schema_id = self.registry.register(entry.full_name, entry.schema_json)
            self._id_by_name[entry.full_name] = schema_id
            self._writer_by_id.setdefault(schema_id, entry)
        return schema_id

    def _writer(self, schema_id: int) -> SchemaEntry:
        entry = self._writer_by_id.get(schema_id)
        if entry is None:
            entry = self._entry_from_registry(schema_id)
            self._writer_by_id[schema_id] = entry
        return entry

    def _entry_from_registry(self, schema_id: int) -> SchemaEntry:
        """Prefer the catalogue's entry (same fingerprint); otherwise trust the registry's schema,
        e.g. one written by a newer producer than this code."""
        try:
            schema_json = self.registry.get_schema(schema_id)
        except UnknownSchemaError as e:
            raise UnknownWriterSchemaError(f"unknown schema registry id {schema_id}: {e}") from e
        try:
            remote = entry_from_json(schema_json, origin=f"registry schema id {schema_id}")
        except SchemaCatalogError as e:
            raise MalformedPayloadError(str(e)) from e
        try:
            return self.catalog.entry_by_fingerprint(remote.fingerprint)
        except UnknownSchemaError:
            return remote

    def _reader_for(self, writer: SchemaEntry) -> SchemaEntry:
        try:
            return self.catalog.reader_entry_for(writer.full_name)
        except UnknownSchemaError:
            return writer


def make_serde(catalog: SchemaCatalog, schema_registry_url: str | None,
               auth: tuple[str, str] | None = None) -> Serde:
    """Confluent framing when a registry URL is configured, else single-object encoding."""
    if schema_registry_url:
        return ConfluentSerde(catalog, SchemaRegistryClient(schema_registry_url, auth=auth))
    return SingleObjectSerde(catalog)


def serde_from_settings(settings, catalog: SchemaCatalog | None = None) -> Serde:
    """The serde a service's settings describe (registry URL and its basic-auth login, if any)."""
    auth = None
    if settings.schema_registry_username and settings.schema_registry_password:
        auth = (settings.schema_registry_username, settings.schema_registry_password.get_secret_value())
    return make_serde(catalog or SchemaCatalog.load(), settings.schema_registry_url, auth)
