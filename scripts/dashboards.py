#!/usr/bin/env python3
"""Exports the dashboards built in deploy/grafana/src to deploy/grafana/dashboards/sagebridge.

    scripts/dashboards.py --write   # regenerate the JSON files (commit them)
    scripts/dashboards.py --check   # rc=1 when a file differs from what the code builds (CI)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "deploy" / "grafana" / "src"
OUT = REPO / "deploy" / "grafana" / "dashboards" / "sagebridge"
sys.path.insert(0, str(SRC))

from sagebridge_dashboards import DASHBOARDS, render  # noqa: E402


def stale() -> list[str]:
    """Files whose content differs from the code's (or that no dashboard makes)."""
    out = [name for name, build in DASHBOARDS.items()
           if not (OUT / name).exists() or (OUT / name).read_text() != render(build)]
    out += sorted(p.name for p in OUT.glob("*.json") if p.name not in DASHBOARDS)
    return out


def write() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, build in DASHBOARDS.items():
        (OUT / name).write_text(render(build))
    for p in OUT.glob("*.json"):
        if p.name not in DASHBOARDS:
            p.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="regenerate the JSON files")
    mode.add_argument("--check", action="store_true", help="fail when a JSON file is out of date")
    args = parser.parse_args(argv)
    if args.write:
        write()
        return 0
    bad = stale()
    for name in bad:
        print(f"{OUT / name}: out of date, run scripts/dashboards.py --write", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
