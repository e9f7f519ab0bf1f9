"""The schema catalogue: every Avro schema shipped with the code, all versions, by name and fingerprint.

Why a catalogue rather than `fastavro.schema.load_schema` per file: single-object encoding identifies
the writer schema only by a 64-bit fingerprint, so a consumer must be able to find *any* shipped
version from its fingerprint and pair it with the *newest* version of the same record as reader.

Layout: `<root>/v1/*.avsc`, `<root>/v2/*.avsc`, ... one named type per file, namespace
`sagebridge.vN` matching the folder. Files reference each other's types by full name
(`sagebridge.v1.Metadata`); a later version may also reference an unchanged type of an earlier one.
Each top-level schema is expanded into a self-contained schema (first use of a named type inlined,
later uses by name), because the fingerprint is defined over the Parsing Canonical Form of the
complete schema and because a Schema Registry needs the complete schema too.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastavro
from fastavro.schema import fingerprint as _fastavro_fingerprint
from fastavro.schema import to_parsing_canonical_form

from .errors import PermanentError

ENV_SCHEMAS_DIR = "SAGEBRIDGE_SCHEMAS_DIR"
NAMESPACE_PREFIX = "sagebridge"
PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
_NAMED = frozenset({"record", "error", "enum", "fixed"})
_VERSION_DIR = re.compile(r"^v(\d+)$")


class SchemaCatalogError(Exception):
    """The shipped schemas are inconsistent (bad JSON, duplicate or unknown names). A deploy bug:
    raised at load time so it fails start-up, never per message."""


class UnknownSchemaError(PermanentError):
    """Bytes (or a caller) name a schema this code does not ship and the registry does not know.
    Permanent: retrying the same bytes cannot make the schema appear."""

    reason = "unknown_schema"


@dataclass(frozen=True)
class SchemaEntry:
    """One shipped version of one named type."""

    full_name: str          # e.g. sagebridge.v1.Order
    name: str               # e.g. Order
    version: int            # from the vN folder
    schema: dict            # fastavro-parsed, self-contained
    schema_json: str        # the expanded schema as JSON text (what a Schema Registry is given)
    canonical_form: str     # Avro Parsing Canonical Form
    fingerprint: bytes      # CRC-64-AVRO of the canonical form, 8 bytes little-endian
    is_event: bool          # a top-level event record (first field is `metadata`)


def crc64_avro_fingerprint(canonical_form: str) -> bytes:
    """CRC-64-AVRO (Rabin) fingerprint, 8 bytes little-endian as single-object encoding requires.
    fastavro already returns the hex of the little-endian bytes (like the Java implementation)."""
    return bytes.fromhex(_fastavro_fingerprint(canonical_form, "CRC-64-AVRO"))


def default_schemas_root() -> Path:
    """`$SAGEBRIDGE_SCHEMAS_DIR`, else the repo's `schemas/avro` found by walking up from here, so
    tests, services and scripts all see the same schemas without configuration."""
    env = os.environ.get(ENV_SCHEMAS_DIR)
    if env:
        return Path(env)
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "schemas" / "avro"
        if candidate.is_dir():
            return candidate
    raise SchemaCatalogError(f"no schemas/avro found above {__file__}; set {ENV_SCHEMAS_DIR}")


def _qualify(name: str, namespace: str | None) -> str:
    if "." in name or not namespace:
        return name
    return f"{namespace}.{name}"


def _namespace_of(full_name: str) -> str | None:
    return full_name.rpartition(".")[0] or None


def _definition_name(schema: dict, namespace: str | None) -> str:
    return _qualify(schema["name"], schema.get("namespace", namespace))


@dataclass
class _RawDef:
    full_name: str
    version: int
    schema: dict
    path: Path


def _collect_definitions(schema: Any, namespace: str | None, version: int, path: Path,
                         out: dict[str, _RawDef]) -> None:
    """Record every named type defined (inline) anywhere in `schema`."""
    if isinstance(schema, list):
        for branch in schema:
            _collect_definitions(branch, namespace, version, path, out)
        return
    if not isinstance(schema, dict):
        return
    kind = schema.get("type")
    if kind in _NAMED:
        full = _definition_name(schema, namespace)
        if full in out:
            raise SchemaCatalogError(f"{full} defined twice: {out[full].path} and {path}")
        out[full] = _RawDef(full, version, schema, path)
        for field in schema.get("fields", []):
            _collect_definitions(field["type"], _namespace_of(full), version, path, out)
    elif kind == "array":
        _collect_definitions(schema["items"], namespace, version, path, out)
    elif kind == "map":
        _collect_definitions(schema["values"], namespace, version, path, out)
    elif isinstance(kind, (dict, list)):
        _collect_definitions(kind, namespace, version, path, out)


class _Expander:
    """Inline referenced named types, in dependency order, into one self-contained schema."""

    def __init__(self, defs: dict[str, _RawDef]) -> None:
        self.defs = defs

    def expand(self, full_name: str) -> dict:
        return self._type(self.defs[full_name].schema, _namespace_of(full_name), set(), full_name)

    def _type(self, schema: Any, namespace: str | None, seen: set[str], where: str) -> Any:
        if isinstance(schema, str):
            return self._reference(schema, namespace, seen, where)
        if isinstance(schema, list):
            return [self._type(b, namespace, seen, where) for b in schema]
        kind = schema.get("type")
        if kind in _NAMED:
            return self._named(schema, namespace, seen)
        if kind == "array":
            return {**schema, "items": self._type(schema["items"], namespace, seen, where)}
        if kind == "map":
            return {**schema, "values": self._type(schema["values"], namespace, seen, where)}
        if isinstance(kind, (dict, list)) or (isinstance(kind, str) and kind not in PRIMITIVES):
            return self._type(kind, namespace, seen, where)
        return dict(schema)

    def _reference(self, name: str, namespace: str | None, seen: set[str], where: str) -> Any:
        if name in PRIMITIVES:
            return name
        full = name if name in self.defs else _qualify(name, namespace)
        if full in seen:
            return full
        if full not in self.defs:
            raise SchemaCatalogError(f"{where} references unknown type {name!r}")
        return self._named(self.defs[full].schema, _namespace_of(full), seen)

    def _named(self, schema: dict, namespace: str | None, seen: set[str]) -> Any:
        full = _definition_name(schema, namespace)
        if full in seen:
            return full
        seen.add(full)
        out = {k: v for k, v in schema.items() if k != "namespace"}
        out["name"] = full
        if "fields" in schema:
            inner_ns = _namespace_of(full)
            out["fields"] = [{**f, "type": self._type(f["type"], inner_ns, seen, full)}
                             for f in schema["fields"]]
        return out


def _version_dirs(root: Path) -> list[tuple[int, Path]]:
    found = []
    for child in root.iterdir():
        m = _VERSION_DIR.match(child.name)
        if child.is_dir() and m:
            found.append((int(m.group(1)), child))
    if not found:
        raise SchemaCatalogError(f"no version folders (v1, v2, ...) under {root}")
    return sorted(found)


def _read_definitions(root: Path) -> dict[str, _RawDef]:
    defs: dict[str, _RawDef] = {}
    for version, folder in _version_dirs(root):
        expected_ns = f"{NAMESPACE_PREFIX}.v{version}"
        for path in sorted(folder.rglob("*.avsc")):
            try:
                schema = json.loads(path.read_text())
            except (OSError, ValueError) as e:
                raise SchemaCatalogError(f"cannot read {path}: {e}") from e
            if not isinstance(schema, dict) or schema.get("type") not in _NAMED:
                raise SchemaCatalogError(f"{path}: top level must be a named type")
            full = _definition_name(schema, None)
            if _namespace_of(full) != expected_ns:
                raise SchemaCatalogError(f"{path}: {full} must be in namespace {expected_ns}")
            _collect_definitions(schema, None, version, path, defs)
    return defs


def _is_event(schema: dict) -> bool:
    fields = schema.get("fields") or []
    return bool(fields) and fields[0]["name"] == "metadata"


def _build_entry(raw: _RawDef, expander: _Expander) -> SchemaEntry:
    expanded = expander.expand(raw.full_name)
    try:
        parsed = fastavro.parse_schema(expanded)
        canonical = to_parsing_canonical_form(expanded)
    except Exception as e:  # fastavro raises several types for a bad schema
        raise SchemaCatalogError(f"{raw.path}: invalid schema {raw.full_name}: {e}") from e
    return SchemaEntry(
        full_name=raw.full_name, name=raw.full_name.rpartition(".")[2], version=raw.version,
        schema=parsed, schema_json=json.dumps(expanded, separators=(",", ":")),
        canonical_form=canonical, fingerprint=crc64_avro_fingerprint(canonical),
        is_event=_is_event(expanded),
    )


def entry_from_json(schema_json: str, origin: str = "external") -> SchemaEntry:
    """Build an entry from a complete, self-contained schema text (e.g. one fetched from a Schema
    Registry), so registry schemas and shipped ones are compared by the same fingerprint."""
    try:
        raw = json.loads(schema_json)
        if not isinstance(raw, dict) or raw.get("type") not in _NAMED:
            raise ValueError("top level is not a named type")
        defs: dict[str, _RawDef] = {}
        _collect_definitions(raw, None, 0, Path(origin), defs)
        return _build_entry(defs[_definition_name(raw, None)], _Expander(defs))
    except (ValueError, KeyError, TypeError, SchemaCatalogError) as e:
        raise SchemaCatalogError(f"{origin}: not a usable Avro schema: {e}") from e


class SchemaCatalog:
    """All shipped schema versions, indexed by full name, simple name and fingerprint.
    Immutable after load, so it is safe to share between threads."""

    def __init__(self, entries: list[SchemaEntry]) -> None:
        self._by_full = {e.full_name: e for e in entries}
        self._by_fp: dict[bytes, SchemaEntry] = {}
        for e in entries:
            other = self._by_fp.setdefault(e.fingerprint, e)
            if other is not e:  # same canonical form under two names: reading would be ambiguous
                raise SchemaCatalogError(f"{e.full_name} and {other.full_name} share a fingerprint")
        self._versions: dict[str, list[SchemaEntry]] = {}
        for e in sorted(entries, key=lambda e: e.version):
            self._versions.setdefault(e.name, []).append(e)
        self._lookup = {**{n: vs[-1] for n, vs in self._versions.items()}, **self._by_full}

    @classmethod
    def load(cls, root: Path | None = None) -> "SchemaCatalog":
        """Load every `vN/*.avsc` under `root` (default: see `default_schemas_root`)."""
        root = Path(root) if root is not None else default_schemas_root()
        if not root.is_dir():
            raise SchemaCatalogError(f"schemas root {root} is not a directory")
        defs = _read_definitions(root)
        expander = _Expander(defs)
        return cls([_build_entry(raw, expander) for raw in defs.values()])

    def get(self, name: str) -> SchemaEntry:
        """Entry for `Order` (newest version) or `sagebridge.v1.Order` (exactly that version)."""
        try:
            return self._lookup[name]
        except KeyError:
            raise UnknownSchemaError(f"no schema named {name!r} in the catalogue") from None

    def latest(self, name: str) -> dict:
        """Parsed schema for `name`; unversioned names pick the highest version."""
        return self.get(name).schema

    def by_fingerprint(self, fp: bytes) -> tuple[str, dict]:
        """(full name, parsed writer schema) for a CRC-64-AVRO fingerprint of any shipped version."""
        entry = self.entry_by_fingerprint(fp)
        return entry.full_name, entry.schema

    def entry_by_fingerprint(self, fp: bytes) -> SchemaEntry:
        try:
            return self._by_fp[bytes(fp)]
        except KeyError:
            raise UnknownSchemaError(
                f"unknown schema fingerprint {bytes(fp).hex()}: not shipped with this code") from None

    def reader_entry_for(self, writer_full_name: str) -> SchemaEntry:
        """The newest version of the writer's record (same simple name)."""
        simple = writer_full_name.rpartition(".")[2]
        versions = self._versions.get(simple)
        if not versions:
            raise UnknownSchemaError(f"no schema named {simple!r} in the catalogue")
        return versions[-1]

    def reader_for(self, writer_full_name: str) -> dict:
        """Parsed newest-version schema used as reader for data written with `writer_full_name`."""
        return self.reader_entry_for(writer_full_name).schema

    def versions(self, name: str) -> list[SchemaEntry]:
        """Every shipped version of a record, oldest first (for evolution checks)."""
        return list(self._versions.get(name.rpartition(".")[2], []))

    def names(self) -> list[str]:
        """Simple names of the top-level event records (those whose first field is `metadata`)."""
        return sorted(n for n, vs in self._versions.items() if vs[-1].is_event)

    def entries(self) -> list[SchemaEntry]:
        return list(self._by_full.values())
