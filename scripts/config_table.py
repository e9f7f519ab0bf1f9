"""Prints the README's configuration table from the settings classes, so the table cannot drift
from the code (tests/test_docs.py checks that every variable is documented). `--write` updates README.md in place."""
from __future__ import annotations

import sys
from pathlib import Path

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

import typing

from sagebridge_common.pair_mapping import MappingTables
from sagebridge_common.pairs import PairConfig
from sagebridge_common.settings import Settings
from sagebridge_connectors.sage300.config import Sage300Config
from sagebridge_connectors.intacct.config import IntacctConfig
from sagebridge_connectors.sagepro.config import SageProConfig
from sagebridge_connectors.shift4shop.config import Shift4ShopStorefrontConfig
from sagebridge_connectors.threedcart.config import ThreeDCartStorefrontConfig
from sagebridge_connectors.xcart.config import XCartStorefrontConfig
from sagebridge_erp_cdc.config import ErpCdcSettings
from sagebridge_erp_writer.config import ErpWriterSettings
from sagebridge_ingest.config import IngestSettings
from sagebridge_storefront_writer.config import StorefrontWriterSettings
from sagebridge_transform.config import TransformSettings

SCOPES = [("all services", Settings), ("ingest", IngestSettings), ("transform", TransformSettings),
          ("erp-writer", ErpWriterSettings), ("erp-cdc", ErpCdcSettings),
          ("storefront-writer", StorefrontWriterSettings)]


def rows() -> list[tuple[str, str, str, str]]:
    out, seen = [], set()
    for scope, cls in SCOPES:
        for name, field in cls.model_fields.items():
            if name in seen and scope != "all services":
                continue
            seen.add(name)
            default = field.default
            shown = "" if default is None else ("(secret)" if "Secret" in type(default).__name__ else str(default))
            out.append((name.upper(), scope, shown, field.description or ""))
    return out


PAIR_BLOCKS: list[tuple[str, str, type[BaseModel]]] = [
    ("", "all pairs", PairConfig), ("storefront.", "xcart", XCartStorefrontConfig),
    ("storefront.", "shift4shop", Shift4ShopStorefrontConfig), ("storefront.", "threedcart", ThreeDCartStorefrontConfig),
    ("erp.", "sage300", Sage300Config), ("erp.", "intacct", IntacctConfig), ("erp.", "sagepro", SageProConfig),
    ("mapping.", "all pairs", MappingTables)]
_NESTED = {"storefront", "erp", "mapping"}


def _is_model(candidate) -> bool:
    return isinstance(candidate, type) and issubclass(candidate, BaseModel)


def _block_model(field) -> type[BaseModel] | None:
    """The model of a nested block (`items:`, `order_charges.handling:` ...), also inside `X | None`."""
    if typing.get_origin(field.annotation) is dict:
        return None
    return next((c for c in (field.annotation, *typing.get_args(field.annotation)) if _is_model(c)), None)


def _table_model(field) -> type[BaseModel] | None:
    """The value model of a table keyed by the merchant's codes (`payments.methods.<code>:`)."""
    args = typing.get_args(field.annotation)
    return args[1] if typing.get_origin(field.annotation) is dict and _is_model(args[1]) else None


def _shown(field) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "required"
    default = field.default_factory() if field.default_factory is not None else field.default
    if default is None:
        return ""
    if "Secret" in type(default).__name__:
        return "(secret)"
    return str(list(default) if isinstance(default, tuple) else default)


def pair_rows() -> list[tuple[str, str, str, str]]:
    """Every key of a pair file: the top level, each connector kind's block, the mapping tables."""
    out = []
    blocks = list(PAIR_BLOCKS)
    while blocks:
        prefix, kind, model = blocks.pop(0)
        nested = []
        for attr, field in model.model_fields.items():
            name = field.alias or attr          # the key as written in the file (`schema`, not `schema_name`)
            if name in _NESTED and prefix == "":
                continue
            sub = _block_model(field)
            if sub is not None:
                nested.append((f"{prefix}{name}.", kind, sub))
                if field.description:       # the block's own row says what it is for and its default
                    out.append((prefix + name, kind, _block_default(field), field.description))
                continue
            if _table_model(field) is not None:
                nested.append((f"{prefix}{name}.<code>.", kind, _table_model(field)))
            meaning = f"Connector kind: `{kind}`." if name == "kind" else field.description or ""
            out.append((prefix + name, kind, _shown(field), meaning))
        blocks[0:0] = nested
    return out


def _block_default(field) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "required"
    default = field.default_factory() if field.default_factory is not None else field.default
    return "" if default is None else str(default.model_dump(exclude_none=True))


def pair_table() -> str:
    lines = ["| pair file key | kind | default | meaning |", "|---|---|---|---|"]
    for key, kind, default, meaning in pair_rows():
        shown = f"`{default}`" if default and default != "required" else default
        lines.append(f"| `{key}` | {kind} | {shown} | {meaning.replace('|', '/')} |")
    return "\n".join(lines)


def table() -> str:
    lines = ["| variable | service | default | meaning |", "|---|---|---|---|"]
    for r in rows():
        lines.append("| `{}` | {} | `{}` | {} |".format(*r) if r[2] else "| `{}` | {} | | {} |".format(r[0], r[1], r[3]))
    return "\n".join(lines)


def _replace(text: list[str], header: str, fresh: str) -> list[str]:
    start = next(i for i, line in enumerate(text) if line.startswith(header))
    end = next((i for i in range(start, len(text)) if not text[i].startswith("|")), len(text))
    return text[:start] + fresh.split("\n") + text[end:]


def write_readme(readme: Path) -> None:
    """Replaces the tables under the README's `| variable |` and `| pair file key |` headers."""
    text = _replace(readme.read_text().split("\n"), "| variable | service |", table())
    if any(line.startswith("| pair file key |") for line in text):
        text = _replace(text, "| pair file key |", pair_table())
    readme.write_text("\n".join(text))


def main() -> None:
    if "--write" in sys.argv:
        write_readme(Path(__file__).resolve().parents[1] / "README.md")
    else:
        print(table())
        print()
        print(pair_table())


if __name__ == "__main__":
    main()
