"""The queries of exported dashboards, as Grafana would send them: what the tests check with
promtool and run against a real Prometheus."""
from __future__ import annotations

import re
from typing import Iterator

_GRAFANA_INTERVALS = re.compile(r"\$\{?__(rate_interval|interval|range)\}?")
_TEMPLATE_VAR = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")
_METRIC = re.compile(r"\bsagebridge_[a-z0-9_]+")


def all_panels(panels: list[dict]) -> Iterator[dict]:
    """Every panel, rows' collapsed children included."""
    for p in panels:
        yield p
        yield from all_panels(p.get("panels") or [])


def panel_exprs(dashboard: dict) -> list[tuple[str, str]]:
    """(where, expr) of every panel query: where = "<dashboard> / <panel> [<refId>]"."""
    return [(f"{dashboard['title']} / {p['title']} [{t.get('refId', '?')}]", t["expr"])
            for p in all_panels(dashboard["panels"]) for t in p.get("targets") or [] if t.get("expr")]


def concrete(expr: str) -> str:
    """What Grafana would send: interval macros become 5m, template variables (All) match everything."""
    return _TEMPLATE_VAR.sub(".*", _GRAFANA_INTERVALS.sub("5m", expr))


def metric_names(expr: str) -> set[str]:
    return set(_METRIC.findall(expr))
