"""One validated configuration per integration pair; many pairs per deployment.

A pair file (YAML) names the storefront and ERP connector kinds with their connection blocks, the
store instance, the reference prefix, the store's time zone and currency, and the mapping tables.
It is validated once at start by typed models that forbid unknown keys; each connector kind brings
the model of its own block (`registry.register_config`). A wrong file stops the service with the
key, the line and what was expected (`pair_file.py`).

`PAIRS_PATH` names one pair file or a directory of them (`*.yaml`, `*.yml`). `PAIR_ID`, when set,
selects one pair and must match a file's `pair:`; unset, the service serves every pair found.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from . import registry
from .pair_file import PairFileError, format_errors, read_pair_file
from .pair_mapping import MappingTables

PAIR_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"


def _compiles(value: str) -> str:
    try:
        re.compile(value)
    except re.error as e:
        raise ValueError(f"not a valid regular expression: {e}") from None
    return value


# A pair-file value that is a regular expression (an ERP's wording of a refusal, ...): refused at load
# when it does not compile, instead of failing on the first write that needs it.
RegexText = Annotated[str, AfterValidator(_compiles)]


class ConnectorConfig(BaseModel):
    """Base of every connector block: `kind` picks the connector package."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: str


class PairConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    pair: str = Field(pattern=PAIR_ID_PATTERN, description="Pair id: routes events, names groups and webhook URLs.")
    reference_prefix: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,9}$",
                                  description="Prefix of every ERP reference of this pair (e.g. XC1-), so store "
                                              "order 1001 cannot collide with a POS or another store's 1001.")
    store_time_zone: str = Field(description="IANA zone of the store (e.g. America/New_York): local dates at the edges.")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="The store's ISO 4217 currency.")
    storefront: ConnectorConfig
    erp: ConnectorConfig
    mapping: MappingTables

    @field_validator("store_time_zone")
    @classmethod
    def _zone_exists(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (use an IANA name such as Europe/London)") from None
        return v

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.store_time_zone)

    def reference(self, store_number: str) -> str:
        """The ERP reference of a store document: prefix + the store's number."""
        return f"{self.reference_prefix}{store_number}"


def _block(path: Path, data: dict, lines: dict, side: registry.Side) -> ConnectorConfig:
    block = data.get(side)
    if not isinstance(block, dict) or not isinstance(block.get("kind"), str):
        raise PairFileError(f"{path}:{lines.get((side,), 0)}: {side}: a mapping with a `kind:` "
                            f"(known kinds: {', '.join(registry.known_kinds()) or 'none'})")
    try:
        model = registry.config_model(side, block["kind"])
    except registry.UnknownConnector as e:
        raise PairFileError(f"{path}:{lines.get((side, 'kind'), 0)}: {side}.kind: {e}") from None
    try:
        return model.model_validate(block)
    except ValidationError as e:
        raise PairFileError(format_errors(path, e.errors(), lines, prefix=(side,))) from None


def load_pair_file(path: str | Path) -> PairConfig:
    path = Path(path)
    data, lines = read_pair_file(path)
    blocks = {side: _block(path, data, lines, side) for side in ("storefront", "erp")}
    try:
        return PairConfig.model_validate({**data, **blocks})
    except ValidationError as e:
        raise PairFileError(format_errors(path, e.errors(), lines)) from None


def pair_files(path: str | Path) -> list[Path]:
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.suffix in (".yaml", ".yml") and f.is_file())
        if not files:
            raise PairFileError(f"{p}: no pair files (*.yaml) in this directory")
        return files
    if not p.is_file():
        raise PairFileError(f"{p}: no such pair file or directory (relative paths start at the working "
                            f"directory, {Path.cwd()})")
    return [p]


def load_pairs(path: str | Path, pair_id: str | None = None) -> dict[str, PairConfig]:
    """Every pair under `path`, by id; only `pair_id`'s when given (it must exist)."""
    pairs: dict[str, PairConfig] = {}
    for f in pair_files(path):
        cfg = load_pair_file(f)
        if cfg.pair in pairs:
            raise PairFileError(f"{f}: pair {cfg.pair!r} is also defined in another file under {path}")
        pairs[cfg.pair] = cfg
    if pair_id is None:
        return pairs
    if pair_id not in pairs:
        raise PairFileError(f"PAIR_ID={pair_id!r} matches no pair under {path} (found: {', '.join(sorted(pairs))})")
    return {pair_id: pairs[pair_id]}
