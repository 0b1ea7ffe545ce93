"""The incident engine as one object the HTTP layer calls: each method is one transaction."""

from dataclasses import dataclass

from sqlalchemy import Engine

from gatewatch.clock import Clock
from gatewatch.config import GatewatchConfig
from gatewatch.errors import NotFound
from gatewatch.incidents.grouping import IngestResult, ingest_batch
from gatewatch.incidents.lifecycle import acknowledge, add_note, resolve
from gatewatch.incidents.severity import SeverityScale
from gatewatch.matchers import Matcher, match_all
from gatewatch.metrics import Metrics
from gatewatch.model import AlertBatch, AlertStatus, Incident, StoredAlert, TimelineEvent
from gatewatch.routing import Router
from gatewatch.store import alerts as alert_store
from gatewatch.store import incidents as incident_store
from gatewatch.store.database import read_transaction, run_transaction


@dataclass(frozen=True)
class IncidentDetail:
    incident: Incident
    alerts: list[StoredAlert]
    timeline: list[TimelineEvent]


class IncidentEngine:
    def __init__(self, config: GatewatchConfig, engine: Engine, clock: Clock) -> None:
        self.config = config
        self.engine = engine
        self.clock = clock
        self.router = Router(config)
        self.severities = SeverityScale(config.severities, config.default_severity)
        self.metrics = Metrics(self.incident_counts)

    def ingest(self, batch: AlertBatch) -> IngestResult:
        """Commit the batch; only after this returns may the sender get its 2xx."""
        now = self.clock.now()
        result = run_transaction(
            self.engine,
            lambda connection: ingest_batch(connection, batch, self.router, self.severities, now),
        )
        self.metrics.alerts_received.labels(batch.source, AlertStatus.FIRING.value).inc(
            result.firing
        )
        self.metrics.alerts_received.labels(batch.source, AlertStatus.RESOLVED.value).inc(
            result.resolved
        )
        self.metrics.incidents_opened.inc(len(result.opened))
        self.metrics.incidents_auto_resolved.inc(len(result.closed))
        return result

    def acknowledge(self, incident_id: int, actor: str, note: str | None) -> Incident:
        now = self.clock.now()
        return run_transaction(
            self.engine, lambda connection: acknowledge(connection, incident_id, actor, note, now)
        )

    def resolve(self, incident_id: int, actor: str, note: str | None) -> Incident:
        now = self.clock.now()
        return run_transaction(
            self.engine, lambda connection: resolve(connection, incident_id, actor, note, now)
        )

    def add_note(self, incident_id: int, actor: str, text: str) -> TimelineEvent:
        now = self.clock.now()
        return run_transaction(
            self.engine, lambda connection: add_note(connection, incident_id, actor, text, now)
        )

    def list_incidents(
        self, filters: incident_store.IncidentFilter, limit: int, offset: int
    ) -> tuple[list[Incident], int]:
        with read_transaction(self.engine) as connection:
            return incident_store.list_incidents(connection, filters, limit, offset)

    def incident_detail(self, incident_id: int) -> IncidentDetail:
        with read_transaction(self.engine) as connection:
            incident = incident_store.get_incident(connection, incident_id)
            if incident is None:
                raise NotFound(f"incident {incident_id} does not exist")
            return IncidentDetail(
                incident=incident,
                alerts=incident_store.incident_alert_list(connection, incident_id),
                timeline=incident_store.timeline(connection, incident_id),
            )

    def alerts(self, status: AlertStatus | None, matchers: list[Matcher]) -> list[StoredAlert]:
        with read_transaction(self.engine) as connection:
            stored = alert_store.list_alerts(connection, status)
        return [alert for alert in stored if match_all(matchers, alert.labels)]

    def incident_counts(self) -> dict[str, int]:
        with read_transaction(self.engine) as connection:
            return incident_store.count_by_status(connection)
