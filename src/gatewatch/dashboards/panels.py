"""The few panel shapes the dashboards use, on Grafana's SDK builders. Every panel reads the
provisioned Prometheus data source and states its unit; every dashboard marks firing alerts
and opened incidents, and links to the others."""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from string import ascii_uppercase
from typing import Any, TypeVar

from grafana_foundation_sdk.builders import (
    common,
    dashboard,
    piechart,
    prometheus,
    stat,
    statushistory,
    table,
    timeseries,
)
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as common_model
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models import piechart as piechart_model

DATASOURCE_UID = "prometheus"
PROMETHEUS = model.DataSourceRef(type_val="prometheus", uid=DATASOURCE_UID)
TAG = "gatewatch"
# Threshold steps, lowest first: (from this value on, colour); None is "from minus infinity".
Steps = Sequence[tuple[float | None, str]]
Panel = timeseries.Panel | stat.Panel | piechart.Panel | table.Panel | statushistory.Panel
P = TypeVar("P", timeseries.Panel, stat.Panel, piechart.Panel, table.Panel, statushistory.Panel)
UP_DOWN = {"0": ("DOWN", "red"), "1": ("UP", "green")}


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""
    instant: bool = False


def _with_queries(
    panel: P, title: str, unit: str, description: str, queries: Sequence[Query], width: int
) -> P:
    panel.title(title).description(description).unit(unit).datasource(PROMETHEUS)
    panel.span(width).height(8)
    for ref, query in zip(ascii_uppercase, queries, strict=False):
        target = prometheus.Dataquery().expr(query.expr).ref_id(ref).datasource(PROMETHEUS)
        if query.legend:
            target = target.legend_format(query.legend)
        panel.with_target(target.instant() if query.instant else target.range())
    return panel


def quantile(q: float, histogram: str, selector: str = "", by: str = "") -> Query:
    """The q-quantile of a histogram over 5 m, per `by` label if given."""
    grouping = ", ".join(["le", *([by] if by else [])])
    legend = f"p{round(q * 100)}" + (f" {{{{{by}}}}}" if by else "")
    matchers = f"{{{selector}}}" if selector else ""
    rate = f"rate({histogram}_bucket{matchers}[5m])"
    return Query(f"histogram_quantile({q}, sum by ({grouping}) ({rate}))", legend)


def _steps(steps: Steps) -> dashboard.ThresholdsConfig:
    return (
        dashboard.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps([model.Threshold(value=value, color=color) for value, color in steps])
    )


def graph(
    title: str,
    unit: str,
    *queries: Query,
    description: str = "",
    width: int = 12,
    threshold: float | None = None,
    below: bool = False,
) -> timeseries.Panel:
    """A time series; `threshold` draws the alerting line (bad above it, or `below` it)."""
    panel = _with_queries(timeseries.Panel(), title, unit, description, queries, width)
    if threshold is not None:
        under, over = ("red", "green") if below else ("green", "red")
        panel.thresholds(_steps([(None, under), (threshold, over)])).thresholds_style(
            common.GraphThresholdsStyleConfig().mode(common_model.GraphTresholdsStyleMode.LINE)
        )
    return panel


def single(
    title: str,
    unit: str,
    *queries: Query,
    description: str = "",
    width: int = 6,
    steps: Steps = ((None, "green"),),
    texts: dict[str, tuple[str, str]] | None = None,
) -> stat.Panel:
    """A big number per series, coloured by `steps`; `texts` maps values to (text, colour)."""
    panel = _with_queries(stat.Panel(), title, unit, description, queries, width)
    panel.thresholds(_steps(steps))
    if texts:
        results = {
            value: model.ValueMappingResult(text=text, color=colour)
            for value, (text, colour) in texts.items()
        }
        panel.mappings([model.ValueMap(options=results)])
    return panel


def pie(
    title: str, unit: str, *queries: Query, description: str = "", width: int = 8
) -> piechart.Panel:
    """Shares of a whole, from the last value of each series."""
    panel = _with_queries(piechart.Panel(), title, unit, description, queries, width)
    return panel.pie_type(piechart_model.PieChartType.DONUT).reduce_options(
        common.ReduceDataOptions().calcs(["lastNotNull"]).values(False)
    )


def history(
    title: str, unit: str, *queries: Query, description: str = "", width: int = 24
) -> statushistory.Panel:
    """One row per series over time, coloured from green (none) to red (the most)."""
    panel = _with_queries(statushistory.Panel(), title, unit, description, queries, width)
    return panel.color_scheme(
        dashboard.FieldColor().mode(model.FieldColorModeId.CONTINUOUS_GR_YL_RD)
    )


def listing(
    title: str, unit: str, *queries: Query, description: str = "", width: int = 12
) -> table.Panel:
    """One table row per series of the queries' instant results."""
    panel = _with_queries(table.Panel(), title, unit, description, queries, width)
    return panel.with_transformation(model.DataTransformerConfig(id_val="merge", options={}))


def variable(name: str, label: str, query: str) -> dashboard.QueryVariable:
    """A multi-value label filter; "All" matches every value."""
    return (
        dashboard.QueryVariable(name)
        .label(label)
        .query(query)
        .datasource(PROMETHEUS)
        .multi(True)
        .include_all(True)
        .all_value(".+")
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
    )


@dataclass(frozen=True)
class Row:
    title: str
    panels: Sequence[Panel]


@dataclass(frozen=True)
class Board:
    uid: str
    title: str
    description: str
    rows: Sequence[Row]
    variables: Sequence[dashboard.QueryVariable] = field(default_factory=tuple)
    tags: Sequence[str] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        """The dashboard model as Grafana stores it, panels numbered in reading order."""
        board = (
            dashboard.Dashboard(self.title)
            .uid(self.uid)
            .description(self.description)
            .tags([TAG, *self.tags])
            .refresh("30s")
            .time("now-3h", "now")
            .timezone("browser")
            .readonly()
            .annotation(
                dashboard.AnnotationQuery()
                .name("Firing alerts")
                .datasource(PROMETHEUS)
                .expr('ALERTS{alertstate="firing"}')
                .enable(True)
                .icon_color("red")
            )
            .annotation(
                dashboard.AnnotationQuery()
                .name("gatewatch incidents opened")
                .datasource(PROMETHEUS)
                .expr("sum(increase(gatewatch_incidents_opened_total[1m])) > 0")
                .enable(True)
                .icon_color("orange")
            )
            .link(
                dashboard.DashboardLink("Dashboards")
                .type(model.DashboardLinkType.DASHBOARDS)
                .tags([TAG])
                .as_dropdown(True)
                .keep_time(True)
            )
        )
        for variable_ in self.variables:
            board.with_variable(variable_)
        number = 0
        for row in self.rows:
            number += 1
            board.with_row(dashboard.Row(row.title).id(number))
            for panel in row.panels:
                number += 1
                board.with_panel(panel.id(number))
        document: dict[str, Any] = json.loads(json.dumps(board.build(), cls=JSONEncoder))
        return document
