"""Shared building blocks of the Sagebridge dashboards (Grafana Foundation SDK builders).

Every dashboard reads the one provisioned Prometheus data source (uid `prometheus`) and has the
same two filters: `pair` (a target label the scrape adds per pair deployment; a series without
it still matches the default All) and `service` (the Prometheus job, equal to SERVICE_NAME).
Queries use `[$__rate_interval]` so a panel stays right at any scrape interval.
"""
from __future__ import annotations

import itertools
from typing import Iterable

from grafana_foundation_sdk.builders import common
from grafana_foundation_sdk.builders import dashboard as gdb
from grafana_foundation_sdk.builders import prometheus, stat, timeseries
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as gdm

DATASOURCE = gdm.DataSourceRef(type_val="prometheus", uid="prometheus")
RATE = "[$__rate_interval]"
SEL = 'pair=~"$pair", job=~"$service"'      # every panel is filtered by both variables
WIDTH, HEIGHT = 8, 8


def sel(extra: str = "") -> str:
    """The label selector of a panel query: the dashboard filters, plus `extra` matchers."""
    return "{" + SEL + (", " + extra if extra else "") + "}"


def rate(metric: str, by: str, extra: str = "") -> str:
    """Per-second rate of a counter summed by `by` (comma-separated labels)."""
    return f"sum by ({by}) (rate({metric}{sel(extra)}{RATE}))"


def quantile(q: float, histogram: str, by: str, extra: str = "") -> str:
    """The `q` quantile of a histogram (base name, without `_bucket`) over `by`."""
    return f"histogram_quantile({q}, sum by ({by}, le) (rate({histogram}_bucket{sel(extra)}{RATE})))"


def _target(expr: str, legend: str, ref: str) -> prometheus.Dataquery:
    return prometheus.Dataquery().expr(expr).legend_format(legend).ref_id(ref).datasource(DATASOURCE)


def _with_targets(panel, queries: Iterable[tuple[str, str]]):
    for ref, (expr, legend) in zip("ABCDEFGH", queries):
        panel = panel.with_target(_target(expr, legend, ref))
    return panel


class Ids:
    """Panel ids unique within a dashboard, in layout order (stable across exports)."""

    def __init__(self) -> None:
        self._next = itertools.count(1)

    def __call__(self) -> int:
        return next(self._next)


def graph(ids: Ids, title: str, queries: list[tuple[str, str]], *, unit: str = "short",
          description: str = "", width: int = WIDTH, stack: bool = False) -> timeseries.Panel:
    """A time series panel; `queries` are (expr, legend) pairs."""
    panel = (timeseries.Panel().id(ids()).title(title).description(description).datasource(DATASOURCE)
             .unit(unit).min(0).span(width).height(HEIGHT).line_width(1).fill_opacity(10)
             .legend(common.VizLegendOptions().display_mode(cm.LegendDisplayMode.LIST)
                     .placement(cm.LegendPlacement.BOTTOM).show_legend(True))
             .tooltip(common.VizTooltipOptions().mode(cm.TooltipDisplayMode.MULTI).sort(cm.SortOrder.DESCENDING)))
    if stack:
        panel = panel.stacking(common.StackingConfig().mode(cm.StackingMode.NORMAL))
    return _with_targets(panel, queries)


def single(ids: Ids, title: str, expr: str, legend: str, *, unit: str = "short",
           description: str = "", width: int = 4) -> stat.Panel:
    """A stat panel with one query (current value)."""
    panel = (stat.Panel().id(ids()).title(title).description(description).datasource(DATASOURCE)
             .unit(unit).span(width).height(4).graph_mode(cm.BigValueGraphMode.AREA)
             .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False)))
    return _with_targets(panel, [(expr, legend)])


def row(ids: Ids, title: str) -> gdb.Row:
    return gdb.Row(title).id(ids())


def variables() -> list[gdb.QueryVariable]:
    """`pair` and `service`: multi-value, All by default (All matches series without the label)."""
    def var(name: str, label: str, query: str) -> gdb.QueryVariable:
        return (gdb.QueryVariable(name).label(label).datasource(DATASOURCE)
                .query({"query": query, "refId": name})
                .refresh(gdm.VariableRefresh.ON_TIME_RANGE_CHANGED).sort(gdm.VariableSort.ALPHABETICAL_ASC)
                .include_all(True).multi(True).all_value(".*")
                .current(gdm.VariableOption(selected=True, text=["All"], value=["$__all"])))
    return [var("pair", "Pair", 'label_values(up{job!="prometheus"}, pair)'),
            var("service", "Service", 'label_values(up{job!="prometheus", pair=~"$pair"}, job)')]


def new_dashboard(uid: str, title: str, description: str) -> gdb.Dashboard:
    """The settings every Sagebridge dashboard shares (read-only: edit the code, not the UI)."""
    return (gdb.Dashboard(title).uid(uid).description(description).tags(["sagebridge"])
            .readonly().refresh("30s").time("now-1h", "now").timezone("browser")
            .tooltip(gdm.DashboardCursorSync.CROSSHAIR).variables(variables())
            .link(gdb.DashboardLink("Sagebridge").type(gdm.DashboardLinkType.DASHBOARDS)
                  .tags(["sagebridge"]).as_dropdown(True).include_vars(True).keep_time(True)))
