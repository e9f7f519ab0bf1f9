"""Prints the README's configuration table from the settings classes, so the table cannot drift
from the code (tests/test_readme.py checks that every variable is documented)."""
from __future__ import annotations

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


def main() -> None:
    print("| variable | service | default | meaning |")
    print("|---|---|---|---|")
    for r in rows():
        print("| `{}` | {} | `{}` | {} |".format(*r) if r[2] else "| `{}` | {} | | {} |".format(r[0], r[1], r[3]))


if __name__ == "__main__":
    main()
