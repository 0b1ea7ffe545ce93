"""The incident engine as one object the HTTP layer calls: each method is one transaction."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine

from gatewatch.clock import Clock
from gatewatch.config import GatewatchConfig
from gatewatch.errors import Conflict, NotFound
from gatewatch.escalation.paging import Pager
from gatewatch.incidents.grouping import IngestResult, ingest_batch
from gatewatch.incidents.lifecycle import acknowledge, add_note, resolve
from gatewatch.incidents.severity import SeverityScale
from gatewatch.matchers import Matcher, match_all
from gatewatch.metrics import Metrics
from gatewatch.model import AlertBatch, AlertStatus, Incident, StoredAlert, TimelineEvent
from gatewatch.oncall.rotation import OnCallWindow, Override, on_call_window
from gatewatch.routing import Router
from gatewatch.store import alerts as alert_store
from gatewatch.store import incidents as incident_store
from gatewatch.store import oncall as oncall_store
from gatewatch.store import outbox
from gatewatch.store import timers as timer_store
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
        self.metrics = Metrics(self.incident_counts, self.notification_counts)
        self.pager = Pager(config, self.metrics.template_errors_for)
        # Set by the running app: nudges the dispatcher right after a commit queued pages.
        self.outbox_written: Callable[[], None] = lambda: None

    def ingest(self, batch: AlertBatch) -> IngestResult:
        """Commit the batch and the pages it causes; only then may the sender get its 2xx."""
        now = self.clock.now()

        def work(connection: Connection) -> IngestResult:
            result = ingest_batch(connection, batch, self.router, self.severities, now)
            for incident_id in result.opened:
                self.pager.incident_opened(connection, incident_id, now)
            for incident_id in result.closed:
                self.pager.incident_resolved(connection, incident_id, batch.source, now)
            return result

        result = run_transaction(self.engine, work)
        if result.opened or result.closed:
            self.outbox_written()
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
        """Acknowledge; pending escalation steps are cancelled in the same transaction."""
        return self._human_action(
            acknowledge, self.pager.incident_acknowledged, incident_id, actor, note
        )

    def resolve(self, incident_id: int, actor: str, note: str | None) -> Incident:
        """Resolve by hand; timers stop and the channels hear of it, in one transaction."""
        return self._human_action(resolve, self.pager.incident_resolved, incident_id, actor, note)

    def _human_action(
        self,
        change: Callable[[Connection, int, str, str | None, datetime], Incident],
        follow_up: Callable[[Connection, int, str, datetime], None],
        incident_id: int,
        actor: str,
        note: str | None,
    ) -> Incident:
        now = self.clock.now()

        def work(connection: Connection) -> Incident:
            incident = change(connection, incident_id, actor, note, now)
            follow_up(connection, incident_id, actor, now)
            return incident

        incident = run_transaction(self.engine, work)
        self.outbox_written()
        return incident

    def run_due_timers(self) -> int:
        """Run the timers due now; the loop in `escalation.scheduler` calls this."""
        now = self.clock.now()
        ran = run_transaction(self.engine, lambda connection: self.pager.run_due(connection, now))
        for timer in ran:
            self.metrics.timer_lateness.observe((now - timer.due_at).total_seconds())
        return len(ran)

    def on_call(self, schedule_id: str | None, at: datetime) -> list[OnCallWindow]:
        schedules = self.config.schedules
        if schedule_id is not None:
            schedule = self.config.schedule(schedule_id)
            if schedule is None:
                known = ", ".join(s.id for s in schedules) or "none configured"
                raise NotFound(f"schedule {schedule_id!r} does not exist (known: {known})")
            schedules = [schedule]
        with read_transaction(self.engine) as connection:
            overrides = oncall_store.list_overrides(connection, ending_after=at)
        return [on_call_window(schedule, overrides, at) for schedule in schedules]

    def add_override(
        self, schedule_id: str, person_id: str, starts_at: datetime, ends_at: datetime, actor: str
    ) -> Override:
        if self.config.schedule(schedule_id) is None:
            raise NotFound(f"schedule {schedule_id!r} does not exist")
        if self.config.person(person_id) is None:
            raise NotFound(f"person {person_id!r} does not exist")
        if ends_at <= starts_at:
            raise Conflict("an override must end after it starts")
        now = self.clock.now()
        return run_transaction(
            self.engine,
            lambda connection: oncall_store.add_override(
                connection, schedule_id, person_id, starts_at, ends_at, actor, now
            ),
        )

    def overrides(self, schedule_id: str | None) -> list[Override]:
        with read_transaction(self.engine) as connection:
            return oncall_store.list_overrides(
                connection, schedule_id, ending_after=self.clock.now()
            )

    def delete_override(self, override_id: int) -> None:
        if not run_transaction(
            self.engine, lambda connection: oncall_store.delete_override(connection, override_id)
        ):
            raise NotFound(f"override {override_id} does not exist")

    def notifications(
        self, status: str | None, incident_id: int | None, limit: int
    ) -> list[outbox.Notification]:
        with read_transaction(self.engine) as connection:
            return outbox.list_notifications(connection, status, incident_id, limit)

    def resend(self, notification_id: int) -> None:
        now = self.clock.now()
        if not run_transaction(
            self.engine, lambda connection: outbox.resend(connection, notification_id, now)
        ):
            raise Conflict(f"notification {notification_id} is not dead (or does not exist)")
        self.outbox_written()

    def notification_counts(self) -> dict[str, int]:
        with read_transaction(self.engine) as connection:
            counts = outbox.count_by_status(connection)
            counts["timers_pending"] = timer_store.pending_count(connection)
            return counts

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
