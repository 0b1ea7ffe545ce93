"""SLO specs in Sloth's `prometheus/v1` format, so existing Sloth users can bring theirs."""

from decimal import Decimal
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gatewatch.errors import GatewatchError, validation_messages


class SloSpecError(GatewatchError):
    """A spec that cannot become rules; says which file and field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventsSli(_Model):
    error_query: str = Field(min_length=1)
    total_query: str = Field(min_length=1)

    @field_validator("error_query", "total_query")
    @classmethod
    def _has_window(cls, query: str) -> str:
        if "{{.window}}" not in query.replace(" ", ""):
            raise ValueError("must use {{.window}} as its range, e.g. rate(x[{{.window}}])")
        return query


class RawSli(_Model):
    error_ratio_query: str = Field(min_length=1)


class Sli(_Model):
    events: EventsSli | None = None
    raw: RawSli | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> "Sli":
        if (self.events is None) == (self.raw is None):
            raise ValueError("give exactly one of sli.events or sli.raw")
        return self


class AlertSpec(_Model):
    disable: bool = False
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}


class Alerting(_Model):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    page_alert: AlertSpec = AlertSpec(labels={"severity": "critical"})
    ticket_alert: AlertSpec = AlertSpec(labels={"severity": "warning"})


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
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
    objective: Decimal = Field(gt=0)
    description: str = ""
    labels: dict[str, str] = {}
    sli: Sli
    alerting: Alerting
    policies: tuple[BudgetPolicy, ...] = DEFAULT_POLICIES
    traffic_floor: int | None = Field(
        default=None,
        gt=0,
        description="gatewatch extension: no burn alert on fewer events than this in the "
        "alert's long window, so one failed request in a quiet hour pages no one",
    )

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
    service: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
    labels: dict[str, str] = {}
    slos: list[Slo] = Field(min_length=1)


def parse_spec(text: str, source: str) -> SloSpec:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SloSpecError(f"{source}: invalid YAML: {exc}") from exc
    try:
        return SloSpec.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{path}: {msg}" for path, msg in validation_messages(exc.errors()))
        raise SloSpecError(f"{source}: {problems}") from exc


def load_spec(path: Path) -> SloSpec:
    try:
        text = path.read_text()
    except OSError as exc:
        raise SloSpecError(f"cannot read {path}: {exc.strerror}") from exc
    return parse_spec(text, str(path))
