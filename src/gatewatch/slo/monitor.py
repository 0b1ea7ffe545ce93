"""Polls Prometheus for every SLO: exports gatewatch_slo_* gauges and feeds budget policies
into the engine's own ingest."""

import logging

import httpx

from gatewatch.model import AlertBatch
from gatewatch.service import IncidentEngine
from gatewatch.slo.policies import policy_alerts
from gatewatch.slo.spec import SloSpec
from gatewatch.slo.status import PrometheusUnavailable, slo_status

log = logging.getLogger(__name__)


class SloMonitor:
    def __init__(self, engine: IncidentEngine, specs: list[SloSpec]) -> None:
        self.engine = engine
        self.specs = specs
        self._reachable = True

    def run_once(self, http: httpx.Client) -> int:
        """One pass; returns how many SLOs had data."""
        try:
            statuses = slo_status(
                self.engine.config.prometheus.url, self.specs, http, check_buckets=False
            )
        except PrometheusUnavailable as exc:
            if self._reachable:  # say it once, not every poll
                log.warning("SLO status unavailable: %s", exc)
            self._reachable = False
            return 0
        if not self._reachable:
            log.info("SLO status available again from Prometheus")
        self._reachable = True
        metrics = self.engine.metrics
        for status in statuses:
            key = (status.service, status.slo)
            if status.error_budget_remaining is not None and status.sli is not None:
                metrics.slo_budget_remaining.labels(*key).set(status.error_budget_remaining)
                metrics.slo_sli.labels(*key).set(status.sli)
            for window, rate in status.burn_rates.items():
                if rate is not None:
                    metrics.slo_burn_rate.labels(*key, window).set(rate)
        alerts = policy_alerts(
            self.specs, statuses, self.engine.config.external_url, self.engine.clock.now()
        )
        if alerts:
            self.engine.ingest(AlertBatch(source="slo", alerts=alerts))
        return sum(1 for s in statuses if s.error_budget_remaining is not None)
