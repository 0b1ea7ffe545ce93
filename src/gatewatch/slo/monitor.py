"""Polls Prometheus for every SLO: exports gatewatch_slo_* gauges and feeds budget policies
into gatewatch's own ingest, like any other alert source."""

import logging
from collections.abc import Callable

import httpx

from gatewatch.clock import Clock
from gatewatch.metrics import Metrics
from gatewatch.model import AlertBatch
from gatewatch.slo.policies import policy_alerts
from gatewatch.slo.spec import SloSpec
from gatewatch.slo.status import PrometheusUnavailable, slo_status

log = logging.getLogger(__name__)


class SloMonitor:
    def __init__(
        self,
        specs: list[SloSpec],
        prometheus_url: str,
        external_url: str,
        ingest: Callable[[AlertBatch], object],
        clock: Clock,
        metrics: Metrics,
    ) -> None:
        self.specs = specs
        self._prometheus_url = prometheus_url
        self._external_url = external_url
        self._ingest = ingest
        self._clock = clock
        self._metrics = metrics
        self._reachable = True

    def run_once(self, http: httpx.Client) -> int:
        """One pass; returns how many SLOs had data."""
        try:
            statuses = slo_status(self._prometheus_url, self.specs, http, check_buckets=False)
        except PrometheusUnavailable as exc:
            if self._reachable:  # say it once, not every poll
                log.warning("SLO status unavailable: %s", exc)
            self._reachable = False
            return 0
        if not self._reachable:
            log.info("SLO status available again from Prometheus")
        self._reachable = True
        metrics = self._metrics
        for status in statuses:
            key = (status.service, status.slo)
            if status.error_budget_remaining is not None and status.sli is not None:
                metrics.slo_budget_remaining.labels(*key).set(status.error_budget_remaining)
                metrics.slo_sli.labels(*key).set(status.sli)
            for window, rate in status.burn_rates.items():
                if rate is not None:
                    metrics.slo_burn_rate.labels(*key, window).set(rate)
        alerts = policy_alerts(self.specs, statuses, self._external_url, self._clock.now())
        if alerts:
            self._ingest(AlertBatch(source="slo", alerts=alerts))
        return sum(1 for s in statuses if s.error_budget_remaining is not None)
