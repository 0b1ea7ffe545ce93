"""The incident engine as one object the HTTP layer calls: each method is one transaction."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

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
from gatewatch.postmortem.response_times import ResponseTimes, response_times
from gatewatch.postmortem.review import PAGE_KINDS, Review
from gatewatch.routing import Router
from gatewatch.slo.shipped import shipped_specs
from gatewatch.slo.spec import SloSpec, load_spec
from gatewatch.store import alerts as alert_store
from gatewatch.store import incidents as incident_store
from gatewatch.store import oncall as oncall_store
from gatewatch.store import outbox
from gatewatch.store import reviews as review_store
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

        closed: list[Incident] = []

        def work(connection: Connection) -> IngestResult:
            closed.clear()
            result = ingest_batch(connection, batch, self.router, self.severities, now)
            for incident_id in result.opened:
                self.pager.incident_opened(connection, incident_id, now)
            for incident_id in result.closed:
                self.pager.incident_resolved(connection, incident_id, batch.source, now)
                incident = incident_store.get_incident(connection, incident_id)
                if incident is not None:
                    closed.append(incident)
            return result

        result = run_transaction(self.engine, work)
        for incident in closed:
            self.metrics.observe_response(incident)
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
        self.metrics.observe_response(incident)
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

    def review(self, incident_id: int) -> Review:
        """The incident's post-incident review: its recorded facts and what people wrote."""
        with read_transaction(self.engine) as connection:
            incident = incident_store.get_incident(connection, incident_id)
            if incident is None:
                raise NotFound(f"incident {incident_id} does not exist")
            stored = review_store.get_review(connection, incident_id)
            pages = outbox.list_notifications(connection, None, incident_id, 1000)
            return Review(
                incident=incident,
                alerts=incident_store.incident_alert_list(connection, incident_id),
                timeline=incident_store.timeline(connection, incident_id),
                pages=sorted(
                    (n for n in pages if n.kind in PAGE_KINDS), key=lambda n: n.created_at
                ),
                text=stored.text if stored else review_store.ReviewText(),
                items=review_store.list_action_items(connection, incident_id),
                updated_by=stored.updated_by if stored else None,
                updated_at=stored.updated_at if stored else None,
            )

    def save_review(self, incident_id: int, text: review_store.ReviewText, actor: str) -> None:
        now = self.clock.now()

        def work(connection: Connection) -> None:
            if incident_store.get_incident(connection, incident_id) is None:
                raise NotFound(f"incident {incident_id} does not exist")
            review_store.save_review(connection, incident_id, text, actor, now)
            add_note(connection, incident_id, actor, "Post-incident review updated", now)

        run_transaction(self.engine, work)

    def add_action_item(
        self, incident_id: int, text: str, owner: str, due: date, actor: str
    ) -> int:
        now = self.clock.now()

        def work(connection: Connection) -> int:
            if incident_store.get_incident(connection, incident_id) is None:
                raise NotFound(f"incident {incident_id} does not exist")
            return review_store.add_action_item(
                connection, incident_id, text, owner, due, actor, now
            )

        return run_transaction(self.engine, work)

    def set_action_item_status(self, item_id: int, status: str) -> None:
        if not run_transaction(
            self.engine,
            lambda connection: review_store.set_action_item_status(connection, item_id, status),
        ):
            raise NotFound(f"action item {item_id} does not exist")

    def response_report(self, since: datetime) -> list[ResponseTimes]:
        with read_transaction(self.engine) as connection:
            found, _ = incident_store.list_incidents(
                connection, incident_store.IncidentFilter(triggered_since=since), 100_000, 0
            )
        return response_times(found)

    def slo_specs(self) -> list[SloSpec]:
        """The SLOs this server watches: the configured spec files, or the shipped ones."""
        paths = self.config.slo.specs
        return [load_spec(path) for path in paths] if paths else shipped_specs()

    def escalation(
        self, incident_id: int
    ) -> tuple[timer_store.EscalationPlan | None, list[timer_store.TimerState]]:
        """The plan the incident froze at open and its timers: who was paged, who is next."""
        with read_transaction(self.engine) as connection:
            return (
                timer_store.load_plan(connection, incident_id),
                timer_store.incident_timers(connection, incident_id),
            )

    def alerts(self, status: AlertStatus | None, matchers: list[Matcher]) -> list[StoredAlert]:
        with read_transaction(self.engine) as connection:
            stored = alert_store.list_alerts(connection, status)
        return [alert for alert in stored if match_all(matchers, alert.labels)]

    def alert(self, fingerprint: str) -> StoredAlert | None:
        with read_transaction(self.engine) as connection:
            return alert_store.get_alert(connection, fingerprint)

    def incident_counts(self) -> dict[str, int]:
        with read_transaction(self.engine) as connection:
            return incident_store.count_by_status(connection)
