"""promtool tests for tuned alerts, generated from the same parameters as the rules: a series
on each side of the tuned threshold, checked before and after the tuned `for`.

The hand-written tests prove the packs as shipped; these prove what a team's overrides
built. An alert's left-hand side is fed directly when it is a plain or recorded series, or
as a counter when it is the rate of one (summed or not); other shapes are reported as not
covered rather than guessed at.
"""

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import yaml

from gatewatch.durations import format_duration
from gatewatch.model import RulePack
from gatewatch.rules.tuning import COMPARISON, Change, tunable

STEP = timedelta(seconds=15)
_SELECTOR = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<matchers>[^}]*)\})?$")
_EQUALITY = re.compile(r'^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"([^"]*)"\s*$')
# `[sum|max|min|avg by (…) (]rate(selector[w])[)]` or the same around a bare selector.
_AGGREGATED = re.compile(
    r"^(?:(?:sum|max|min|avg)\s+by\s*\((?P<by>[^)]*)\)\s*\(\s*)?"
    r"(?P<inner>.*?)(?(by)\s*\))$",
    re.S,
)
_RATE = re.compile(r"^rate\((?P<selector>[^\[\]]+)\[[^\]]+\]\)$")
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
    match = COMPARISON.match(str(rule["expr"]).strip())
    feed = _feed(match["lhs"].strip()) if match is not None else None
    if match is None or feed is None:
        return None
    threshold = float(match["value"])
    op = match["op"].replace("bool", "").strip()
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


def _feed(lhs: str) -> _Feed | None:
    """The series that makes `lhs` take a chosen value, if `lhs` is of a shape we know."""
    aggregated = _AGGREGATED.match(lhs)
    if aggregated is None:
        return None
    inner = aggregated["inner"].strip()
    rate = _RATE.match(inner)
    counter = rate is not None
    selector = _SELECTOR.match(rate["selector"].strip() if rate else inner)
    if selector is None:
        return None
    labels: dict[str, str] = {}
    for matcher in filter(None, (selector["matchers"] or "").split(",")):
        equality = _EQUALITY.match(matcher)
        if equality is None:
            return None
        labels[equality[1]] = equality[2]
    kept = set(labels)
    if aggregated["by"] is not None:
        kept = {name.strip() for name in aggregated["by"].split(",")}
        if "instance" not in kept:  # the two cases, told apart by instance, would be summed
            return None
    result = {k: v for k, v in labels.items() if k in kept}
    return _Feed(selector["name"], labels, result, counter)


def _series_text(name: str, labels: dict[str, str]) -> str:
    return name + "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
