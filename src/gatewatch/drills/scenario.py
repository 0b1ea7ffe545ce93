"""Drill scenarios: YAML files, each a fault and the chain of things that must follow it.

Every step is a mapping with exactly one action key; an `expect_*` step may carry `within`
to override the deadline derived from the rule, Prometheus and Alertmanager timings.
"""

import re
from importlib import resources
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, model_validator

from gatewatch.config import ConfigError, ConfigIssue, parse_yaml_model
from gatewatch.config.base import ConfigModel
from gatewatch.config.rules import AlertOverride, RulesTuning
from gatewatch.config.schema import PathKey
from gatewatch.durations import Duration
from gatewatch.errors import GatewatchError
from gatewatch.rules.packs import shipped_tuning_errors

_REQUEST = re.compile(r"^(GET|POST|PUT|DELETE) (/\S*)$")
AlertState = Literal["pending", "firing", "inactive"]
Channel = Literal["pagerduty", "slack", "email"]


class ScenarioError(ConfigError):
    hint = "fix the lines named above; gatewatch/drills/scenarios/ holds working examples"


class Traffic(ConfigModel):
    """Extra clients on the gateway, misbehaving in one way, until the faults are cleared."""

    rate: float = Field(gt=0, le=1000, description="messages or connection attempts per second")
    duplicate: bool = Field(default=False, description="send every message twice, same id")
    ack: bool = Field(default=True, description="false: the recipient never ACKs")
    bad_token: bool = Field(default=False, description="connect with tokens the gateway refuses")


class Fault(ConfigModel):
    request: str | None = Field(default=None, description='to the gateway, e.g. "POST /test/x"')
    traffic: Traffic | None = None
    backlog: int | None = Field(default=None, gt=0, description="messages to an offline user")
    connections: int | None = Field(
        default=None, gt=0, le=5000, description="idle WebSocket clients held open"
    )
    stop: str | None = Field(default=None, description="a stack component to stop")

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        kinds = ("request", "traffic", "backlog", "connections", "stop")
        given = [k for k in kinds if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(kinds)}")
        if self.request is not None and not _REQUEST.match(self.request):
            raise ValueError(f"request {self.request!r} must look like 'POST /test/latency'")
        return self


class IncidentExpectation(ConfigModel):
    status: Literal["triggered", "acknowledged", "resolved"] = "triggered"
    severity: str | None = None
    policy: str | None = None


class PageExpectation(ConfigModel):
    person: str
    channels: list[Channel] = Field(min_length=1)


class NotificationExpectation(ConfigModel):
    event: Literal["trigger", "resolve"]
    channels: list[Channel] = Field(min_length=1)


class DirectPageExpectation(ConfigModel):
    """A page that reached the stand-ins without gatewatch (Alertmanager's fallback receiver),
    naming the drill's alert."""

    channels: list[Literal["email"]] = Field(min_length=1)


class SteadyExpectation(ConfigModel):
    stat: str = Field(description="a counter of the gateway's /stats that must stop growing")
    hold: Duration = Field(alias="for")


ACTIONS = (
    "inject",
    "expect_alert",
    "expect_alertmanager",
    "expect_incident",
    "expect_page",
    "expect_notification",
    "expect_direct_page",
    "expect_gateway",
    "expect_steady",
    "acknowledge",
    "clear",
)


class Step(ConfigModel):
    inject: Fault | None = None
    expect_alert: AlertState | None = None
    expect_alertmanager: Literal["active"] | None = None
    expect_incident: IncidentExpectation | None = None
    expect_page: PageExpectation | None = None
    expect_notification: NotificationExpectation | None = None
    expect_direct_page: DirectPageExpectation | None = None
    expect_gateway: dict[str, str] | None = None
    expect_steady: SteadyExpectation | None = None
    acknowledge: str | None = Field(default=None, description="who acknowledges")
    clear: Literal["faults"] | None = None
    within: Duration | None = None

    @model_validator(mode="after")
    def _one_action(self) -> Self:
        given = [name for name in ACTIONS if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"a step has exactly one of {', '.join(ACTIONS)}")
        if self.within is not None and not self.action.startswith("expect_"):
            raise ValueError("within applies to expect_* steps only")
        return self

    @property
    def action(self) -> str:
        return next(name for name in ACTIONS if getattr(self, name) is not None)


class Scenario(ConfigModel):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    summary: str = Field(min_length=1)
    alert: str = Field(description="the alert rule the drill is about")
    alert_labels: dict[str, str] = Field(default={}, description="to pick one of its series")
    rules: RulesTuning = Field(
        default=RulesTuning(),
        description="the packs tuned for the drill stack, as gatewatch.yml's `rules:`",
    )
    steps: list[Step] = Field(min_length=1)

    @model_validator(mode="after")
    def _faults_cleared(self) -> Self:
        actions = [step.action for step in self.steps]
        if "inject" not in actions:
            raise ValueError("a drill injects at least one fault")
        if "clear" not in actions[actions.index("inject") :]:
            raise ValueError("a drill clears its faults (step `clear: faults`)")
        return self


def parse_scenario(text: str, filename: str) -> Scenario:
    try:
        return parse_yaml_model(text, filename, Scenario, checks=(_tuning_problems,))
    except ConfigError as exc:
        raise ScenarioError(exc.issues) from exc


def _tuning_problems(scenario: Scenario) -> list[tuple[PathKey, str]]:
    return shipped_tuning_errors(scenario.rules)


def stack_tuning(scenarios: list[Scenario]) -> RulesTuning:
    """The one tuning of the stack the chosen drills share; two of them may not tune the
    same alert two ways."""
    overrides: dict[str, AlertOverride] = {}
    tuned_by: dict[str, str] = {}
    disabled: list[str] = []
    for scenario in scenarios:
        for alert, override in scenario.rules.overrides.items():
            if overrides.get(alert, override) != override:
                raise GatewatchError(
                    f"drills {tuned_by[alert]} and {scenario.name} tune {alert} differently",
                    hint="run them one at a time: gatewatch drill NAME",
                )
            overrides[alert], tuned_by[alert] = override, scenario.name
        disabled += [alert for alert in scenario.rules.disabled if alert not in disabled]
    return RulesTuning(overrides=overrides, disabled=disabled)


def shipped_folder() -> Path:
    return Path(str(resources.files("gatewatch.drills") / "scenarios"))


def load_scenarios(names: list[str], folder: Path | None = None) -> list[Scenario]:
    """The named drills (all when `names` is empty), in file-name order, from `folder` or
    the shipped ones."""
    folder = folder or shipped_folder()
    paths = sorted(folder.glob("*.yml"))
    if not paths:
        raise ScenarioError([ConfigIssue(str(folder), None, "", "no *.yml drills here")])
    scenarios = [parse_scenario(path.read_text(encoding="utf-8"), str(path)) for path in paths]
    by_name = {scenario.name: scenario for scenario in scenarios}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        issue = f"no drill named {', '.join(unknown)}; known: {', '.join(by_name)}"
        raise ScenarioError([ConfigIssue(str(folder), None, "", issue)])
    return [by_name[name] for name in names] if names else scenarios
