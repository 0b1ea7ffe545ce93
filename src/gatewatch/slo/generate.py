"""SLO spec in, Prometheus rules out: Sloth's recording rules, labels and burn-rate alerts,
with exact long windows.

The windows alerts read (5m to 6h) are plain `rate()` over the window, as Sloth's, so alerts
fire when Sloth's fire. The long windows (1d, 3d, 30d) are sum_over_time(errors) /
sum_over_time(total) over 5m rate records: each 5m slice weighed by its traffic (exact,
unlike an average of ratios), cheap, and an idle slice does not turn the period into NaN.
Denominators are guarded so no traffic reads as no data, never as 100% or NaN.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from gatewatch import __version__
from gatewatch.model import EXTERNAL_URL_PLACEHOLDER, RulePack
from gatewatch.slo.spec import PERIOD_DAYS, WINDOW, Slo, SloSpec, SloSpecError

FAST_WINDOWS = ("5m", "30m", "1h", "2h", "6h")
SLOW_WINDOWS = ("1d", "3d", f"{PERIOD_DAYS}d")
# The SLO dashboard its alerts link to (the runbooks' name for it, seed 004).
DASHBOARD_UID = "im-gateway-slo"
_HOURS = {
    "5m": Decimal(5) / 60,
    "30m": Decimal("0.5"),
    "1h": Decimal(1),
    "2h": Decimal(2),
    "6h": Decimal(6),
    "1d": Decimal(24),
    "3d": Decimal(72),
}


@dataclass(frozen=True)
class BurnWindow:
    """Page or ticket when both windows burn faster than `factor` x budget."""

    long: str
    short: str
    budget_share: Decimal

    def factor(self, period_days: int = PERIOD_DAYS) -> Decimal:
        """Share of the budget consumed x period / long window: 2% in 1h of 30d is 14.4."""
        return (self.budget_share * period_days * 24 / _HOURS[self.long]).normalize()


PAGE = (BurnWindow("1h", "5m", Decimal("0.02")), BurnWindow("6h", "30m", Decimal("0.05")))
TICKET = (BurnWindow("1d", "2h", Decimal("0.10")), BurnWindow("3d", "6h", Decimal("0.10")))


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _with_window(query: str, window: str) -> str:
    return WINDOW.sub(window, query).strip()


def slo_id(spec: SloSpec, slo: Slo) -> str:
    return f"{spec.service}-{slo.name}"


def _labels(spec: SloSpec, slo: Slo) -> dict[str, str]:
    return {
        **spec.labels,
        **slo.labels,
        "sloth_service": spec.service,
        "sloth_slo": slo.name,
        "sloth_id": slo_id(spec, slo),
    }


def _ratio_rules(spec: SloSpec, slo: Slo) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    labels = _labels(spec, slo)
    select = f'{{sloth_id="{slo_id(spec, slo)}"}}'

    def ratio(window: str, expr: str) -> dict[str, Any]:
        return {
            "record": f"slo:sli_error:ratio_rate{window}",
            "labels": {**labels, "sloth_window": window},
            "expr": expr,
        }

    fast: list[dict[str, Any]] = []
    slow: list[dict[str, Any]] = []
    if slo.sli.events is not None:
        errors, total = slo.sli.events.error_query, slo.sli.events.total_query
        fast += [
            # `or vector(0)`: with traffic but no error series yet, errors are 0, not absent.
            {
                "record": "slo:sli_error:rate5m",
                "labels": labels,
                "expr": f"({_with_window(errors, '5m')}) or on() vector(0)",
            },
            {"record": "slo:sli_total:rate5m", "labels": labels, "expr": _with_window(total, "5m")},
        ]
        fast += [
            ratio(
                window,
                f"(({_with_window(errors, window)}) or on() vector(0))\n"
                f"  / (({_with_window(total, window)}) > 0)",
            )
            for window in FAST_WINDOWS
        ]
        slow += [
            ratio(
                window,
                f"sum_over_time(slo:sli_error:rate5m{select}[{window}])\n"
                f"  / (sum_over_time(slo:sli_total:rate5m{select}[{window}]) > 0)",
            )
            for window in SLOW_WINDOWS
        ]
    else:
        assert slo.sli.raw is not None
        fast += [
            ratio(window, _with_window(slo.sli.raw.error_ratio_query, window))
            for window in FAST_WINDOWS
        ]
        # A ratio query gives no counts: the long windows average its 5m values.
        slow += [
            ratio(window, f"avg_over_time(slo:sli_error:ratio_rate5m{select}[{window}])")
            for window in SLOW_WINDOWS
        ]
    return fast, slow


def _meta_rules(spec: SloSpec, slo: Slo) -> list[dict[str, Any]]:
    labels = _labels(spec, slo)
    select = f'{{sloth_id="{slo_id(spec, slo)}"}}'
    budget = _number(slo.error_budget)
    period = f"{PERIOD_DAYS}d"
    return [
        {
            "record": "slo:objective:ratio",
            "labels": labels,
            "expr": f"vector({_number(slo.objective / 100)})",
        },
        {"record": "slo:error_budget:ratio", "labels": labels, "expr": f"vector({budget})"},
        {"record": "slo:time_period:days", "labels": labels, "expr": f"vector({PERIOD_DAYS})"},
        {
            "record": "slo:current_burn_rate:ratio",
            "labels": labels,
            "expr": f"slo:sli_error:ratio_rate5m{select} / {budget}",
        },
        {
            "record": "slo:period_burn_rate:ratio",
            "labels": labels,
            "expr": f"slo:sli_error:ratio_rate{period}{select} / {budget}",
        },
        {
            "record": "slo:period_error_budget_remaining:ratio",
            "labels": labels,
            "expr": f"1 - slo:period_burn_rate:ratio{select}",
        },
        {
            # What Sloth's dashboards and tooling list SLOs by.
            "record": "sloth_slo_info",
            "labels": {
                **labels,
                "sloth_mode": "cli-gen-prom",
                "sloth_objective": _number(slo.objective),
                "sloth_spec": spec.version,
                "sloth_version": f"gatewatch-{__version__}",
            },
            "expr": "vector(1)",
        },
    ]


def _alert(
    spec: SloSpec, slo: Slo, kind: str, windows: tuple[BurnWindow, ...]
) -> dict[str, Any] | None:
    alerting = slo.alerting
    extra = alerting.page_alert if kind == "page" else alerting.ticket_alert
    if extra.disable:
        return None
    select = f'{{sloth_id="{slo_id(spec, slo)}"}}'
    clauses = []
    for window in windows:
        threshold = _number(window.factor() * slo.error_budget)
        floor = ""
        if slo.traffic_floor is not None:
            seconds = int(_HOURS[window.long] * 3600)
            floor = (
                f"\n  and on(sloth_id)\n  (avg_over_time(slo:sli_total:rate5m{select}"
                f"[{window.long}]) * {seconds} >= {slo.traffic_floor})"
            )
        clauses.append(
            f"(\n  max(slo:sli_error:ratio_rate{window.short}{select} > {threshold})"
            " without (sloth_window)\n  and\n"
            f"  max(slo:sli_error:ratio_rate{window.long}{select} > {threshold})"
            f" without (sloth_window){floor}\n)"
        )
    factors = " / ".join(f"{_number(w.factor())}x over {w.long}" for w in windows)
    speed = "fast" if kind == "page" else "slowly"
    annotations = {
        "summary": f"{spec.service} {slo.name} SLO error budget is burning {speed}",
        "description": (
            f"Error ratio is {{{{ $value | humanizePercentage }}}} against a "
            f"{_number(slo.error_budget * 100)}% budget ({_number(slo.objective)}% "
            f"objective), burning faster than {factors}."
        ),
        "runbook_url": f"{EXTERNAL_URL_PLACEHOLDER}/runbooks/slo-burn",
        "dashboard_url": f"{EXTERNAL_URL_PLACEHOLDER}/dashboards/{DASHBOARD_UID}?"
        + urlencode({"var-service": spec.service, "var-slo": slo.name}),
        **alerting.annotations,
        **extra.annotations,
    }
    return {
        "alert": alerting.name,
        "expr": "\nor\n".join(clauses),
        "labels": {
            "service": spec.service,
            "slo": slo.name,
            **spec.labels,
            **slo.labels,
            **alerting.labels,
            "sloth_severity": kind,
            **extra.labels,
        },
        "annotations": annotations,
    }


def slo_rules(spec: SloSpec) -> RulePack:
    """The rule groups for every SLO of a spec, as a pack (so time-scaling applies too)."""
    groups: list[dict[str, Any]] = []
    for slo in spec.slos:
        ident = slo_id(spec, slo)
        fast, slow = _ratio_rules(spec, slo)
        alerts = [
            a
            for a in (_alert(spec, slo, "page", PAGE), _alert(spec, slo, "ticket", TICKET))
            if a is not None
        ]
        groups += [
            {"name": f"slo-{ident}-sli", "interval": "30s", "rules": fast},
            # The long windows change slowly and cost the most: evaluate them less often.
            {"name": f"slo-{ident}-sli-long", "interval": "5m", "rules": slow},
            {"name": f"slo-{ident}-meta", "interval": "30s", "rules": _meta_rules(spec, slo)},
            {"name": f"slo-{ident}-alerts", "rules": alerts},
        ]
    return RulePack(f"slo-{spec.service}", groups)


def slo_packs(specs: list[SloSpec]) -> list[RulePack]:
    """One pack (one rule file) per service: specs naming the same service add their SLOs
    to it, so none overwrites another; an SLO id defined twice is an error naming both."""
    packs: dict[str, RulePack] = {}
    defined: dict[str, str] = {}
    for spec in specs:
        for slo in spec.slos:
            ident = slo_id(spec, slo)
            if ident in defined:
                raise SloSpecError(
                    f"SLO {ident!r} is defined twice: in {defined[ident]} and in {spec.source}",
                    hint="give one of them another name (SLO ids are service-slo)",
                )
            defined[ident] = spec.source
        pack = slo_rules(spec)
        known = packs.get(pack.name)
        packs[pack.name] = (
            pack if known is None else RulePack(pack.name, known.groups + pack.groups)
        )
    return list(packs.values())
