"""Tuning the shipped packs from gatewatch.yml: a threshold, a pending period, a window or
labels changed per alert, or an alert left out, without editing generated files.

Each pack alert declares what may be tuned: `tuning: {threshold: <unit>}` names the unit of
the number its expression's top-level comparison is against; `for` is always
tunable, the window when the alert's own selectors share one range. Annotations say
`${threshold}`, `${for}` and `${window}` where they quote them, so a tuned alert describes
itself truly.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import promql_parser

from gatewatch.config.rules import AlertOverride, RulesTuning
from gatewatch.config.schema import PathKey
from gatewatch.durations import format_duration, parse_duration
from gatewatch.model import RulePack

UNITS = ("seconds", "ratio", "percent", "count", "per_second")
_COMPARISONS = (">", ">=", "<", "<=", "==", "!=")
# Where the text of an expression's last number literal starts (the grammar says whether
# that literal is the top-level threshold; this only finds it in the text to replace it).
_LAST_NUMBER = re.compile(r"^(?P<head>.*?)[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?\s*$", re.S)
_RANGE = re.compile(r"\[(\d+(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*)(:[^\]]*)?\]")
_PLACEHOLDER = re.compile(r"\$\{(threshold|for|window)\}")


class TuningError(ValueError):
    """A pack's tuning declaration that does not fit its expression."""


@dataclass(frozen=True)
class Comparison:
    """An expression's top-level comparison against a number, as PromQL's grammar reads it."""

    lhs: promql_parser.Expr
    op: str
    threshold: float
    head: str  # the expression's text before the number

    def with_threshold(self, value: float) -> str:
        return f"{self.head}{_number(value)}"


def comparison(expr: str) -> Comparison | None:
    """`… > 0.5`, `… < bool 3`: the comparison an alert's expression ends in, if any."""
    try:
        node = promql_parser.parse(expr)
    except ValueError:
        return None
    if not (
        isinstance(node, promql_parser.BinaryExpr)
        and isinstance(node.rhs, promql_parser.NumberLiteral)
        and str(node.op) in _COMPARISONS
    ):
        return None
    text = _LAST_NUMBER.match(expr.strip())
    assert text is not None, "the grammar found a number literal last"
    return Comparison(node.lhs, str(node.op), node.rhs.val, text["head"])


@dataclass(frozen=True)
class Tunable:
    """What one alert lets a team change, and its values as built."""

    alert: str
    pack: str
    unit: str | None  # of the threshold; None: no threshold to tune
    compared: Comparison | None  # the comparison the expression ends in, if any
    for_: timedelta | None
    window: timedelta | None  # None: no range of its own (it reads a recording rule)

    @property
    def threshold(self) -> float | None:
        """The number a declared threshold compares against; None when none is declared."""
        return self.compared.threshold if self.unit is not None and self.compared else None


@dataclass(frozen=True)
class Change:
    """One tuned value, for `gatewatch rules build` to print."""

    alert: str
    parameter: str
    before: str
    after: str


def tunable(pack: RulePack, rule: dict[str, Any]) -> Tunable:
    """An alert's tunable parameters, from its declaration and its expression."""
    expr = str(rule["expr"]).strip()
    unit = (rule.get("tuning") or {}).get("threshold")
    compared = comparison(expr)
    if unit is not None:
        if unit not in UNITS:
            raise TuningError(f"{rule['alert']}: threshold unit {unit!r} is not one of {UNITS}")
        if compared is None:
            raise TuningError(f"{rule['alert']}: declares a threshold but ends in no comparison")
    ranges = _RANGE.findall(expr)
    plain = {window for window, subquery in ranges if not subquery}
    window = (
        parse_duration(plain.pop()) if len(plain) == 1 and all(not s for _, s in ranges) else None
    )
    for_ = parse_duration(rule["for"]) if "for" in rule else None
    return Tunable(rule["alert"], pack.name, unit, compared, for_, window)


def catalogue(packs: Iterable[RulePack]) -> dict[str, Tunable]:
    return {rule["alert"]: tunable(pack, rule) for pack in packs for rule in pack.alerts()}


def parse_threshold(value: float | str, unit: str) -> float:
    """An override's threshold in the alert's unit; ValueError says what the unit takes."""
    text = str(value).strip()
    if unit == "seconds":
        if isinstance(value, str):
            return parse_duration(text).total_seconds()
        raise ValueError("the threshold is a duration: write it with its unit, e.g. 500ms or 1s")
    if unit in ("ratio", "percent") and text.endswith("%"):
        percent = float(text[:-1])
        return percent / 100 if unit == "ratio" else percent
    if unit == "per_second" and text.endswith("/s"):
        text = text[:-2]
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"the threshold is {_EXAMPLES[unit]}, not {_shown(value)}") from None
    if unit == "ratio" and not 0 <= number <= 1:
        raise ValueError(
            f"the threshold is a ratio from 0 to 1 (or a percentage), not {_shown(value)}"
        )
    if number < 0:
        raise ValueError(f"the threshold is {_EXAMPLES[unit]}, not a negative number")
    return number


_EXAMPLES = {
    "seconds": "a duration such as 500ms",
    "ratio": "a ratio such as 0.05 or 5%",
    "percent": "a percentage such as 85%",
    "count": "a count such as 50000",
    "per_second": "a rate such as 10/s",
}


def tuning_errors(tuning: RulesTuning, packs: Iterable[RulePack]) -> list[tuple[PathKey, str]]:
    """Overrides naming an alert no pack has, a parameter it does not have, or a value in
    the wrong unit; each with its config path."""
    known = catalogue(packs)
    errors: list[tuple[PathKey, str]] = []
    for name, override in tuning.overrides.items():
        where: PathKey = ("rules", "overrides", name)
        alert = known.get(name)
        if alert is None:
            errors.append((where, f"no pack has an alert {name!r}"))
            continue
        for parameter, problem in _override_problems(alert, override):
            errors.append(((*where, parameter), problem))
    for index, name in enumerate(tuning.disabled):
        if name not in known:
            errors.append((("rules", "disabled", index), f"no pack has an alert {name!r}"))
    return errors


def _override_problems(alert: Tunable, override: AlertOverride) -> list[tuple[str, str]]:
    problems = []
    if override.threshold is not None:
        if alert.unit is None:
            problems.append(("threshold", f"{alert.alert} has no threshold to tune"))
        else:
            try:
                parse_threshold(override.threshold, alert.unit)
            except ValueError as exc:
                problems.append(("threshold", f"{alert.alert}: {exc}"))
    if override.window is not None and alert.window is None:
        problems.append(("window", f"{alert.alert} has no range selector of its own to tune"))
    return problems


def apply_tuning(pack: RulePack, tuning: RulesTuning) -> tuple[RulePack, list[Change]]:
    """The pack with its overrides applied and its disabled alerts left out."""
    changes: list[Change] = []
    groups = []
    for group in pack.groups:
        rules = []
        for rule in group["rules"]:
            name = rule.get("alert")
            if name in tuning.disabled:
                changes.append(Change(name, "enabled", "yes", "no (disabled)"))
                continue
            override = tuning.overrides.get(name) if name is not None else None
            if override is not None:
                rule = _tuned(tunable(pack, rule), rule, override, changes)
            rules.append(rule)
        groups.append({**group, "rules": rules})
    return replace(pack, groups=groups), changes


def _tuned(
    alert: Tunable, rule: dict[str, Any], override: AlertOverride, changes: list[Change]
) -> dict[str, Any]:
    tuned = dict(rule)
    expr = str(rule["expr"]).strip()
    if override.threshold is not None and alert.unit is not None:
        value = parse_threshold(override.threshold, alert.unit)
        assert alert.compared is not None and alert.threshold is not None
        expr = alert.compared.with_threshold(value)
        changes.append(
            Change(
                alert.alert,
                "threshold",
                _human(alert.threshold, alert.unit),
                _human(value, alert.unit),
            )
        )
    if override.window is not None and alert.window is not None:
        window = format_duration(override.window)
        expr = _RANGE.sub(f"[{window}]", expr)
        changes.append(Change(alert.alert, "window", format_duration(alert.window), window))
    if override.for_ is not None:
        tuned["for"] = format_duration(override.for_)
        before = format_duration(alert.for_) if alert.for_ is not None else "none"
        changes.append(Change(alert.alert, "for", before, tuned["for"]))
    for label, text in override.labels.items():
        before = str(rule.get("labels", {}).get(label, "none"))
        changes.append(Change(alert.alert, f"label {label}", before, text))
    if override.labels:
        tuned["labels"] = {**rule.get("labels", {}), **override.labels}
    tuned["expr"] = expr
    return tuned


def described(pack: RulePack, rule: dict[str, Any]) -> dict[str, str]:
    """The rule's annotations with `${threshold}`, `${for}` and `${window}` filled in from
    the rule as built (tuned or not)."""
    annotations = {key: str(text) for key, text in rule.get("annotations", {}).items()}
    if not any("${" in text for text in annotations.values()):
        return annotations
    alert = tunable(pack, rule)
    values = {
        "threshold": _human(alert.threshold, alert.unit)
        if alert.threshold is not None and alert.unit is not None
        else None,
        "for": _spoken(alert.for_) if alert.for_ is not None else None,
        "window": _spoken(alert.window) if alert.window is not None else None,
    }

    def fill(match: re.Match[str]) -> str:
        value = values[match[1]]
        if value is None:
            raise TuningError(f"{alert.alert}: its annotation quotes ${{{match[1]}}}, it has none")
        return value

    return {key: _PLACEHOLDER.sub(fill, text) for key, text in annotations.items()}


def _shown(value: float | str) -> str:
    return f"{value:g}" if isinstance(value, float) else repr(value)


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _human(value: float, unit: str) -> str:
    """How an annotation quotes a threshold: 500ms, 5%, 85%, 100k, 10."""
    if unit == "seconds":
        return format_duration(timedelta(seconds=value))
    if unit == "ratio":
        return f"{round(value * 100, 6):g}%"
    if unit == "percent":
        return f"{value:g}%"
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if value >= 10 * size and value % (size // 10) == 0:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def _spoken(period: timedelta) -> str:
    """A period as a sentence says it: 5 minutes, 1 hour, 90 seconds; else 1h30m."""
    seconds = int(period.total_seconds())
    for size, name in ((3600, "hour"), (60, "minute"), (1, "second")):
        if seconds and seconds % size == 0 and period.microseconds == 0:
            count = seconds // size
            return f"{count} {name}{'s' if count != 1 else ''}"
    return format_duration(period)
