"""Deadlines for each hop, derived from what the stack actually runs: the built rules (their
`for`, range windows and group intervals), Prometheus's scrape and evaluation intervals,
Alertmanager's route timers and gatewatch's escalation steps."""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gatewatch.config import GatewatchConfig
from gatewatch.durations import parse_duration
from gatewatch.errors import GatewatchError
from gatewatch.matchers import parse_matcher

_RANGE = re.compile(r"\[(\d+(?:ms|[smhdwy]))\]")
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def _seconds(text: str) -> float:
    return parse_duration(text).total_seconds()


@dataclass(frozen=True)
class AlertTiming:
    """What bounds one alert rule's hops, in seconds."""

    hold: float  # the rule's `for`
    window: float  # the longest range it reads, through its recording rules too
    evaluation: float  # the slowest group interval on its path


@dataclass(frozen=True)
class RouteTiming:
    group_wait: float
    group_interval: float


def _windows(expr: str) -> list[float]:
    return [_seconds(match) for match in _RANGE.findall(expr)]


class StackTimings:
    def __init__(self, data: Path, gatewatch: GatewatchConfig) -> None:
        prometheus = yaml.safe_load((data / "prometheus.yml").read_text())
        self.scrape = _seconds(prometheus["global"]["scrape_interval"])
        default_eval = _seconds(prometheus["global"]["evaluation_interval"])
        self._alerts: dict[str, list[tuple[dict[str, Any], float]]] = {}
        self._records: dict[str, tuple[str, float]] = {}
        for path in prometheus["rule_files"]:
            for group in yaml.safe_load(Path(path).read_text())["groups"]:
                interval = _seconds(group["interval"]) if "interval" in group else default_eval
                for rule in group["rules"]:
                    if "record" in rule:
                        self._records[rule["record"]] = (rule["expr"], interval)
                    else:
                        self._alerts.setdefault(rule["alert"], []).append((rule, interval))
        self._am_routes = yaml.safe_load((data / "alertmanager.yml").read_text())["route"]
        self.gatewatch = gatewatch
        self.poll = gatewatch.scheduler.poll_interval.total_seconds()

    def alert(self, name: str, labels: dict[str, str]) -> AlertTiming:
        candidates = [
            (rule, interval)
            for rule, interval in self._alerts.get(name, [])
            if all(rule.get("labels", {}).get(k) == v for k, v in labels.items())
        ]
        if not candidates:
            raise GatewatchError(
                f"no alert rule {name} with labels {labels} in the stack's rules",
                hint="check the drill's alert and alert_labels against `gatewatch rules build`",
            )
        rule, evaluation = candidates[0]
        windows = _windows(rule["expr"])
        for token in set(_NAME.findall(rule["expr"])):
            if token in self._records:
                expr, interval = self._records[token]
                windows += _windows(expr)
                evaluation = max(evaluation, interval)
        hold = _seconds(rule["for"]) if "for" in rule else 0.0
        return AlertTiming(hold, max(windows, default=0.0), evaluation)

    def route(self, labels: dict[str, str]) -> RouteTiming:
        """Alertmanager's first matching child route, inheriting the root's timers."""
        root = self._am_routes
        chosen = root
        for child in root.get("routes", []):
            if all(parse_matcher(m).matches(labels) for m in child.get("matchers", [])):
                chosen = child
                break
        return RouteTiming(
            _seconds(chosen.get("group_wait", root.get("group_wait", "30s"))),
            _seconds(chosen.get("group_interval", root.get("group_interval", "5m"))),
        )

    def page_after(self, policy: str | None, person: str, on_call: dict[str, list[str]]) -> float:
        """When the policy's first step that reaches `person` is due, from the trigger."""
        steps = self.gatewatch.policies.get(policy or "")
        for step in steps.steps if steps else []:
            for target in step.targets:
                if (target.kind == "person" and target.id == person) or (
                    target.kind == "schedule" and person in on_call.get(target.id, [])
                ):
                    return step.after.total_seconds()
        raise GatewatchError(
            f"policy {policy!r} never pages {person!r}",
            hint="check the drill's expect_page.person against the policy and who is on call",
        )
