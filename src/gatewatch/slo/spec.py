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
        raise ValueError(
            f"{where} plugins are not supported ({', '.join(map(repr, ids))}): "
            "write the SLI as sli.events or sli.raw queries"
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
            spec = SloSpec.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{path}: {msg}" for path, msg in validation_messages(exc.errors())
            )
            raise SloSpecError(f"{where}: {problems}") from exc
        spec._source = where
        specs.append(spec)
    return specs


def load_specs(path: Path) -> list[SloSpec]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise SloSpecError(f"cannot read {path}: {exc.strerror}") from exc
    return parse_specs(text, str(path))
