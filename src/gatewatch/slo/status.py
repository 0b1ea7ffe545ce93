"""Where each SLO stands, read from Prometheus: SLI, budget left, burn rates, a verdict."""

import re
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

import httpx

from gatewatch.errors import GatewatchError
from gatewatch.slo.generate import FAST_WINDOWS, SLOW_WINDOWS, slo_id
from gatewatch.slo.spec import PERIOD_DAYS, SloSpec

NO_DATA = "no data"
WINDOWS = FAST_WINDOWS + SLOW_WINDOWS
PERIOD = f"{PERIOD_DAYS}d"


class PrometheusUnavailable(GatewatchError):
    """Prometheus did not answer the query."""


@dataclass(frozen=True)
class SloStatus:
    service: str
    slo: str
    objective: float
    sli: float | None
    error_budget_remaining: float | None
    burn_rates: dict[str, float | None]
    status: str
    problems: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def verdict(remaining: float | None) -> str:
    """Seed 002's thresholds: over 50% left healthy, over 10% warning, over 0 critical."""
    if remaining is None:
        return NO_DATA
    if remaining > 0.5:
        return "Healthy"
    if remaining > 0.1:
        return "Warning"
    if remaining > 0:
        return "Critical"
    return "Exhausted"


def prometheus_api(
    http: httpx.Client, prometheus_url: str, path: str, params: dict[str, Any]
) -> Any:
    """The `data` of a Prometheus HTTP API answer; any failure is PrometheusUnavailable."""
    try:
        response = http.get(f"{prometheus_url.rstrip('/')}/api/v1/{path}", params=params)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise PrometheusUnavailable(
            f"cannot query Prometheus at {prometheus_url}: {exc}",
            hint="start Prometheus or point prometheus.url (config) at it",
        ) from exc
    return response.json()["data"]


def _ratios(prometheus_url: str, ident: str, http: httpx.Client) -> dict[str, float]:
    query = f'{{__name__=~"slo:sli_error:ratio_rate.+",sloth_id="{ident}"}}'
    ratios = {}
    for sample in prometheus_api(http, prometheus_url, "query", {"query": query})["result"]:
        window = sample["metric"]["__name__"].removeprefix("slo:sli_error:ratio_rate")
        value = float(sample["value"][1])
        if value == value:  # NaN never counts as data
            ratios[window] = value
    return ratios


_BUCKET = re.compile(r'([A-Za-z_:][A-Za-z0-9_:]*)_bucket\{[^}]*\ble(=~|=)"([^"]+)"')


def missing_buckets(prometheus_url: str, query: str, http: httpx.Client) -> list[str]:
    """A latency SLI over a bucket the histogram does not have counts every event as bad:
    name it. Histograms Prometheus has not seen yet are not judged."""
    problems = []
    for metric, op, wanted in _BUCKET.findall(query):
        series_list = prometheus_api(
            http, prometheus_url, "series", {"match[]": f"{metric}_bucket"}
        )
        buckets = sorted({series["le"] for series in series_list if "le" in series})
        if not buckets:
            continue
        value = wanted.encode().decode("unicode_escape")  # a PromQL string literal
        pattern = re.compile(value if op == "=~" else re.escape(value))
        if not any(pattern.fullmatch(le) for le in buckets):
            problems.append(
                f'{metric} has no bucket le{op}"{wanted}" (buckets: {", ".join(buckets)})'
            )
    return problems


def slo_status(
    prometheus_url: str, specs: list[SloSpec], http: httpx.Client, check_buckets: bool = True
) -> list[SloStatus]:
    """`check_buckets` looks up histogram buckets too: for people, not for every poll."""
    statuses = []
    for spec in specs:
        for slo in spec.slos:
            ratios = _ratios(prometheus_url, slo_id(spec, slo), http)
            problems: tuple[str, ...] = ()
            if check_buckets and slo.sli.events is not None:
                problems = tuple(missing_buckets(prometheus_url, slo.sli.events.error_query, http))
            budget = float(slo.error_budget)
            period = ratios.get(PERIOD)
            remaining = None if period is None else 1 - period / budget
            statuses.append(
                SloStatus(
                    service=spec.service,
                    slo=slo.name,
                    objective=float(slo.objective / Decimal(100)),
                    sli=None if period is None else 1 - period,
                    error_budget_remaining=remaining,
                    burn_rates={w: (ratios[w] / budget if w in ratios else None) for w in WINDOWS},
                    status="misconfigured" if problems else verdict(remaining),
                    problems=problems,
                )
            )
    return statuses
