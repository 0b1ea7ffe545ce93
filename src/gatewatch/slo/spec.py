"""SLO specs in Sloth's `prometheus/v1` format, so existing Sloth users can bring theirs:
the same names, label values, template spacing and multi-document files Sloth accepts."""

import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from gatewatch.errors import GatewatchError, validation_messages


class SloSpecError(GatewatchError):
    """A spec that cannot become rules; says which file and field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# The SLO period; Sloth's default, and the only one gatewatch builds rules for.
PERIOD_DAYS = 30
# Sloth's names: alphanumeric at both ends, `.`, `_` and `-` between.
NAME = r"^[A-Za-z0-9][-A-Za-z0-9_.]*[A-Za-z0-9]$"
# `{{.window}}` as Go templates write it, with any spaces inside the braces.
WINDOW = re.compile(r"\{\{ *\.window *\}\}")


def _label_value(value: Any) -> Any:
    """YAML reads `tier: 2` as a number and `on: true` as a bool; Sloth keeps the text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


Labels = dict[str, Annotated[str, BeforeValidator(_label_value)]]


def _no_plugins(data: Any, key: str, where: str) -> None:
    """Sloth's plugins are Go code gatewatch cannot run: refuse them by id."""
    if isinstance(data, dict) and data.get(key):
        block = data[key]
        chain = block.get("chain", []) if isinstance(block, dict) else []
        ids = [p.get("id") for p in chain if isinstance(p, dict)] or [block.get("id")]
        instead = "drop them"
        if where == "SLI":
            instead = "write the SLI as sli.events or sli.raw queries"
        raise ValueError(
            f"{where} plugins are not supported ({', '.join(map(repr, ids))}): gatewatch runs "
            f"no Sloth plugins; {instead}"
        )


class EventsSli(_Model):
    error_query: str = Field(min_length=1)
    total_query: str = Field(min_length=1)

    @field_validator("error_query", "total_query")
    @classmethod
    def _has_window(cls, query: str) -> str:
        return _with_window_variable(query)

    @model_validator(mode="after")
    def _different(self) -> "EventsSli":
        if self.error_query == self.total_query:
            raise ValueError("error_query and total_query can't be the same")
        return self


def _with_window_variable(query: str) -> str:
    if not WINDOW.search(query):
        raise ValueError("must use {{.window}} as its range, e.g. rate(x[{{.window}}])")
    return query


class RawSli(_Model):
    error_ratio_query: str = Field(min_length=1)

    @field_validator("error_ratio_query")
    @classmethod
    def _has_window(cls, query: str) -> str:
        return _with_window_variable(query)


class Sli(_Model):
    events: EventsSli | None = None
    raw: RawSli | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_plugin(cls, data: Any) -> Any:
        _no_plugins(data, "plugin", "SLI")
        return data

    @model_validator(mode="after")
    def _one_kind(self) -> "Sli":
        if (self.events is None) == (self.raw is None):
            raise ValueError("give exactly one of sli.events or sli.raw")
        return self


class AlertSpec(_Model):
    disable: bool = False
    labels: Labels = {}
    annotations: dict[str, str] = {}


class Alerting(_Model):
    name: str = Field(default="", description="needed while an alert is enabled")
    labels: Labels = {}
    annotations: dict[str, str] = {}
    page_alert: AlertSpec = AlertSpec(labels={"severity": "critical"})
    ticket_alert: AlertSpec = AlertSpec(labels={"severity": "warning"})

    @model_validator(mode="after")
    def _named_if_enabled(self) -> "Alerting":
        enabled = not (self.page_alert.disable and self.ticket_alert.disable)
        if enabled and not self.name.strip():
            raise ValueError("alerting.name is required while page_alert or ticket_alert is on")
        return self


class BudgetPolicy(_Model):
    """gatewatch's extension: act when this share of the period's budget is consumed."""

    consumed: Decimal = Field(gt=0, le=100, description="percent of the error budget")
    severity: str = Field(min_length=1)
    action: str | None = Field(default=None, description="e.g. circuit-breaker")


DEFAULT_POLICIES = (
    BudgetPolicy(consumed=Decimal(50), severity="warning"),
    BudgetPolicy(consumed=Decimal(80), severity="critical", action="circuit-breaker"),
)


class Slo(_Model):
    name: str = Field(pattern=NAME)
    objective: Decimal = Field(gt=0)
    description: str = ""
    labels: Labels = {}
    sli: Sli
    alerting: Alerting = Alerting(
        page_alert=AlertSpec(disable=True), ticket_alert=AlertSpec(disable=True)
    )
    policies: tuple[BudgetPolicy, ...] = DEFAULT_POLICIES
    traffic_floor: int | None = Field(
        default=None,
        gt=0,
        description="gatewatch extension: no burn alert on fewer events than this in the "
        "alert's long window, so one failed request in a quiet hour pages no one",
    )

    @model_validator(mode="before")
    @classmethod
    def _no_plugin(cls, data: Any) -> Any:
        _no_plugins(data, "plugins", "SLO")
        return data

    @model_validator(mode="after")
    def _floor_needs_counts(self) -> "Slo":
        if self.traffic_floor is not None and self.sli.events is None:
            raise ValueError("traffic_floor needs sli.events: a raw ratio has no event counts")
        return self

    @field_validator("objective")
    @classmethod
    def _has_budget(cls, objective: Decimal) -> Decimal:
        if objective >= 100:
            raise ValueError("an objective of 100% leaves no error budget; use e.g. 99.9")
        return objective

    @property
    def error_budget(self) -> Decimal:
        """Exact: 99.95 gives 0.0005, never 0.000499999…"""
        return (Decimal(100) - self.objective) / Decimal(100)


class SloSpec(_Model):
    version: Literal["prometheus/v1"]
    service: str = Field(pattern=NAME)
    labels: Labels = {}
    slos: list[Slo] = Field(min_length=1)
    _source: str = PrivateAttr(default="")

    @model_validator(mode="before")
    @classmethod
    def _no_plugin(cls, data: Any) -> Any:
        _no_plugins(data, "slo_plugins", "SLO")
        return data

    @property
    def source(self) -> str:
        """Where it was read: file, and `#n` for the n-th document of a multi-document file."""
        return self._source


def parse_specs(text: str, source: str) -> list[SloSpec]:
    """Every spec of a file; Sloth's files may hold several, split by `---`."""
    try:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise SloSpecError(f"{source}: invalid YAML: {exc}") from exc
    if not documents:
        raise SloSpecError(f"{source}: no spec in the file")
    specs = []
    for number, data in enumerate(documents, start=1):
        where = source if len(documents) == 1 else f"{source}#{number}"
        try:
            data = _as_prometheus_v1(data)
        except ValueError as exc:
            raise SloSpecError(f"{where}: {exc}") from exc
        try:
            spec = SloSpec.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{path}: {msg}" for path, msg in validation_messages(exc.errors())
            )
            raise SloSpecError(f"{where}: {problems}") from exc
        spec._source = where
        specs.append(spec)
    return specs


# Sloth's Kubernetes form spells these keys in camelCase.
_K8S_KEYS = {
    "errorQuery": "error_query",
    "totalQuery": "total_query",
    "errorRatioQuery": "error_ratio_query",
    "pageAlert": "page_alert",
    "ticketAlert": "ticket_alert",
    "sloPlugins": "slo_plugins",
}


def _as_prometheus_v1(data: Any) -> Any:
    """Sloth's two other forms, read as Sloth maps them onto `prometheus/v1`: a Kubernetes
    `PrometheusServiceLevel` (its spec, camelCase keys) and an OpenSLO `v1alpha` SLO."""
    if not isinstance(data, dict):
        return data
    form = (data.get("apiVersion"), data.get("kind"))
    if form == ("sloth.slok.dev/v1", "PrometheusServiceLevel"):
        return {"version": "prometheus/v1", **_snake_case(data.get("spec") or {})}
    if form == ("openslo/v1alpha", "SLO"):
        return _from_openslo(data)
    if form == ("sloth.slok.dev/v1", "AlertWindows"):
        raise ValueError(
            "Sloth AlertWindows (custom alert windows) are not read: gatewatch builds "
            f"Sloth's default {PERIOD_DAYS}-day windows"
        )
    return data


def _snake_case(value: Any) -> Any:
    """The Kubernetes form's keys, not the user's label and annotation names."""
    if isinstance(value, list):
        return [_snake_case(item) for item in value]
    if not isinstance(value, dict):
        return value
    return {
        _K8S_KEYS.get(key, key): item if key in ("labels", "annotations") else _snake_case(item)
        for key, item in value.items()
    }


def _from_openslo(data: dict[str, Any]) -> dict[str, Any]:
    """Each ratio objective an SLO `<name>-<n>` with the raw SLI `1 - good/total`, no
    alerts (as Sloth reads OpenSLO)."""
    name = (data.get("metadata") or {}).get("name")
    spec = data.get("spec") or {}
    windows = spec.get("timeWindows") or []
    if any(str(w.get("unit", "")).lower() != "day" for w in windows) or len(windows) > 1:
        raise ValueError("spec.timeWindows: one window counted in days is supported")
    if windows and windows[0].get("count") != PERIOD_DAYS:
        raise ValueError(f"spec.timeWindows: gatewatch builds rules for {PERIOD_DAYS} days")
    slos = []
    for index, objective in enumerate(spec.get("objectives") or []):
        ratio = objective.get("ratioMetrics")
        if not ratio:
            raise ValueError(f"spec.objectives[{index}]: only ratioMetrics objectives are read")
        queries = {}
        for side in ("good", "total"):
            metric = ratio.get(side) or {}
            if metric.get("source") not in ("prometheus", "sloth"):
                raise ValueError(f"spec.objectives[{index}].ratioMetrics.{side}: source prometheus")
            if metric.get("queryType") != "promql":
                raise ValueError(f"spec.objectives[{index}].ratioMetrics.{side}: queryType promql")
            queries[side] = str(metric.get("query", "")).strip()
        target = objective.get("target")
        if not isinstance(target, int | float) or isinstance(target, bool):
            raise ValueError(f"spec.objectives[{index}].target: a ratio such as 0.999")
        slos.append(
            {
                "name": f"{name}-{index}",
                "objective": Decimal(str(target)) * 100,
                "description": spec.get("description", ""),
                "sli": {
                    "raw": {
                        "error_ratio_query": f"1 - (({queries['good']}) / ({queries['total']}))"
                    }
                },
                "alerting": {"page_alert": {"disable": True}, "ticket_alert": {"disable": True}},
            }
        )
    return {"version": "prometheus/v1", "service": spec.get("service"), "slos": slos}


def load_specs(path: Path) -> list[SloSpec]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise SloSpecError(f"cannot read {path}: {exc.strerror}") from exc
    return parse_specs(text, str(path))
