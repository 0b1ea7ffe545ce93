"""An SLO's error budget over its period, from Prometheus's history of the period-long error
ratio: the series behind the UI's burn-down chart."""

import time
from dataclasses import dataclass

import httpx

from gatewatch.slo.generate import PERIOD_DAYS, slo_id
from gatewatch.slo.spec import Slo, SloSpec
from gatewatch.slo.status import PERIOD, PrometheusUnavailable

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
    try:
        response = http.get(
            f"{prometheus_url.rstrip('/')}/api/v1/query_range",
            params={"query": query, "start": start, "end": end, "step": (end - start) / POINTS},
        )
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise PrometheusUnavailable(
            f"cannot query Prometheus at {prometheus_url}: {exc}",
            hint="start Prometheus or point prometheus.url (config) at it",
        ) from exc
    budget = float(slo.error_budget)
    points = []
    for series in response.json()["data"]["result"][:1]:
        for stamp, value in series["values"]:
            ratio = float(value)
            if ratio == ratio:
                points.append(BudgetPoint(float(stamp), 1 - ratio / budget))
    return points
