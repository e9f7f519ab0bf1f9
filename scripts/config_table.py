"""Prints the README's configuration table from the settings classes, so the table cannot drift
from the code (tests/test_docs.py checks that every variable is documented). `--write` updates README.md in place."""
from __future__ import annotations

import sys
from pathlib import Path

from sagebridge_common.settings import Settings
from sagebridge_erp_writer.config import ErpWriterSettings
from sagebridge_ingest.config import IngestSettings
from sagebridge_transform.config import TransformSettings

SCOPES = [("all services", Settings), ("ingest", IngestSettings), ("transform", TransformSettings),
          ("erp-writer", ErpWriterSettings)]


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


def table() -> str:
    lines = ["| variable | service | default | meaning |", "|---|---|---|---|"]
    for r in rows():
        lines.append("| `{}` | {} | `{}` | {} |".format(*r) if r[2] else "| `{}` | {} | | {} |".format(r[0], r[1], r[3]))
    return "\n".join(lines)


def write_readme(readme: Path) -> None:
    """Replaces the table under the README's `| variable |` header with a fresh one."""
    text = readme.read_text().split("\n")
    start = next(i for i, line in enumerate(text) if line.startswith("| variable | service |"))
    end = next((i for i in range(start, len(text)) if not text[i].startswith("|")), len(text))
    readme.write_text("\n".join(text[:start] + table().split("\n") + text[end:]))


def main() -> None:
    if "--write" in sys.argv:
        write_readme(Path(__file__).resolve().parents[1] / "README.md")
    else:
        print(table())


if __name__ == "__main__":
    main()
