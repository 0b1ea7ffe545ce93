"""Dashboards checked by their queries: every panel target, template variables substituted
as Grafana would ("All" for the filters, the time range for `$__range`), run against a real
Prometheus. A panel with an error or no series is one Grafana would show broken or empty."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

ALL = ".+"
_VARIABLE = re.compile(r"\$(\w+)|\$\{(\w+)\}")
_LABEL_VALUES = re.compile(r"^label_values\((?P<selector>.+),\s*(?P<label>\w+)\)$")


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str  # uid
    panel: str  # title
    expr: str  # as Prometheus receives it

    def __str__(self) -> str:
        return f"{self.dashboard} / {self.panel}"


def _variables(document: dict[str, Any]) -> list[dict[str, Any]]:
    variables: list[dict[str, Any]] = document["templating"].get("list", [])
    return variables


def substituted(expr: str, document: dict[str, Any]) -> str:
    """`expr` with Grafana's variables replaced: every template variable by its All value,
    `$__range` by the dashboard's default time range."""
    variables = {v["name"]: v.get("allValue") or ALL for v in _variables(document)}
    time_range = str(document["time"]["from"]).removeprefix("now-")

    def value(match: re.Match[str]) -> str:
        name = match[1] or match[2]
        if name == "__range":
            return time_range
        if name not in variables:
            raise ValueError(f"{document['uid']}: unknown variable ${name} in {expr!r}")
        return str(variables[name])

    return _VARIABLE.sub(value, expr)


def panel_queries(document: dict[str, Any]) -> Iterator[PanelQuery]:
    """Every panel target's PromQL, and each query variable's as a series selection."""
    for panel in document["panels"]:
        for target in panel.get("targets", []):
            yield PanelQuery(document["uid"], panel["title"], substituted(target["expr"], document))
    for variable in _variables(document):
        found = _LABEL_VALUES.match(variable["query"])
        if found is None:
            raise ValueError(f"{document['uid']}: variable {variable['name']} is not label_values")
        selector = substituted(found["selector"], document)
        expr = f"group by ({found['label']}) ({selector})"
        yield PanelQuery(document["uid"], f"variable ${variable['name']}", expr)


def annotation_queries(document: dict[str, Any]) -> Iterator[PanelQuery]:
    for annotation in document["annotations"]["list"]:
        expr = substituted(annotation["expr"], document)
        yield PanelQuery(document["uid"], f"annotation {annotation['name']}", expr)


def query_problem(client: httpx.Client, query: PanelQuery, empty_ok: bool = False) -> str | None:
    """Why Grafana would show this query broken or empty, or None when it returns series."""
    response = client.get("/api/v1/query", params={"query": query.expr})
    body = response.json()
    if body.get("status") != "success":
        return f"{query}: {body.get('errorType', response.status_code)}: {body.get('error')}"
    if not body["data"]["result"] and not empty_ok:
        return f"{query}: no series for {query.expr}"
    return None
