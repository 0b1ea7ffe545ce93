"""promtool tests for tuned alerts, generated from the same parameters as the rules: a series
on each side of the tuned threshold, checked before and after the tuned `for`.

The hand-written tests prove the packs as shipped; these prove what a team's overrides
built. An alert's left-hand side (as PromQL's grammar reads it) is fed directly when it is
a plain or recorded series, or as a counter when it is the rate of one; either may sit in
a sum/max/min/avg by labels that keep `instance`. Other shapes are reported as not covered
rather than guessed at.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import promql_parser
import yaml

from gatewatch.durations import format_duration
from gatewatch.model import RulePack
from gatewatch.rules.tuning import Change, tunable

STEP = timedelta(seconds=15)
_AGGREGATIONS = ("sum", "max", "min", "avg")
_FIRING = 'ALERTS{{alertname="{alert}", alertstate="firing"}}'


@dataclass(frozen=True)
class _Feed:
    """How to make the left-hand side take a value: the series to write and its labels."""

    series: str
    matchers: dict[str, str]  # the selector's: the fed series carries them
    labels: dict[str, str]  # of the left-hand side's result, besides `instance`
    counter: bool  # the value is a per-second rate of this counter


def tuned_tests(packs: list[RulePack], changes: list[Change]) -> tuple[dict[str, str], list[str]]:
    """promtool test files by name for the tuned alerts of `packs`, and the tuned alerts
    whose expressions are not of a shape these tests can feed."""
    tuned = {c.alert for c in changes if c.parameter in ("threshold", "for", "window")}
    files: dict[str, str] = {}
    uncovered: list[str] = []
    for pack in packs:
        tests = []
        for rule in pack.alerts():
            if rule["alert"] not in tuned:
                continue
            test = _alert_test(pack, rule)
            if test is None:
                uncovered.append(rule["alert"])
            else:
                tests.append(test)
        if tests:
            files[f"tuned-{pack.name}.test.yml"] = yaml.safe_dump(
                {
                    "rule_files": [f"{pack.name}.yml"],
                    "evaluation_interval": format_duration(STEP),
                    "tests": tests,
                },
                sort_keys=False,
                width=100,
            )
    return files, uncovered


def _alert_test(pack: RulePack, rule: dict[str, Any]) -> dict[str, Any] | None:
    alert = tunable(pack, rule)
    compared = alert.compared
    feed = _feed(compared.lhs) if compared is not None else None
    if compared is None or feed is None:
        return None
    threshold, op = compared.threshold, compared.op
    firing, quiet = {
        ">": (threshold * 1.5 or 1.0, threshold * 0.5),
        ">=": (threshold * 1.5 or 1.0, threshold * 0.5),
        "<": (threshold * 0.5, threshold * 1.5 or 1.0),
        "<=": (threshold * 0.5, threshold * 1.5 or 1.0),
        "==": (threshold, threshold + 1),
        "!=": (threshold + 1, threshold),
    }[op]
    if not _holds(firing, op, threshold) or _holds(quiet, op, threshold):
        return None  # e.g. `< 0`: no value of a series is below it
    pending = alert.for_ or timedelta(0)
    # A rate reaches the fed value only once its window is full of samples.
    warmup = alert.window if feed.counter and alert.window is not None else timedelta(0)
    steps = int((warmup + pending + 8 * STEP) / STEP)
    series = []
    for case, value in (("firing", firing), ("quiet", quiet)):
        labels = ", ".join(f'{k}="{v}"' for k, v in {**feed.matchers, "instance": case}.items())
        if feed.counter:
            values = f"0+{value * STEP.total_seconds():g}x{steps}"
        else:
            values = f"{value:g}+0x{steps}"  # a bare "0x36" would read as hex
        series.append({"series": f"{feed.series}{{{labels}}}", "values": values})
    expected = {
        **feed.labels,
        "instance": "firing",
        **rule.get("labels", {}),
        "alertname": rule["alert"],
        "alertstate": "firing",
    }
    checks = [
        {
            "expr": _FIRING.format(alert=rule["alert"]),
            "eval_time": format_duration(warmup + pending + 4 * STEP),
            "exp_samples": [{"labels": _series_text("ALERTS", expected), "value": 1}],
        }
    ]
    if pending >= 2 * STEP:
        checks.insert(
            0,
            {
                "expr": _FIRING.format(alert=rule["alert"]),
                "eval_time": format_duration(pending - STEP),
                "exp_samples": [],
            },
        )
    return {
        "name": f"{rule['alert']} as tuned: fires beyond its threshold only after its for",
        "interval": format_duration(STEP),
        "input_series": series,
        "promql_expr_test": checks,
    }


def _holds(value: float, op: str, threshold: float) -> bool:
    return {
        ">": value > threshold,
        ">=": value >= threshold,
        "<": value < threshold,
        "<=": value <= threshold,
        "==": value == threshold,
        "!=": value != threshold,
    }[op]


def _feed(lhs: promql_parser.Expr) -> _Feed | None:
    """The series that makes `lhs` take a chosen value, if `lhs` is of a shape we know."""
    node, kept = lhs, None
    if isinstance(node, promql_parser.AggregateExpr):
        modifier = node.modifier
        if (
            str(node.op) not in _AGGREGATIONS
            or modifier is None
            or modifier.type != promql_parser.AggModifierType.By
            or "instance" not in modifier.labels  # the two cases, told apart by instance
        ):
            return None
        node, kept = node.expr, set(modifier.labels)
    counter = isinstance(node, promql_parser.Call)
    if isinstance(node, promql_parser.Call):
        if node.func.name != "rate" or not isinstance(node.args[0], promql_parser.MatrixSelector):
            return None
        node = node.args[0].vector_selector
    if not isinstance(node, promql_parser.VectorSelector) or not node.name:
        return None
    matchers = node.matchers.matchers
    if any(m.op != promql_parser.MatchOp.Equal for m in matchers) or node.matchers.or_matchers:
        return None
    labels = {m.name: m.value for m in matchers if m.name != "__name__"}
    result = labels if kept is None else {k: v for k, v in labels.items() if k in kept}
    return _Feed(node.name, labels, result, counter)


def _series_text(name: str, labels: dict[str, str]) -> str:
    return name + "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
