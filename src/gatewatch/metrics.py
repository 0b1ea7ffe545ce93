"""gatewatch's own Prometheus metrics, on a registry per app so tests stay independent."""

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gatewatch.model import Incident, IncidentStatus

# Label values taken from alerts: at most this many distinct, this long; the rest is "other".
MAX_SERVICES = 100
MAX_LABEL_VALUE = 64
OTHER = "other"
INGEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class _IncidentStateCollector(Collector):
    """Reads incident counts at scrape time, so the gauge can never drift from the store."""

    def __init__(self, count_by_status: Callable[[], dict[str, int]]) -> None:
        self._count_by_status = count_by_status

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "gatewatch_incidents", "Incidents in the store by state", labels=["status"]
        )
        try:
            counts = self._count_by_status()
        except Exception:
            return [GaugeMetricFamily("gatewatch_store_up", "Store reachable at scrape", 0)]
        for status in IncidentStatus:
            family.add_metric([status.value], counts.get(status.value, 0))
        return [family, GaugeMetricFamily("gatewatch_store_up", "Store reachable at scrape", 1)]


class _OutboxCollector(Collector):
    def __init__(self, counts: Callable[[], dict[str, int]]) -> None:
        self._counts = counts

    def collect(self) -> Iterable[Metric]:
        try:
            counts = self._counts()
        except Exception:
            return []
        family = GaugeMetricFamily(
            "gatewatch_notifications", "Outbox notifications by state", labels=["status"]
        )
        for status in ("pending", "sending", "delivered", "dead", "cancelled"):
            family.add_metric([status], counts.get(status, 0))
        timers = GaugeMetricFamily(
            "gatewatch_timers_pending",
            "Escalation timers waiting to run",
            counts.get("timers_pending", 0),
        )
        return [family, timers]


class Metrics:
    def __init__(
        self,
        count_by_status: Callable[[], dict[str, int]],
        notification_counts: Callable[[], dict[str, int]],
    ) -> None:
        self.registry = CollectorRegistry()
        self._services: set[str] = set()
        self.alerts_received = Counter(
            "gatewatch_alerts_received",
            "Alerts accepted by ingest",
            ["source", "status"],
            registry=self.registry,
        )
        self.ingest_requests = Counter(
            "gatewatch_ingest_requests",
            "Ingest requests by outcome (accepted, invalid, too_large, unavailable, error)",
            ["source", "outcome"],
            registry=self.registry,
        )
        self.ingest_duration = Histogram(
            "gatewatch_ingest_duration_seconds",
            "Time from request received to alerts committed",
            ["source"],
            buckets=INGEST_BUCKETS,
            registry=self.registry,
        )
        self.incidents_opened = Counter(
            "gatewatch_incidents_opened", "Incidents opened", registry=self.registry
        )
        self.incidents_auto_resolved = Counter(
            "gatewatch_incidents_auto_resolved",
            "Incidents resolved because all their alerts resolved",
            registry=self.registry,
        )
        self.http_errors = Counter(
            "gatewatch_http_errors",
            "Requests that failed inside gatewatch (HTTP 5xx)",
            ["reason"],
            registry=self.registry,
        )
        self.notifications_sent = Counter(
            "gatewatch_notification_attempts",
            "Delivery attempts by channel and outcome (delivered, retry, dead)",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.notifications_throttled = Counter(
            "gatewatch_notifications_throttled",
            "Notifications held back by a channel's rate limit (delayed, never dropped)",
            ["channel"],
            registry=self.registry,
        )
        self.notification_latency = Histogram(
            "gatewatch_notification_latency_seconds",
            "From the notification being queued to the channel accepting it",
            ["channel"],
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=self.registry,
        )
        self.notification_errors = Counter(
            "gatewatch_notification_errors",
            "Sends that raised inside gatewatch (counted as failed attempts of that one)",
            ["channel"],
            registry=self.registry,
        )
        self.template_errors = Counter(
            "gatewatch_template_errors",
            "User templates that failed; the default text was sent instead",
            ["channel"],
            registry=self.registry,
        )
        response_buckets = (30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400)
        self.time_to_acknowledge = Histogram(
            "gatewatch_incident_time_to_acknowledge_seconds",
            "From an incident's trigger to its first acknowledgement (MTTA = sum / count)",
            ["severity", "service"],
            buckets=response_buckets,
            registry=self.registry,
        )
        self.time_to_resolve = Histogram(
            "gatewatch_incident_time_to_resolve_seconds",
            "From an incident's trigger to its resolution (MTTR = sum / count)",
            ["severity", "service"],
            buckets=response_buckets,
            registry=self.registry,
        )
        self.timer_lateness = Histogram(
            "gatewatch_timer_lateness_seconds",
            "How late escalation timers ran after their due time",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.slo_budget_remaining = Gauge(
            "gatewatch_slo_error_budget_remaining_ratio",
            "Share of the 30-day error budget left",
            ["service", "slo"],
            registry=self.registry,
        )
        self.slo_burn_rate = Gauge(
            "gatewatch_slo_burn_rate",
            "Error ratio over a window divided by the budget",
            ["service", "slo", "window"],
            registry=self.registry,
        )
        self.slo_sli = Gauge(
            "gatewatch_slo_sli_ratio",
            "Good share of events over the 30-day period",
            ["service", "slo"],
            registry=self.registry,
        )
        self.registry.register(_IncidentStateCollector(count_by_status))
        self.registry.register(_OutboxCollector(notification_counts))

    def template_errors_for(self, channel: str) -> None:
        self.template_errors.labels(channel).inc()

    def _service_label(self, service: str | None) -> str:
        """An alert's `service` label, bounded: /metrics is unauthenticated and scraped, so
        neither its cardinality nor its text is left to whoever sends alerts."""
        value = (service or "unknown")[:MAX_LABEL_VALUE]
        if value in self._services:
            return value
        if len(self._services) >= MAX_SERVICES:
            return OTHER
        self._services.add(value)
        return value

    def observe_response(self, incident: Incident) -> None:
        """After an acknowledgement or a resolution: feed the MTTA / MTTR histograms."""
        labels = (incident.severity, self._service_label(incident.service))
        if incident.status is IncidentStatus.RESOLVED and incident.resolved_at is not None:
            took = incident.resolved_at - incident.triggered_at
            self.time_to_resolve.labels(*labels).observe(took.total_seconds())
        elif incident.status is IncidentStatus.ACKNOWLEDGED and incident.acknowledged_at:
            took = incident.acknowledged_at - incident.triggered_at
            self.time_to_acknowledge.labels(*labels).observe(took.total_seconds())
