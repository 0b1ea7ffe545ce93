"""An SLO's error budget over its period, from Prometheus's history of the period-long error
ratio: the series behind the UI's burn-down chart."""

import time
from dataclasses import dataclass

import httpx

from gatewatch.slo.generate import slo_id
from gatewatch.slo.spec import PERIOD_DAYS, Slo, SloSpec
from gatewatch.slo.status import PERIOD, prometheus_api

POINTS = 120


@dataclass(frozen=True)
class BudgetPoint:
    at: float  # unix seconds
    remaining: float  # share of the period's budget left; below 0 once overspent


def budget_history(
    prometheus_url: str,
    spec: SloSpec,
    slo: Slo,
    http: httpx.Client,
    now: float | None = None,
    span_seconds: float = PERIOD_DAYS * 86400,
) -> list[BudgetPoint]:
    """Budget left at POINTS moments over the last `span_seconds` (default: the period)."""
    end = now if now is not None else time.time()
    start = end - span_seconds
    query = f'slo:sli_error:ratio_rate{PERIOD}{{sloth_id="{slo_id(spec, slo)}"}}'
    params = {"query": query, "start": start, "end": end, "step": (end - start) / POINTS}
    data = prometheus_api(http, prometheus_url, "query_range", params)
    budget = float(slo.error_budget)
    points = []
    for series in data["result"][:1]:
        for stamp, value in series["values"]:
            ratio = float(value)
            if ratio == ratio:
                points.append(BudgetPoint(float(stamp), 1 - ratio / budget))
    return points
